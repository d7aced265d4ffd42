"""The exit tier family: a kind made from ``engine/trading/exits/_template.py`` is one file plus
one registration, and then validates, compiles, trades (on both replay paths: a kind without
a column form is walked cycle by cycle with evaluate_exits while a position is open) and explains; the
registry refuses a module of the wrong shape and a kind registered twice; what the engine
needs to know about a tier comes from what its kind declares, never from its name."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import MappingProxyType, ModuleType

import pytest

from adapters.paper.broker import PaperBroker
from adapters.snapshots.columnar import read_columnar, read_recording
from engine.language.compiler import compile_ruleset
from engine.language.registry import RegistryError, registry
from engine.replay.dryrun import dry_run, dry_run_recording
from engine.replay.memstate import MemoryState
from engine.trading import exits
from engine.trading.exits import evaluate_exits
from engine.trading.exits.base import ExitSignal
from tests.kinds.conftest import ROOT, template_copy
from tests.lifecycle.helpers import at, position
from tests.lifecycle.helpers import plan as lifecycle_plan

TEMPLATE = ROOT / "engine" / "trading" / "exits" / "_template.py"
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
SLICE = 1500  # snapshots of the sample: about two days, a few dozen trades


def _register(monkeypatch, *modules: ModuleType) -> None:
    monkeypatch.setattr(exits, "TIERS", registry("exit tiers", (*exits.TIERS.values(), *modules), exits.REQUIRED))


def _add_tier(rules: Path, tier_yaml: str, after_in_priority: str = "stop_loss") -> None:
    """Append a tier to the copied exits.yaml and rank it right after ``after_in_priority``."""
    path = rules / "exits.yaml"
    text = path.read_text(encoding="utf-8")
    tier_id = tier_yaml.split("id:", 1)[1].split(",", 1)[0].strip()
    anchor = f"priority: [{after_in_priority}, "
    assert anchor in text
    text = text.replace(anchor, f"priority: [{after_in_priority}, {tier_id}, ")
    path.write_text(text + f"\n  - {tier_yaml}\n", encoding="utf-8")


@pytest.fixture()
def age_cap(tmp_path, monkeypatch) -> ModuleType:
    """The template copied as kind ``age_cap`` and registered (for this test only)."""
    module = template_copy(TEMPLATE, "age_cap", tmp_path)
    _register(monkeypatch, module)
    return module


@pytest.fixture(scope="module")
def sample_slice() -> list:
    return list(itertools.islice(read_columnar(SAMPLE), SLICE))


def _replay(plan, snapshots: list) -> tuple[dict, dict]:
    scalar, _, _ = dry_run(plan, iter(snapshots), broker=PaperBroker.for_plan(plan), store=MemoryState())
    fast, _, _ = dry_run_recording(
        plan, read_recording(SAMPLE), broker=PaperBroker.for_plan(plan), store=MemoryState(), end=snapshots[-1].ts
    )
    return scalar, fast


# ------------------------------------------------------------------ a new kind from the template


def test_a_kind_from_the_template_compiles_trades_on_both_paths_and_explains(
    age_cap, rules, generated_schemas, sample_slice
):
    _add_tier(rules, "{id: age_cap, kind: age_cap, max_age: 6m}")
    result = compile_ruleset(str(rules), ["paper"])
    assert result.ok, [str(d) for d in result.diagnostics]
    plan = result.plans["paper"]
    tier = plan.exits.tier("age_cap")
    assert tier.params == age_cap.Params(max_age=360.0)  # typed, compiled once, the duration in seconds
    assert plan.exits.priority[:2] == ("stop_loss", "age_cap")

    scalar, fast = _replay(plan, sample_slice)
    closed_by_it = [t for t in scalar["trades"] if t["exit_tier"] == "age_cap"]
    assert closed_by_it and all(t["exit_reason"] == "MAX_AGE" for t in closed_by_it)
    # no column form: the fast path steps the runner for it and gets exactly the scalar result
    for key in ("fingerprint", "trades", "decisions", "metrics", "open_positions"):
        assert fast[key] == scalar[key], key

    signal = ExitSignal("age_cap", "age_cap", "MAX_AGE", detail=MappingProxyType({"hold_s": 400.0, "max_age_s": 360.0}))
    assert exits.explain(signal) == "age_cap: the position is older than 6m"


def test_a_kind_from_the_template_is_refused_by_the_schema_when_it_is_not_registered(rules, generated_schemas):
    _add_tier(rules, "{id: age_cap, kind: age_cap, max_age: 6m}")
    result = compile_ruleset(str(rules), ["paper"])
    assert not result.ok and "paper" not in result.plans


def test_a_kind_from_the_template_gets_its_schema_checks(age_cap, rules, generated_schemas):
    _add_tier(rules, "{id: age_cap, kind: age_cap, max_age: 0s}")  # positive=True in its schema
    result = compile_ruleset(str(rules), ["paper"])
    assert not result.ok
    assert any("max_age" in d.path for d in result.diagnostics if d.is_error)


# ------------------------------------------------------------------ the registry's shape checks


def test_the_registry_refuses_a_module_missing_a_required_name(tmp_path):
    incomplete = template_copy(TEMPLATE, "no_explain", tmp_path)
    del incomplete.explain
    with pytest.raises(RegistryError, match="lacks explain"):
        registry("exit tiers", (*exits.TIERS.values(), incomplete), exits.REQUIRED)


def test_the_registry_refuses_a_kind_registered_twice(tmp_path):
    second_ladder = template_copy(TEMPLATE, "ladder", tmp_path)
    with pytest.raises(RegistryError, match="'ladder' is registered twice"):
        registry("exit tiers", (*exits.TIERS.values(), second_ladder), exits.REQUIRED)


def test_every_registered_kind_has_the_family_shape():
    assert list(exits.TIERS) == [
        "stop_loss",
        "timing_intelligence",
        "mtf_alignment",
        "signal_reversal",
        "profit_target",
        "time_exit",
        "ladder",
        "roi",
        "trailing_stop",
        "expression",
    ]
    for kind, module in exits.TIERS.items():
        assert kind == module.KIND and module.SUMMARY.endswith(".") and module.REASONS
        assert module.schema()["title"] == kind


# ------------------------------------------------------------------ declared capabilities, not kind names


def test_a_stop_is_whatever_kind_declares_a_stop_loss_field(tmp_path, monkeypatch, rules, generated_schemas):
    """Sizing, RB345 and RB346 find the stop through ``STOP_LOSS_FIELD``: without the stop_loss
    tier there is no stop (RB346 warns on paper); a new kind declaring the field is one."""
    hard_stop = template_copy(TEMPLATE, "hard_stop", tmp_path)
    hard_stop.STOP_LOSS_FIELD = "max_age"  # a stand-in: its number is read as the stop's loss
    _register(monkeypatch, hard_stop)
    text = (rules / "exits.yaml").read_text(encoding="utf-8")
    start = text.index("  - id: stop_loss")
    end = text.index('  # seed "Position Timing Intelligence"')
    (rules / "exits.yaml").write_text(
        text[:start].replace("priority: [stop_loss, ", "priority: [") + text[end:], encoding="utf-8"
    )
    risk = (rules / "risk.yaml").read_text(encoding="utf-8")
    (rules / "risk.yaml").write_text(risk.replace("exempt_tiers: [stop_loss]", "exempt_tiers: []"), encoding="utf-8")
    without = compile_ruleset(str(rules), ["paper"])
    assert [d.code for d in without.diagnostics] == ["RB346"]
    assert without.plans["paper"].exits.stops() == () and without.plans["paper"].exits.stop_loss_pct() is None

    text = (rules / "exits.yaml").read_text(encoding="utf-8").replace("priority: [", "priority: [hard_stop, ")
    (rules / "exits.yaml").write_text(text + "\n  - {id: hard_stop, kind: hard_stop, max_age: 2s}\n", encoding="utf-8")
    with_stop = compile_ruleset(str(rules), ["paper"])
    assert with_stop.ok and not with_stop.diagnostics
    stops = with_stop.plans["paper"].exits.stops()
    assert [(s.tier.id, s.loss_pct, s.field) for s in stops] == [("hard_stop", 2.0, "max_age")]
    assert with_stop.plans["paper"].exits.stop_loss_pct() == 2.0


def test_the_market_windows_come_from_the_kinds_that_declare_them():
    plan = compile_ruleset(str(ROOT / "rules"), ["paper"]).plans["paper"]
    assert plan.exits.ask("ema_cross") == ("5m", 9, 21)
    assert plan.exits.ask("alignment_timeframes") == ("1m", "5m", "15m", "1h", "4h", "1d")
    assert plan.exits.ask("no_such_capability") is None
    assert exits.action_chooser(plan.exits.tiers).id == "timing"


def test_a_partial_close_declared_behind_a_full_one_is_reported(rules):
    """RB342 across tiers from the declared triggers: a rung at or above a profit target
    ranked first can never fire."""
    path = rules / "exits.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("{fraction: 0.25, pnl_pct: 1.5, after: 90m}", "{fraction: 0.25, pnl_pct: 2.5, after: 90m}")
    )
    result = compile_ruleset(str(rules), ["paper"])
    found = [(d.code, d.path, d.message) for d in result.diagnostics]
    assert found == [
        (
            "RB342",
            "/tiers/6/rungs/2",
            "rung 3 can never fire: profit target profit_target (+2 %) closes the whole position first",
        )
    ]


# ------------------------------------------------------------------ explain


def test_each_kind_explains_its_own_answer():
    plan = lifecycle_plan()
    stop = evaluate_exits(plan, position(), {}, 97.0, at(30)).chosen
    assert exits.explain(stop) == "stop_loss: P&L -3 % is at or below the stop at -2.5 %"
    target = evaluate_exits(plan, position(), {}, 102.5, at(40)).chosen
    assert exits.explain(target) == "profit_target: P&L +2.5 % beats the target +2 %"
    rung = evaluate_exits(plan, position(), {}, 100.6, at(130)).partial
    assert exits.explain(rung) == "ladder: rung 1 taken at P&L +0.6 %, closing 0.25 of the initial size"
    assert not rung.closes_rest
    last = evaluate_exits(plan, position(ladder_done=(0, 1)), {}, 101.6, at(130)).partial
    assert last.rungs == (2,) and last.closes_rest  # the runner closes what is left, remnant included
