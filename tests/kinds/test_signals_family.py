"""The signal component family is open to a new kind: a copy of ``_template.py`` registered by
swapping the registry is validated, compiled into typed params, and run — on both dry-run
paths, where the fast path feeds it at its input's events and gives the same result; made
candle-fed without a column form, the fast path refuses it by name and ``--replay auto``
falls back to the scalar path — and the registry refuses a module of the wrong shape or a
kind registered twice."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from adapters.paper.broker import PaperBroker
from adapters.snapshots.columnar import read_columnar, read_recording
from engine.cli import main
from engine.language.compiler import compile_ruleset
from engine.language.registry import RegistryError, registry
from engine.replay.columns import components as column_forms
from engine.replay.columns.signals import ColumnSignals
from engine.replay.dryrun import DryRunState, compact_decision, dry_run, dry_run_recording
from engine.replay.memstate import MemoryState
from engine.replay.recording import NotReplayable
from engine.trading.runner import Runner, Sinks
from engine.trading.signals import components
from engine.trading.signals.components import funding_rate
from engine.trading.signals.engine import SignalEngine
from tests.kinds.conftest import template_copy

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "engine" / "trading" / "signals" / "components" / "_template.py"
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
KIND = "throwaway_signal"
CYCLES = 2500  # a slice of the sample with directed votes and trades
ELEMENT = f"""  - id: throwaway
    kind: {KIND}
    weight: 0.04
    max_input_age: {{}}
    params: {{window: 1h, full_confidence_multiple: 4}}
    thresholds:
      paper: {{min_change_pct: 0.3}}
      live: {{min_change_pct: 0.5}}
"""


@pytest.fixture()
def throwaway(tmp_path, monkeypatch) -> ModuleType:
    """The template copied as a new kind, registered for the test (the registry swapped)."""
    module = template_copy(TEMPLATE, KIND, tmp_path)
    swapped = registry("signal components", (*components.COMPONENTS.values(), module), components.REQUIRED)
    monkeypatch.setattr(components, "COMPONENTS", swapped)
    return module


def _replace_oi_divergence(rules: Path) -> None:
    """The throwaway takes oi_divergence's place and weight (0.04), so the weights still sum to 1."""
    path = rules / "signals.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: oi_divergence\n")
    end = text.index("\n\n", start) + 1
    path.write_text(text[:start] + ELEMENT + text[end:], encoding="utf-8")


def _compile(rules: Path):
    result = compile_ruleset(str(rules))
    assert result.ok, [d.message for d in result.diagnostics if d.is_error]
    return result.plans["paper"]


def _scalar(plan, sample, end: float) -> tuple[dict, list]:
    """The scalar dry-run's result and every EntryDecision it made."""
    state, seen = DryRunState(), []

    def universe(decision) -> None:
        seen.append(decision)
        if decision.direction != "NEUTRAL":
            state.decisions.append(compact_decision(decision))

    broker = PaperBroker.for_plan(plan)
    runner = Runner(plan, broker, MemoryState(), full_trail=False, sinks=Sinks(universe=universe))
    result, _, _ = dry_run(plan, iter(sample), broker=broker, store=MemoryState(), end=end, state=state, runner=runner)
    return result, seen


def test_a_copied_template_compiles_and_its_answers_are_in_both_dry_runs(throwaway, generated_schemas, rules):
    _replace_oi_divergence(rules)
    plan = _compile(rules)
    component = next(c for c in plan.signals.components if c.id == "throwaway")
    assert component.kind == KIND
    assert component.params == throwaway.Params(window=3600.0, full_confidence_multiple=4)
    assert component.thresholds == throwaway.Thresholds(min_change_pct=0.3)
    assert column_forms.column_form(KIND) is None  # event-fed: the fast path feeds it at price events

    sample = list(read_columnar(SAMPLE))
    end = sample[CYCLES].ts
    scalar, decisions = _scalar(plan, sample, end)
    fast, _, _ = dry_run_recording(
        plan, read_recording(SAMPLE), broker=PaperBroker.for_plan(plan), store=MemoryState(), end=end
    )
    assert scalar["metrics"]["trades"] > 0  # the comparison covers trading, not only NEUTRAL votes
    for key in ("decisions", "trades", "fingerprint", "metrics", "equity"):
        assert fast[key] == scalar[key], key

    answers = [(d, c) for d in decisions for c in d.signal.components if c.id == "throwaway"]
    assert {c.reasons[0] for _, c in answers} >= {"price_rising", "price_falling", "below_threshold"}
    directed = [(d, c) for d, c in answers if c.direction != "NEUTRAL" and d.direction == c.direction]
    assert directed, "the throwaway's vote is on the winning side of some decision"
    # the fast path's signal stage gives the very same answer at that cycle
    decision, answer = directed[0]
    recording = read_recording(SAMPLE)
    signals = ColumnSignals(plan, recording)
    signals.seek(int(recording.ts.tolist().index(decision.ts)))
    fast_answer = next(c for c in signals.evaluate(decision.symbol, decision.ts).components if c.id == "throwaway")
    assert fast_answer.answer == answer.answer


