"""Rules that silently stop exiting: a grace window or minimum hold longer than any position is
held (RB390), a ladder rung that waits longer than that (RB347). The age by which every position
is closed comes from what the tier kinds declare (``hold_limit``, ``triggers``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from engine.language.compiler import compile_ruleset
from engine.language.expr.bounds import bounds
from engine.trading.exits import exit_env
from engine.trading.exits.base import ALWAYS_IN_ENV
from tests.rules.conftest import edit_once

ROOT = Path(__file__).resolve().parents[2]
FORCE_EXIT = 'when: "pnl_pct < -2.5 or hold_s > optimal_hold_s * 2"'
RUNG_3 = "{fraction: 0.25, pnl_pct: 1.5, after: 90m}"


def errors(rules: Path) -> list[tuple[str, str, int, str]]:
    result = compile_ruleset(str(rules))
    return [(d.code, Path(d.file).name, d.line, d.message) for d in result.diagnostics if d.is_error]


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_default_rules_stay_valid_and_close_every_position_by_six_hours():
    result = compile_ruleset(str(ROOT / "rules"))
    assert result.ok and result.diagnostics == []
    tier, limit = result.plans["paper"].exits.hold_limit()
    # FORCE_EXIT at twice the optimal hold: 2 h, stretched at most 1.5x by HOLD_EXTENDED
    assert (tier.id, limit.age_s, limit.inclusive) == ("timing", 6 * 3600, False)
    assert limit.where == ("actions", 0, "when")


def test_a_thirty_day_grace_window_is_an_error_at_its_value(rules):
    edit_once(rules / "risk.yaml", "  standard: 2m ", "  standard: 30d ")
    edit_once(rules / "risk.yaml", "  high_conviction: 5m ", "  high_conviction: 30d ")
    found = errors(rules)
    assert [(c, f, n) for c, f, n, _ in found] == [
        ("RB390", "risk.yaml", line_of(rules / "risk.yaml", "standard: 30d")),
        ("RB390", "risk.yaml", line_of(rules / "risk.yaml", "high_conviction: 30d")),
    ]
    message = found[0][3]
    assert "30d" in message and "timing closes every position by 6h" in message
    assert "only stop_loss can close" in message and "hold_s > optimal_hold_s * 2" in message


def test_the_grace_window_may_reach_but_not_pass_the_hold_limit(rules):
    edit_once(rules / "risk.yaml", "  high_conviction: 5m ", "  high_conviction: 6h ")
    assert errors(rules) == []
    edit_once(rules / "risk.yaml", "  high_conviction: 6h ", "  high_conviction: 361m ")
    assert [c for c, *_ in errors(rules)] == ["RB390"]


def test_a_minimum_hold_longer_than_any_position_is_held_is_an_error(rules):
    edit_once(rules / "exits.yaml", "min_hold: 300s ", "min_hold: 2d ")
    found = errors(rules)
    assert [(c, f, n) for c, f, n, _ in found] == [("RB390", "exits.yaml", line_of(rules / "exits.yaml", "min_hold:"))]
    assert "minimum hold 2d" in found[0][3]


def test_a_rung_after_the_forced_exit_is_an_error_at_its_after(rules):
    edit_once(rules / "exits.yaml", RUNG_3, "{fraction: 0.25, pnl_pct: 1.5, after: 30h}")
    found = errors(rules)
    line = line_of(rules / "exits.yaml", "after: 30h}")
    assert [(c, f, n) for c, f, n, _ in found] == [("RB347", "exits.yaml", line)]
    assert "rung 3 waits 30h" in found[0][3] and "closed by 6h (timing: FORCE_EXIT" in found[0][3]
    diagnostic = next(d for d in compile_ruleset(str(rules)).diagnostics if d.code == "RB347")
    assert diagnostic.path.endswith("/rungs/2/after")


def test_a_rung_at_the_forced_exit_itself_can_still_fire(rules):
    """FORCE_EXIT fires only once the age exceeds 6 h: a rung due at 6 h gets its cycle."""
    edit_once(rules / "exits.yaml", RUNG_3, "{fraction: 0.25, pnl_pct: 1.5, after: 6h}")
    assert errors(rules) == []


def test_a_rung_a_non_closing_timing_action_accelerates_is_reachable(rules):
    edit_once(rules / "exits.yaml", RUNG_3, "{fraction: 0.25, pnl_pct: 1.5, after: 30h}")
    edit_once(rules / "exits.yaml", "accelerate_on: [EXIT_NOW, TAKE_PROFIT]", "accelerate_on: [EXIT_NOW, EXIT_SOONER]")
    assert errors(rules) == []


def test_a_larger_hold_multiplier_moves_the_limit(rules):
    edit_once(rules / "exits.yaml", "hold_multipliers: {HOLD_EXTENDED: 1.5,", "hold_multipliers: {HOLD_EXTENDED: 3,")
    edit_once(rules / "risk.yaml", "  high_conviction: 5m ", "  high_conviction: 11h ")
    assert errors(rules) == []  # the limit is now 2 h x 3 x 2 = 12 h
    edit_once(rules / "risk.yaml", "  high_conviction: 11h ", "  high_conviction: 13h ")
    assert "closes every position by 12h" in errors(rules)[0][3]


def test_without_a_forced_exit_time_exits_and_profit_targets_together_set_the_limit(rules):
    edit_once(rules / "exits.yaml", FORCE_EXIT, 'when: "pnl_pct < -2.5"')
    edit_once(rules / "risk.yaml", "  high_conviction: 5m ", "  high_conviction: 30d ")
    assert errors(rules) == []  # nothing closes a position between +0.5 % and +2 % at any age
    edit_once(rules / "exits.yaml", "{after: 8h, below_pnl_pct: 0.5}", "{after: 8h, below_pnl_pct: 2.5}")
    [(code, _, _, message)] = errors(rules)
    assert code == "RB390"
    assert "by 8h (time_exit closing below +2.5 % and profit_target above +2 % from 8h)" in message


def test_a_forced_exit_behind_an_input_that_may_be_missing_is_not_counted(rules):
    """``alignment`` is absent while the alignment warms up: the condition is then not judged
    at all, so the hold part after it is no sure exit."""
    edit_once(rules / "exits.yaml", FORCE_EXIT, 'when: "alignment < 0 or hold_s > optimal_hold_s * 2"')
    edit_once(rules / "exits.yaml", RUNG_3, "{fraction: 0.25, pnl_pct: 1.5, after: 30h}")
    assert errors(rules) == []
    edit_once(rules / "exits.yaml", 'when: "alignment < 0 or hold', 'when: "pnl_pct < -3 or hold')
    assert [c for c, *_ in errors(rules)] == ["RB347"]


def test_a_forced_exit_after_a_non_closing_action_is_not_counted(rules):
    """Actions are checked top-down: a HOLD_EXTENDED that holds first keeps the position open."""
    text = (rules / "exits.yaml").read_text()
    force = '      - {action: FORCE_EXIT, when: "pnl_pct < -2.5 or hold_s > optimal_hold_s * 2"}'
    hold = '      - {action: HOLD_EXTENDED, when: "alignment >= 0.75 and momentum_continuing"}'
    force_line = next(line for line in text.splitlines() if line.startswith(force))
    hold_line = next(line for line in text.splitlines() if line.startswith(hold))
    (rules / "exits.yaml").write_text(
        text.replace(force_line, "@@").replace(hold_line, force_line).replace("@@", hold_line)
    )
    edit_once(rules / "exits.yaml", RUNG_3, "{fraction: 0.25, pnl_pct: 1.5, after: 30h}")
    assert errors(rules) == []


def test_the_names_a_forced_exit_may_read_first_are_always_in_the_exit_vocabulary():
    plan = compile_ruleset(str(ROOT / "rules")).plans["paper"]

    class Position:
        symbol, direction, sign, entry_price, leverage = "BTCUSDT", "LONG", 1, 100.0, 3
        peak_pnl_pct, opened_at, hold_multiplier, alignment_at_entry, trend_at_entry = 0.0, 0.0, 1.0, None, None

    assert set(exit_env(plan, Position(), {}, 101.0, 60.0)) >= ALWAYS_IN_ENV


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x * 2", (2.0, 8.0)),
        ("x - y", (-9.0, 3.0)),
        ("-x + 1", (-3.0, 0.0)),
        ("x / y", (1 / 10, 4.0)),
        ("max(x, y) * 0.5", (0.5, 5.0)),
        ("x / (y - 5)", None),  # the divisor's range holds zero
        ("x + z", None),  # z has no range
        ("log(x)", None),
    ],
)
def test_bounds_hold_every_value_the_expression_can_take(text, expected):
    ranges = {"x": (1.0, 4.0), "y": (1.0, 10.0)}
    assert bounds(ast.parse(text, mode="eval").body, ranges) == expected
