"""`kind: expression` signal components over declared indicators: what they answer and what
`validate` says about them (tests/dryrun/test_expression_replay.py: both replay paths)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from engine.language.compiler import compile_ruleset
from engine.trading.signals.components import expression

ROOT = Path(__file__).resolve().parents[2]

INDICATORS = {
    "kind": "indicators",
    "indicators": [
        {"id": "ema_fast", "kind": "ema", "params": {"period": 9}},
        {"id": "ema_slow", "kind": "ema", "params": {"period": 21}},
        {"id": "rsi", "kind": "rsi", "timeframe": "5m", "params": {"period": 14}},
        {"id": "bb", "kind": "bollinger", "timeframe": "15m", "params": {"period": 20}},
    ],
}
CROSS = {
    "id": "ema_cross",
    "kind": "expression",
    "weight": 0.7,
    "params": {
        "long_when": "ema_fast > ema_slow and prev(ema_fast) <= prev(ema_slow)",
        "short_when": "ema_fast < ema_slow and prev(ema_fast) >= prev(ema_slow)",
        "confidence": "min(1, abs(ema_fast - ema_slow) / ema_slow * 2000)",
    },
}
BANDS = {
    "id": "bands",
    "kind": "expression",
    "weight": 0.3,
    "params": {"long_when": "price < bb_lower and rsi < 35", "short_when": "price > bb_upper and rsi > 65"},
}


def expression_rules(tmp_path: Path, components=(CROSS, BANDS), indicators=INDICATORS, name="rules") -> Path:
    """The default rules with indicators.yaml and a signals.yaml of expression components only;
    one aligned component is enough to trade."""
    rules = tmp_path / name
    shutil.copytree(ROOT / "rules", rules)
    (rules / "indicators.yaml").write_text(yaml.safe_dump(indicators, sort_keys=False), encoding="utf-8")
    signals = yaml.safe_load((rules / "signals.yaml").read_text(encoding="utf-8"))
    signals["components"] = list(components)
    signals["voting"]["min_aligned"] = 1
    signals["conviction"]["levels"] = [
        {"name": "HIGH", "min_aligned": 1, "min_confidence": 0.0, "size_multiplier": 1.0}
    ]
    (rules / "signals.yaml").write_text(yaml.safe_dump(signals, sort_keys=False), encoding="utf-8")
    requirements = rules / "requirements.yaml"
    text = requirements.read_text(encoding="utf-8")
    requirements.write_text(text.replace('when: "aligned_count >= 2"', 'when: "aligned_count >= 1"'), encoding="utf-8")
    return rules


def _compile(rules: Path):
    result = compile_ruleset(str(rules))
    assert result.ok, [d.render() if hasattr(d, "render") else str(d) for d in result.diagnostics]
    return result.plans["paper"]


def _messages(rules: Path) -> list[str]:
    return [
        f"{Path(d.file).name}:{d.line}:{d.col}: {d.code} {d.message}" for d in compile_ruleset(str(rules)).diagnostics
    ]


# ------------------------------------------------------------------ answers


def _component(tmp_path: Path):
    plan = _compile(expression_rules(tmp_path))
    return next(c for c in plan.signals.components if c.id == "ema_cross")


def test_a_cross_votes_once_on_the_update_where_it_happens(tmp_path):
    component = _component(tmp_path)
    state = expression.new_state(component)
    assert state.names == {"ema_fast", "ema_slow"}
    assert expression.evaluate(component, state).reasons == ("warming_up",)
    expression.observe(state, {"ema_fast": 99.0, "ema_slow": 100.0, "price": 1.0})
    assert expression.evaluate(component, state).reasons == ("missing:prev(ema_fast)",)  # no earlier values yet
    expression.observe(state, {"ema_fast": 101.0, "ema_slow": 100.0})
    crossed = expression.evaluate(component, state)
    assert (crossed.direction, crossed.reasons) == ("LONG", ("long_when",))
    assert crossed.confidence == pytest.approx(min(1, 1 / 100 * 2000))
    assert crossed.inputs["prev(ema_fast)"] == 99.0
    expression.observe(state, {"ema_fast": 102.0, "ema_slow": 100.0})
    assert expression.evaluate(component, state).reasons == ("no_condition",)  # above, but no cross now
    expression.observe(state, {"ema_fast": 99.5, "ema_slow": 100.0})
    assert expression.evaluate(component, state).direction == "SHORT"


def test_an_input_still_warming_makes_it_neutral_and_a_fault_is_an_error(tmp_path):
    component = _component(tmp_path)
    state = expression.new_state(component)
    expression.observe(state, {"ema_fast": 99.0})
    expression.observe(state, {"ema_fast": 101.0})
    assert expression.evaluate(component, state).reasons == ("missing:ema_slow",)
    expression.observe(state, {"ema_fast": 101.0, "ema_slow": 0.0})
    expression.observe(state, {"ema_fast": -1.0, "ema_slow": 0.0})
    faulted = expression.evaluate(component, state)  # the cross holds; its confidence divides by 0
    assert (faulted.direction, faulted.reasons) == ("NEUTRAL", ("error:RuleNumericError",))


def test_both_conditions_at_once_is_no_vote():
    compiled = {
        "long_when": lambda env: True,
        "short_when": lambda env: True,
        "confidence": lambda env: 1.0,
    }
    assert expression.answer(compiled, {}).reasons == ("both_conditions",)


# ------------------------------------------------------------------ validate


def test_validate_names_file_line_column_and_suggests(tmp_path):
    typo = dict(CROSS, params=dict(CROSS["params"], long_when="ema_fast > ema_slw"))
    rules = expression_rules(tmp_path, components=(typo, BANDS))
    found = _messages(rules)
    assert any(m.startswith("signals.yaml:") and "RB413" in m and "did you mean 'ema_slow'" in m for m in found), found


def test_prev_is_refused_outside_expression_components(tmp_path):
    rules = expression_rules(tmp_path)
    exits_file = rules / "exits.yaml"
    text = exits_file.read_text(encoding="utf-8")
    exits_file.write_text(
        text.replace('when: "alignment >= 0.75 and momentum_continuing"', 'when: "prev(rsi) < rsi"'), encoding="utf-8"
    )
    found = _messages(rules)
    assert any(m.startswith("exits.yaml:") and "RB414 prev() is not available here" in m for m in found), found


def test_a_component_with_no_condition_is_refused(tmp_path):
    empty = {"id": "nothing", "kind": "expression", "weight": 0.7, "params": {}}
    found = _messages(expression_rules(tmp_path, components=(empty, BANDS)))
    assert any("RB306" in m for m in found), found


def test_declared_names_reach_gates_and_exits(tmp_path):
    rules = expression_rules(tmp_path)
    exits_file = rules / "exits.yaml"
    text = exits_file.read_text(encoding="utf-8")
    exits_file.write_text(
        text.replace('when: "alignment >= 0.75 and momentum_continuing"', 'when: "rsi > 50 and bb_middle > 0"'),
        encoding="utf-8",
    )
    plan = _compile(rules)
    timing = next(t for t in plan.exits.tiers if t.kind == "timing_intelligence")
    assert any({"rsi", "bb_middle"} <= e.names for e in timing.expressions.values())
