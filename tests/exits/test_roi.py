"""The ``roi`` exit tier (freqtrade's minimal_roi): only the entry in force at the position's
age counts, the entries need not be monotonic, and P&L must be strictly above the target."""

from __future__ import annotations

import numpy as np
import pytest

from engine.trading import exits
from engine.trading.exits import roi
from engine.trading.exits.base import Trigger
from tests.exits.helpers import context, tier

MIN = 60.0
# freqtrade's example of a table that is not monotonic: {0: 2 %, 30 min: 0.5 %, 60 min: 1 %}
TABLE = roi.Params(
    tiers=(
        roi.Step(after=0.0, pnl_pct=2.0),
        roi.Step(after=30 * MIN, pnl_pct=0.5),
        roi.Step(after=60 * MIN, pnl_pct=1.0),
    )
)


@pytest.mark.parametrize(
    ("minutes", "entry"),
    [(0, 0), (10, 0), (29.99, 0), (30, 1), (45, 1), (59.99, 1), (60, 2), (70, 2), (10_000, 2)],
)
def test_the_entry_in_force_is_the_last_one_whose_age_has_come(minutes, entry):
    assert TABLE.active(minutes * MIN) is TABLE.tiers[entry]


def test_no_entry_is_in_force_before_the_first():
    late = roi.Params(tiers=(roi.Step(after=600.0, pnl_pct=1.0),))  # refused by validate (RB348)
    assert late.active(599.0) is None and late.active(600.0) is late.tiers[0]
    assert roi.evaluate(tier(roi, late), context(5.0, hold_s=599.0)) is None


def test_the_index_over_a_column_of_ages_is_the_scalar_one_per_row():
    ages = np.array([-1.0, 0.0, 1799.0, 1800.0, 2700.0, 3600.0, 4200.0])
    assert TABLE.active_index(ages).tolist() == [int(TABLE.active_index(a)) for a in ages.tolist()]
    assert TABLE.active_index(ages).tolist() == [-1, 0, 0, 1, 1, 2, 2]


def test_only_the_entry_in_force_counts():
    t = tier(roi, TABLE, "roi")
    # 10 min: 2 % applies, the lower targets of later entries do not (profit_target would fire)
    assert roi.evaluate(t, context(1.5, hold_s=10 * MIN)) is None
    assert roi.evaluate(t, context(2.1, hold_s=10 * MIN)).reason == "ROI"
    # 45 min: 0.5 % applies, the earlier 2 % no longer does
    signal = roi.evaluate(t, context(0.7, hold_s=45 * MIN))
    assert signal is not None and signal.full and signal.reason == "ROI"
    assert dict(signal.detail) == {"pnl_pct": 0.7, "roi_pct": 0.5, "after_s": 1800.0, "entry": 2}
    # 70 min: the table asks for more again (1 %), so the same P&L no longer fires
    assert roi.evaluate(t, context(0.7, hold_s=70 * MIN)) is None
    assert roi.evaluate(t, context(1.2, hold_s=70 * MIN)).detail["roi_pct"] == 1.0


@pytest.mark.parametrize(("minutes", "target"), [(0, 2.0), (45, 0.5), (70, 1.0)])
def test_a_pnl_exactly_at_the_target_does_not_fire(minutes, target):
    t = tier(roi, TABLE)
    assert roi.evaluate(t, context(target, hold_s=minutes * MIN)) is None
    assert roi.evaluate(t, context(target + 1e-9, hold_s=minutes * MIN)) is not None


def test_a_negative_target_closes_a_losing_position_late():
    giving_up = roi.Params(tiers=(roi.Step(after=0.0, pnl_pct=3.0), roi.Step(after=4 * 3600.0, pnl_pct=-1.0)))
    assert roi.evaluate(tier(roi, giving_up), context(-0.5, hold_s=3 * 3600.0)) is None
    assert roi.evaluate(tier(roi, giving_up), context(-0.5, hold_s=5 * 3600.0)).detail["roi_pct"] == -1.0


def test_explain_names_the_entry_in_force():
    t = tier(roi, TABLE, "roi")
    assert exits.explain(roi.evaluate(t, context(0.7, hold_s=45 * MIN))) == (
        "roi: P&L +0.7 % beats +0.5 %, the ROI of entry 2 (in force from 30m)"
    )
    assert exits.explain(roi.evaluate(t, context(2.5, hold_s=5 * MIN))) == (
        "roi: P&L +2.5 % beats +2 %, the ROI of entry 1 (in force from entry)"
    )


def test_each_entry_declares_the_highest_target_from_its_age_on():
    """From 30 min on the target in force is 0.5 % or 1 %: above 1 % the table closes at any
    age from 30 min, which is what the whole-file checks may rely on."""
    found = [(t.after_s, t.pnl_pct, t.path, t.above, t.full) for t in roi.triggers(TABLE)]
    assert found == [
        (0.0, 2.0, ("tiers", 0), True, True),
        (1800.0, 1.0, ("tiers", 1), True, True),
        (3600.0, 1.0, ("tiers", 2), True, True),
    ]
    assert all(isinstance(t, Trigger) for t in roi.triggers(TABLE))


def test_compile_params_reads_the_schema_checked_table():
    raw = {"id": "roi", "kind": "roi", "tiers": ({"after": 0.0, "pnl_pct": 2.0}, {"after": 1800.0, "pnl_pct": 0.5})}
    assert roi.compile_params(raw) == roi.Params(
        tiers=(roi.Step(after=0.0, pnl_pct=2.0), roi.Step(after=1800.0, pnl_pct=0.5))
    )
