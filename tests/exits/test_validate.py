"""The three tier kinds in a rule set: they validate and compile from exits.yaml, their own
checks and the schema's come out as file:line:col diagnostics, and evaluate_exits runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.language.compiler import compile_ruleset
from engine.language.formats import as_text
from engine.trading import exits
from engine.trading.exits import evaluate_exits, expression, roi, trailing_stop
from tests.exits.helpers import rules_with
from tests.lifecycle.helpers import at, position

GOOD = """
  - id: roi
    kind: roi
    tiers:
      - {after: 0m, pnl_pct: 3.0}
      - {after: 30m, pnl_pct: {value: 0.5, learn: {min: 0.25, max: 1.0, max_step: 0.25}}}
      - {after: 60m, pnl_pct: 1.0}
  - id: trail
    kind: trailing_stop
    distance_pct: 0.75
  - id: cut
    kind: expression
    when: "pnl_pct < -1.5 and hold_s > 600"
"""


def _where(rules: Path, needle: str, within: str = "") -> tuple[int, int]:
    """(line, column), 1-based, of ``needle`` in exits.yaml: its only occurrence, or its first
    inside the only occurrence of ``within``."""
    text = (rules / "exits.yaml").read_text(encoding="utf-8")
    scope = within or needle
    assert text.count(scope) == 1, scope
    before = text[: text.index(scope) + scope.index(needle)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def _lines(rules: Path) -> list[str]:
    result = compile_ruleset(str(rules), ["paper"])
    assert not result.ok
    return as_text(d for d in result.diagnostics if d.is_error).splitlines()


def test_the_three_kinds_compile_with_their_defaults(tmp_path):
    rules = rules_with(tmp_path, GOOD, last=("roi", "trail", "cut"))
    result = compile_ruleset(str(rules), ["paper"])
    assert result.ok and not result.diagnostics, [str(d) for d in result.diagnostics]
    spec = result.plans["paper"].exits
    assert spec.tier("roi").params == roi.Params(
        tiers=(
            roi.Step(after=0.0, pnl_pct=3.0),
            roi.Step(after=1800.0, pnl_pct=0.5),
            roi.Step(after=3600.0, pnl_pct=1.0),
        )
    )
    assert spec.tier("trail").params == trailing_stop.Params(distance_pct=0.75, activate_above_pct=0)
    cut = spec.tier("cut")
    assert cut.params == expression.Params(when="pnl_pct < -1.5 and hold_s > 600", reason="EXPRESSION")
    assert cut.expressions["when"].names == {"pnl_pct", "hold_s"}
    assert "exits.tiers.roi.tiers.1.pnl_pct" in result.plans["paper"].learnables  # learners may move it


def test_evaluate_exits_runs_them_in_priority_order(tmp_path):
    rules = rules_with(tmp_path, GOOD, first=("cut", "trail"), last=("roi",))
    plan = compile_ruleset(str(rules), ["paper"]).plans["paper"]
    opened = position(leverage=1.0, alignment_at_entry=None)
    # 45 min, +0.75 %: the ROI in force is 0.5 % (the profit target's 2 % is not reached); a full
    # exit, so it wins over the ladder's rung 1 ranked before it
    chosen = evaluate_exits(plan, opened, {}, 100.75, at(45)).chosen
    assert (chosen.tier, chosen.reason) == ("roi", "ROI")
    assert exits.explain(chosen) == "roi: P&L +0.75 % beats +0.5 %, the ROI of entry 2 (in force from 30m)"
    # 45 min, peak +2 %, now +1 %: the trailing stop (ranked before roi) closes
    chosen = evaluate_exits(plan, position(leverage=1.0, peak_pnl_pct=2.0), {}, 101.0, at(45)).chosen
    assert (chosen.tier, chosen.reason) == ("trail", "TRAILING_STOP")
    # 45 min, -2 %: the expression (ranked before the trailing stop) closes; the stop at -2.5 % does not
    chosen = evaluate_exits(plan, opened, {}, 98.0, at(45)).chosen
    assert (chosen.tier, chosen.reason) == ("cut", "EXPRESSION")
    # inside the minimum hold only the stop closes: none of the three is exempt
    assert evaluate_exits(plan, opened, {}, 98.0, at(4)).chosen is None


def test_roi_table_errors_point_at_the_entry(tmp_path):
    rules = rules_with(
        tmp_path,
        """
  - id: roi
    kind: roi
    tiers:
      - {after: 5m, pnl_pct: 2.0}
      - {after: 60m, pnl_pct: 1.0}
      - {after: 30m, pnl_pct: 0.5}
      - {after: 30m, pnl_pct: 0.25}
