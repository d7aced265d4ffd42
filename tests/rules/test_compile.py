"""Compiling the default rule set: frozen plans, version ids, overlays, learnables."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from engine.language.compiler import compile_ruleset
from tests.rules.conftest import edit_once

ROOT = Path(__file__).resolve().parents[2]


def test_default_rules_compile_cleanly_for_both_profiles():
    result = compile_ruleset(str(ROOT / "rules"))
    assert result.ok and result.diagnostics == []
    assert sorted(result.plans) == ["live", "paper"]
    assert result.version.startswith("rs-") and len(result.version) == 19


def test_seed_numbers_reach_the_plan():
    paper = compile_ruleset(str(ROOT / "rules")).plans["paper"]
    weights = {c.id: c.weight for c in paper.signals.components}
    assert weights == {
        "liquidation_cascade": 0.22,
        "whale_flow": 0.20,
        "funding_rate": 0.16,
        "hurst": 0.08,
        "lead_lag": 0.08,
        "order_flow_momentum": 0.06,
        "fear_greed": 0.06,
        "volatility_skew": 0.05,
        "oi_velocity": 0.05,
        "oi_divergence": 0.04,
    }
    assert [(lv.name, lv.min_aligned, lv.min_confidence, lv.size_multiplier) for lv in paper.signals.levels] == [
        ("HIGH", 4, 0.6, 1.5),
        ("MEDIUM", 3, 0.4, 1.0),
        ("LOW", 2, 0.3, 0.5),
    ]
    assert paper.risk.grace_windows.standard == 120 and paper.risk.grace_windows.high_conviction == 300
    assert paper.exits.min_hold_s == 300
    assert paper.exits.tier("stop_loss").params.loss_pct == 2.5
    assert [r.fraction for r in paper.exits.tier("ladder").params.rungs] == [0.25, 0.5, 0.25]
    assert paper.schedules.job("bot_cycle").every_s == 60
    assert paper.schedules.job("nightly").at_minute == 7 * 60
    assert paper.venues.exchange("kraken_futures").symbols["BTCUSDT"] == "PF_XBTUSD"


def test_profiles_select_their_thresholds_and_overrides():
    plans = compile_ruleset(str(ROOT / "rules")).plans
    by_id = lambda plan: {c.id: c for c in plan.signals.components}  # noqa: E731
    assert by_id(plans["paper"])["liquidation_cascade"].thresholds.min_volume_usd == 50_000
    assert by_id(plans["live"])["liquidation_cascade"].thresholds.min_volume_usd == 100_000
    assert dataclasses.asdict(by_id(plans["live"])["fear_greed"].thresholds) == {"fear_below": 20, "greed_above": 80}
    assert plans["paper"].requirements.freeze_entries is False
    assert plans["live"].requirements.freeze_entries is True
    assert {c.id for c in plans["live"].requirements.checks} >= {"min_conviction_live"}
    assert "min_conviction_paper" not in {c.id for c in plans["live"].requirements.checks}


def test_plan_is_frozen_all_the_way_down():
    plan = compile_ruleset(str(ROOT / "rules")).plans["paper"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.version = "x"
    component = plan.signals.components[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        component.params.window = 1
    assert isinstance(plan.exits.tier("ladder").params.rungs, tuple)


def test_expressions_are_compiled_into_the_plan():
    plan = compile_ruleset(str(ROOT / "rules")).plans["paper"]
    check = next(c for c in plan.requirements.checks if c.id == "two_aligned")
    assert check.when({"aligned_count": 2.0}) is True
    assert check.when({"aligned_count": 1.0}) is False


def test_learnables_are_known_by_parameter_path():
    plan = compile_ruleset(str(ROOT / "rules")).plans["paper"]
    bounds = plan.learnables["signals.components.funding_rate.weight"]
    assert (bounds["min"], bounds["max"], bounds["max_step"]) == (0.04, 0.30, 0.02)
    assert plan.learnables["exits.optimal_hold.default"]["max_step"] == 900


def test_version_ignores_comments_and_layout_but_not_values(rules):
    before = compile_ruleset(str(rules)).version
    edit_once(rules / "risk.yaml", "kind: risk\n", "kind: risk   # a new comment\n\n")
    edit_once(rules / "risk.yaml", "  default: 3 ", "  default: 3.0 ")
    assert compile_ruleset(str(rules)).version == before
    edit_once(rules / "risk.yaml", "  default: 3.0 ", "  default: 4 ")
    assert compile_ruleset(str(rules)).version != before


def test_version_fills_defaults_so_writing_a_default_changes_nothing(rules):
    before = compile_ruleset(str(rules)).version
    edit_once(rules / "gates.yaml", "    same_direction_only: true\n", "")
    assert compile_ruleset(str(rules)).version == before


def test_learned_overlay_moves_a_value_within_its_bounds(rules):
    base = compile_ruleset(str(rules)).version
    (rules / "learned" / "0001-weights.yaml").write_text(
        f"kind: learned\nlearner: signal_weights\nbase_version: {base}\n"
        "created: 2026-01-01T00:00:00Z\nvalues:\n"
        "  signals.components.liquidation_cascade.weight: 0.24\n"
        "  signals.components.whale_flow.weight: 0.18\n"
        "provenance: {data_from: '2025-05-01', data_to: '2025-06-01', trades: 40}\n",
        encoding="utf-8",
    )
    result = compile_ruleset(str(rules))
    assert result.ok and result.diagnostics == [], result.diagnostics
    weights = {c.id: c.weight for c in result.plans["paper"].signals.components}
    assert weights["liquidation_cascade"] == 0.24 and weights["whale_flow"] == 0.18


def test_learned_overlay_that_breaks_the_weight_sum_is_reported_at_the_overlay(rules):
    base = compile_ruleset(str(rules)).version
    (rules / "learned" / "0001-weights.yaml").write_text(
        f"kind: learned\nlearner: signal_weights\nbase_version: {base}\n"
        "created: 2026-01-01T00:00:00Z\nvalues:\n"
        "  signals.components.liquidation_cascade.weight: 0.24\n"
        "provenance: {data_from: '2025-05-01', data_to: '2025-06-01', trades: 40}\n",
        encoding="utf-8",
    )
    result = compile_ruleset(str(rules))
    assert [d.code for d in result.diagnostics] == ["RB301"]
    assert result.plans == {}


def test_missing_profile_is_reported(rules):
    result = compile_ruleset(str(rules), ["backtest"])
    assert [d.code for d in result.diagnostics] == ["RB389"]


def test_many_independent_problems_are_reported_in_one_pass(rules):
    edit_once(rules / "signals.yaml", "direction_by: votes", "direction_by: vote")
    edit_once(rules / "risk.yaml", "  default: 3 ", "  default: 9 ")
    edit_once(rules / "requirements.yaml", 'when: "aligned_count >= 2"', 'when: "aligned_cnt >= 2"')
    edit_once(rules / "venues.yaml", "execution_venue: kraken_futures", "execution_venue: kraken")
    codes = sorted(d.code for d in compile_ruleset(str(rules)).diagnostics)
    assert codes == ["RB204", "RB320", "RB360", "RB413"]


def test_a_learned_file_tuned_on_another_version_is_flagged(rules):
    base = compile_ruleset(str(rules)).version
    (rules / "learned" / "0001-weights.yaml").write_text(
        f"kind: learned\nlearner: signal_weights\nbase_version: {base}\n"
        "created: 2026-01-01T00:00:00Z\nvalues:\n  signals.components.funding_rate.weight: 0.16\n"
        "provenance: {data_from: '2025-05-01', data_to: '2025-06-01', trades: 40}\n",
        encoding="utf-8",
    )
    assert compile_ruleset(str(rules)).diagnostics == []
    edit_once(rules / "risk.yaml", "  default: 3 ", "  default: 4 ")  # a human edit after the learner ran
    [finding] = compile_ruleset(str(rules)).diagnostics
    assert (finding.code, finding.severity.value, finding.line) == ("RB526", "warning", 3)


def test_an_override_into_an_invalid_file_adds_no_misleading_rb520(rules):
    """live.yaml overrides requirements.policy.freeze_entries; when requirements.yaml fails
    its schema, its own finding is the whole story, not also "no rule file of kind"."""
    edit_once(rules / "requirements.yaml", "  freeze_entries: false", "  freeze_entries: false\n  freeze_all: true")
    found = [(d.code, Path(d.file).name) for d in compile_ruleset(str(rules)).diagnostics]
    assert found == [("RB201", "requirements.yaml")]


def test_learnable_values_are_the_plans_current_values():
    result = compile_ruleset(str(ROOT / "rules"))
    plan = result.plans["paper"]
    assert set(plan.learnable_values) == set(plan.learnables)
    assert plan.learnable_values["signals.components.funding_rate.weight"] == 0.16
    assert plan.learnable_values["exits.optimal_hold.default"] == 7200
    assert result.canonical is not None and set(result.canonical) == {"base", "profiles", "learned"}
