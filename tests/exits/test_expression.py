"""The ``expression`` exit tier: closes while its condition holds, with its own reason
(upper-cased); a numeric fault closes (with a note), a missing input does not."""

from __future__ import annotations

import math

from engine.trading import exits
from engine.trading.exits import expression
from tests.exits.helpers import context, tier


def _tier(when: str, reason: str = "expression"):
    params = expression.compile_params({"id": "x", "kind": "expression", "when": when, "reason": reason})
    return tier(expression, params, "x", when=when)


def test_it_fires_where_the_condition_holds_with_its_reason_upper_cased():
    t = _tier("pnl_pct < -1 and hold_s > 600", "losing_long")
    assert t.params.reason == "LOSING_LONG"
    signal = expression.evaluate(t, context(-1.5, hold_s=900.0))
    assert signal is not None and signal.full and signal.reason == "LOSING_LONG"
    assert dict(signal.detail) == {"pnl_pct": -1.5, "when": "pnl_pct < -1 and hold_s > 600"}
    assert expression.evaluate(t, context(-1.5, hold_s=300.0)) is None
    assert expression.evaluate(t, context(-0.5, hold_s=900.0)) is None


def test_the_default_reason_is_expression():
    t = _tier("pnl_pct > 3")
    assert expression.evaluate(t, context(4.0)).reason == "EXPRESSION"


def test_a_missing_input_does_not_fire():
    t = _tier("alignment < 0.2")
    assert expression.evaluate(t, context(-1.0)) is None
    assert expression.evaluate(t, context(-1.0, alignment=0.1)) is not None


def test_a_missing_input_stops_the_condition_where_evaluation_reaches_it():
    assert expression.evaluate(_tier("pnl_pct < -1 or alignment < 0.2"), context(-2.0)) is not None
    assert expression.evaluate(_tier("alignment < 0.2 or pnl_pct < -1"), context(-2.0)) is None


def test_a_numeric_fault_fires_with_a_note():
    t = _tier("log(peak_pnl_pct - pnl_pct) < -3")  # log(0) at a new peak
    signal = expression.evaluate(t, context(1.0, peak=0.5))
    assert signal is not None and signal.reason == "EXPRESSION"
    assert signal.detail["note"].startswith("fault: ")
    assert exits.explain(signal).startswith("x: `log(peak_pnl_pct - pnl_pct) < -3` could not be evaluated (fault: ")
    assert exits.explain(signal).endswith("; the position closes (P&L +1 %)")
    assert expression.evaluate(t, context(1.0, peak=2.0)) is None  # log(1) = 0: evaluated, does not hold


def test_a_nan_input_is_a_fault_and_fires():
    signal = expression.evaluate(_tier("funding_z > 2"), context(0.0, funding_z=math.nan))
    assert signal is not None and "note" in signal.detail


def test_explain():
    t = _tier("pnl_pct < -1", "cut")
    assert exits.explain(expression.evaluate(t, context(-1.5))) == "x: `pnl_pct < -1` holds (P&L -1.5 %)"