def test_a_candle_fed_kind_without_a_column_form_takes_the_scalar_path(
    throwaway, generated_schemas, rules, monkeypatch
):
    monkeypatch.setattr(throwaway, "INPUTS", ("candles_1m", "price"))
    _replace_oi_divergence(rules)
    plan = _compile(rules)
    with pytest.raises(NotReplayable, match=f"throwaway: signal component kind {KIND} reads one-minute candles"):
        ColumnSignals(plan, read_recording(SAMPLE))

    sample = list(read_columnar(SAMPLE))
    end = sample[CYCLES].ts
    args = ["dry-run", str(SAMPLE), "--rules", str(rules), "--to", str(end), "--format", "json"]
    refused = CliRunner().invoke(main, [*args, "--replay", "columns"])
    assert refused.exit_code == 2
    assert f"--replay columns: throwaway: signal component kind {KIND} reads one-minute candles" in refused.output
    auto = CliRunner().invoke(main, [*args, "--replay", "auto"])
    assert auto.exit_code == 0, auto.output
    summary = json.loads(auto.stdout)
    assert summary["replay"].startswith("scalar (throwaway: signal component kind")
    scalar, _ = _scalar(plan, sample, end)
    assert summary["fingerprint"] == scalar["fingerprint"]
    assert summary["metrics"] == json.loads(json.dumps(scalar["metrics"]))


def test_the_copied_template_explains_its_answers(throwaway):
    state = throwaway.TimeWindow(3600.0)
    for ts, price in ((0.0, 100.0), (60.0, 101.0)):
        state.push(ts, price)
    component = type("C", (), {})()
    component.params = throwaway.Params(window=3600.0, full_confidence_multiple=4)
    component.thresholds = throwaway.Thresholds(min_change_pct=0.5)
    answer = throwaway.evaluate(component, state)
    assert (answer.direction, answer.reasons) == ("LONG", ("price_rising",))
    assert components.explain(KIND, answer) == "price moved 1 % over the window: follow it, LONG"
    warming = throwaway.evaluate(component, throwaway.TimeWindow(3600.0))
    assert components.explain(KIND, warming) == "warming up: not enough data yet"


def test_the_schema_refuses_a_kind_nobody_registered(generated_schemas, rules):
    _replace_oi_divergence(rules)
    assert not compile_ruleset(str(rules)).ok


@pytest.mark.parametrize("name", ("KIND", *components.REQUIRED))
def test_the_registry_refuses_a_module_missing_a_required_name(tmp_path, name):
    broken = template_copy(TEMPLATE, "shapeless_signal", tmp_path)
    delattr(broken, name)
    with pytest.raises(RegistryError, match=f"lacks {name}"):
        registry("signal components", (*components.COMPONENTS.values(), broken), components.REQUIRED)


def test_the_registry_refuses_a_kind_registered_twice(tmp_path):
    twin = template_copy(TEMPLATE, funding_rate.KIND, tmp_path)
    with pytest.raises(RegistryError, match="registered twice"):
        registry("signal components", (*components.COMPONENTS.values(), twin), components.REQUIRED)


def test_every_answer_of_the_shipped_kinds_is_a_declared_reason_and_explained():
    """Over a slice of the sample, every reason a shipped kind answers with is in its REASONS
    or is one the family words for every kind, and each answer has an explain line."""
    plan = compile_ruleset(str(ROOT / "rules")).plans["paper"]
    engine = SignalEngine(plan)
    seen: dict[str, set[str]] = {}
    for snapshot in list(read_columnar(SAMPLE))[:CYCLES]:
        engine.update(snapshot)
        for symbol in engine.symbols:
            for result in engine.evaluate(symbol, snapshot.ts).components:
                seen.setdefault(result.kind, set()).add(result.reasons[0])
                assert components.explain(result.kind, result.answer)
    generic = ("missing:", "stale:", "error:", "override:")
    for kind, reasons in seen.items():
        own = {r for r in reasons if not r.startswith(generic)}
        assert own <= set(components.COMPONENTS[kind].REASONS), kind
    warm = {
        kind
        for kind, reasons in seen.items()
        if reasons - {"warming_up"} - {r for r in reasons if r.startswith(generic)}
    }
    assert {"hurst", "lead_lag", "fear_greed", "oi_velocity", "volatility_skew"} <= warm  # real answers were checked
