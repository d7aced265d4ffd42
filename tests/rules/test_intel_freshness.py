"""RB392: a component that allows its liquidations less age than the CoinGlass plan's
history rows are apart is warned about, on a plan without the live liquidation list only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.language.compiler import compile_ruleset
from tests.rules.conftest import edit_once

SHIPPED = "max_input_age: {liquidations: 255m}"


def _findings(rules: Path) -> list[tuple[str, str, int, str]]:
    result = compile_ruleset(str(rules))
    return [(d.code, os.path.relpath(d.file, rules), d.line, d.severity.value) for d in result.diagnostics]


@pytest.mark.parametrize(
    ("plan", "age", "found"),
    [
        ("hobbyist", "15m", [("RB392", "signals.yaml", 15, "warning")]),
        ("hobbyist", "239m", [("RB392", "signals.yaml", 15, "warning")]),
        ("hobbyist", "4h", []),  # one row apart: fresh right up to the next row
        ("startup", "15m", []),  # the plan has the live liquidation list
        ("standard", "15m", []),
    ],
)
def test_liquidations_age_against_the_plan(rules, plan, age, found):
    edit_once(rules / "signals.yaml", SHIPPED, f"max_input_age: {{liquidations: {age}}}")
    edit_once(rules / "venues.yaml", "plan: hobbyist", f"plan: {plan}")
    assert _findings(rules) == found


def test_the_warning_says_how_often_the_component_can_vote(rules):
    edit_once(rules / "signals.yaml", SHIPPED, "max_input_age: {liquidations: 1h}")
    [warning] = compile_ruleset(str(rules)).diagnostics
    assert "liquidation_cascade" in warning.message and "25% of the time" in warning.message
    assert "4h" in warning.suggestion