""",
        last=("roi",),
    )
    exits_yaml = str(rules / "exits.yaml")
    first, unordered, repeated = (
        _where(rules, "5m, pnl_pct: 2.0"),
        _where(rules, "30m, pnl_pct: 0.5"),
        _where(rules, "30m, pnl_pct: 0.25"),
    )
    assert _lines(rules) == [
        f"{exits_yaml}:{first[0]}:{first[1]}: RB348 error: the first ROI entry starts at 5m: no target is in "
        "force before it (start the table with an entry `after: 0m`)",
        f"{exits_yaml}:{unordered[0]}:{unordered[1]}: RB349 error: ROI entry 3 (after 30m) does not come after "
        "entry 2 (after 1h): the ages must be strictly ascending (order the entries by `after`, each age once)",
        f"{exits_yaml}:{repeated[0]}:{repeated[1]}: RB349 error: ROI entry 4 (after 30m) does not come after "
        "entry 3 (after 30m): the ages must be strictly ascending (order the entries by `after`, each age once)",
    ]


def test_a_roi_entry_is_a_full_exit_for_the_whole_file_checks(tmp_path):
    """RB342 across tiers: ranked before the ladder, a table whose targets from 30 min on are
    at most 1 % closes the whole position before rungs 2 (1 % after 60 min) and 3 could."""
    rules = rules_with(
        tmp_path,
        """
  - id: roi
    kind: roi
    tiers:
      - {after: 0m, pnl_pct: 2.0}
      - {after: 30m, pnl_pct: 0.5}
      - {after: 60m, pnl_pct: 1.0}
""",
        first=("roi",),
    )
    codes = [(d.code, d.path) for d in compile_ruleset(str(rules), ["paper"]).diagnostics]
    assert codes == [("RB342", "/tiers/6/rungs/1"), ("RB342", "/tiers/6/rungs/2")]


@pytest.mark.parametrize(
    ("tier_yaml", "needle", "code", "path"),
    [
        ("{id: trail, kind: trailing_stop, distance_pct: 0}", "0}", "RB205", "/tiers/7/distance_pct"),
        (
            "{id: trail, kind: trailing_stop, distance_pct: 1, activate_above_pct: -1}",
            "-1}",
            "RB205",
            "/tiers/7/activate_above_pct",
        ),
        ('{id: cut, kind: expression, when: "pnl_pct < -1", reason: Cut-Now}', "Cut-Now", "RB206", "/tiers/7/reason"),
        ("{id: cut, kind: expression}", "{id: cut", "RB202", "/tiers/7"),
        ("{id: roi, kind: roi, tiers: []}", "[]", "RB207", "/tiers/7/tiers"),
    ],
)
def test_schema_errors_come_out_at_their_place(tmp_path, tier_yaml, needle, code, path):
    tier_id = tier_yaml.split("id: ", 1)[1].split(",", 1)[0].rstrip("}")
    rules = rules_with(tmp_path, f"\n  - {tier_yaml}\n", last=(tier_id,))
    result = compile_ruleset(str(rules), ["paper"])
    line, col = _where(rules, needle, within=tier_yaml)
    found = [(d.code, d.file, d.line, d.col, d.path) for d in result.diagnostics]
    assert found == [(code, str(rules / "exits.yaml"), line, col, path)], as_text(result.diagnostics)


def test_a_bad_condition_is_reported_inside_the_expression(tmp_path):
    tier_yaml = '{id: cut, kind: expression, when: "pnl_pct < -1 and algnment < 0.2"}'
    rules = rules_with(tmp_path, f"\n  - {tier_yaml}\n", last=("cut",))
    result = compile_ruleset(str(rules), ["paper"])
    line, col = _where(rules, "algnment")
    errors = [d for d in result.diagnostics if d.is_error]
    assert [(d.code[:3], d.line, d.col) for d in errors] == [("RB4", line, col)], as_text(errors)
    assert "alignment" in errors[0].suggestion + errors[0].message
