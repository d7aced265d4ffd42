"""The gate family is open to a new kind: a copy of ``_template.py`` registered by swapping the
registry is validated, compiled, checked and run — on both dry-run paths, where the fast path,
having no column form for it, leaves its rows to the runner and gives the same result — and the
registry refuses a module of the wrong shape or a kind registered twice."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from adapters.paper.broker import PaperBroker
from adapters.snapshots.columnar import read_columnar, read_recording
from engine.language.compiler import compile_ruleset
from engine.language.registry import RegistryError, registry
from engine.replay.columns import gate_forms
from engine.replay.dryrun import dry_run, dry_run_recording
from engine.replay.memstate import MemoryState
from engine.trading import gates
from engine.trading.gates import fee_gate
from tests.kinds.conftest import template_copy

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "engine" / "trading" / "gates" / "_template.py"
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
KIND = "throwaway_gate"
CYCLES = 2500  # a slice of the sample with blocked and traded entries


@pytest.fixture()
def throwaway(tmp_path, monkeypatch) -> ModuleType:
    """The template copied as a new kind, registered for the test (the registry swapped)."""
    module = template_copy(TEMPLATE, KIND, tmp_path)
    monkeypatch.setattr(gates, "GATES", registry("gates", (*gates.GATES.values(), module), gates.REQUIRED))
    return module


def _add_first_gate(rules: Path, element: str) -> None:
    path = rules / "gates.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("\nchain:\n") == 1
    path.write_text(text.replace("\nchain:\n", f"\nchain:\n{element}", 1), encoding="utf-8")


def _compile(rules: Path):
    result = compile_ruleset(str(rules))
    assert result.ok, [d.message for d in result.diagnostics if d.is_error]
    return result.plans["paper"]


def test_a_copied_template_compiles_and_its_answers_are_in_both_dry_runs(throwaway, generated_schemas, rules):
    _add_first_gate(rules, f"  - id: throwaway\n    kind: {KIND}\n    min_confidence: 0.6\n")
    plan = _compile(rules)
    gate = plan.gates.chain[0]
    assert (gate.id, gate.kind, gate.enabled) == ("throwaway", KIND, True)
    assert gate.params == throwaway.Params(min_confidence=0.6)
    assert gate_forms.form_of(KIND) is None  # the fast path has to step the runner at its rows

    sample = list(read_columnar(SAMPLE))
    end = sample[CYCLES].ts
    scalar, _, _ = dry_run(plan, iter(sample), broker=PaperBroker.for_plan(plan), store=MemoryState(), end=end)
    fast, _, _ = dry_run_recording(
        plan, read_recording(SAMPLE), broker=PaperBroker.for_plan(plan), store=MemoryState(), end=end
    )
    assert scalar["metrics"]["trades"] > 0  # the comparison covers trading, not only refusals
    for key in ("decisions", "trades", "fingerprint", "metrics", "equity"):
        assert fast[key] == scalar[key], key
    blockers = [d["first_blocker"] for d in scalar["decisions"] if d["outcome"] == "NO_TRADE"]
    assert "CONFIDENCE_BELOW_MIN" in blockers
    low = [d for d in scalar["decisions"] if d["first_blocker"] == "CONFIDENCE_BELOW_MIN"]
    assert all(d["confidence"] < 0.6 for d in low)
    assert any(d["confidence"] >= 0.6 and d["first_blocker"] != "CONFIDENCE_BELOW_MIN" for d in scalar["decisions"])


def test_the_copied_template_explains_its_answer(throwaway):
    answer = gates.GateResult("t", KIND, 0.0, True, "CONFIDENCE_BELOW_MIN", {"confidence": 0.25, "min_confidence": 0.5})
    assert throwaway.explain(answer) == "signal confidence 0.250 is below the minimum 0.5"
    assert (
        gates.explain(answer)
        == "signal confidence 0.250 is below the minimum 0.5  [confidence=0.25 min_confidence=0.5]"
    )


def test_a_kind_that_must_be_last_is_refused_elsewhere_without_naming_it(
    throwaway, generated_schemas, rules, monkeypatch
):
    monkeypatch.setattr(throwaway, "MUST_BE_LAST", True, raising=False)
    _add_first_gate(rules, f"  - id: throwaway\n    kind: {KIND}\n    min_confidence: 0.6\n")
    result = compile_ruleset(str(rules))
    found = [d for d in result.diagnostics if d.code == "RB312"]
    assert [d.path for d in found] == ["/chain/0"]
    assert found[0].message == f"the {KIND} gate must be the last gate of the chain"


def test_the_schema_refuses_a_kind_nobody_registered(generated_schemas, rules):
    _add_first_gate(rules, f"  - id: throwaway\n    kind: {KIND}\n    min_confidence: 0.6\n")
    assert not compile_ruleset(str(rules)).ok


@pytest.mark.parametrize("name", ("KIND", *gates.REQUIRED))
def test_the_registry_refuses_a_module_missing_a_required_name(tmp_path, name):
    broken = template_copy(TEMPLATE, "shapeless_gate", tmp_path)
    delattr(broken, name)
    with pytest.raises(RegistryError, match=f"lacks {name}"):
        registry("gates", (*gates.GATES.values(), broken), gates.REQUIRED)


def test_the_registry_refuses_a_kind_registered_twice(tmp_path):
    twin = template_copy(TEMPLATE, fee_gate.KIND, tmp_path)
    with pytest.raises(RegistryError, match="registered twice"):
        registry("gates", (*gates.GATES.values(), twin), gates.REQUIRED)
