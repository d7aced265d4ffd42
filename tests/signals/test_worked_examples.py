"""The worked examples of docs/signals.md that the component tests do not already pin:
the full synthetic record (voting example 2) and the lead-lag example come from the
synthetic market, so a change there must be reflected in the docs."""

from __future__ import annotations

import pytest

from tests.signals.helpers import FOLLOWER, LEADER, result
from tests.signals.synthetic import HISTORY_HOURS
from tests.signals.test_no_lookahead import fed, snapshots

K = HISTORY_HOURS + 330  # minute 330 of the synthetic market

DOC_RECORD = {  # id: (direction, confidence rounded to 4 places) as printed in docs/signals.md
    "liquidation_cascade": ("SHORT", 1.0),
    "whale_flow": ("SHORT", 0.8478),
    "funding_rate": ("SHORT", 0.5626),
    "hurst": ("LONG", 0.1689),
    "lead_lag": ("LONG", 0.8624),
    "order_flow_momentum": ("SHORT", 0.3519),
    "fear_greed": ("SHORT", 0.2),
    "volatility_skew": ("NEUTRAL", 0.0),
    "oi_velocity": ("SHORT", 0.3942),
    "oi_divergence": ("NEUTRAL", 0.0),
}


@pytest.fixture(scope="module")
def paper_record():
    return fed("paper", K).evaluate(FOLLOWER, snapshots()[K].ts)


def test_the_documented_synthetic_record(paper_record):
    r = paper_record
    assert snapshots()[K].ts == 1700883000
    assert {c.id: (c.direction, round(c.confidence, 4)) for c in r.components} == DOC_RECORD
    assert (r.direction, r.short_votes, r.long_votes, r.aligned_count) == ("SHORT", 6, 2, 6)
    # Σ w·c over the six SHORTs ÷ 0.75
    aligned = [c for c in r.components if c.direction == "SHORT"]
    assert sum(c.weight for c in aligned) == pytest.approx(0.75)
    assert round(sum(c.weight * c.confidence for c in aligned), 4) == 0.5324
    assert (round(r.confidence, 4), r.conviction, r.size_multiplier) == (0.7099, "HIGH", 1.5)


def test_the_documented_lead_lag_example(paper_record):
    got = result(paper_record, "lead_lag")
    assert (got.inputs["best_lag"], round(got.inputs["correlation"], 4)) == (1, 0.8624)
    assert round(got.inputs["leader_move_pct"], 4) == 0.1169
    live = result(fed("live", K).evaluate(FOLLOWER, snapshots()[K].ts), "lead_lag")
    assert live.reasons == ("leader_quiet",)
    leader = result(fed("paper", K).evaluate(LEADER, snapshots()[K].ts), "lead_lag")
    assert leader.reasons == ("override:leader_symbol",)
