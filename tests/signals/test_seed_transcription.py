"""The compiled plans carry the seed's numbers (seed "Signal Components", "Conviction
Level Assignment"). Every other test in this folder reads these values from the plans;
this file says which of them the seed fixes, so a failure elsewhere after an edit of
rules/signals.yaml can be told apart from a transcription slip."""

from __future__ import annotations

import pytest

from tests.signals.helpers import component, plan

SEED_WEIGHTS = {  # seed: 22 %, 20 %, 16 %, 8 %, 8 %, 6 %, 6 %, 5 %, 5 %, 4 %
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

SEED_THRESHOLDS = [  # (component, threshold, paper, live) as the seed states them
    ("liquidation_cascade", "min_volume_usd", 50_000, 100_000),
    ("whale_flow", "min_flow_usd", 250_000, 1_000_000),
    ("funding_rate", "min_deviation", 0.0001, 0.0002),
    ("fear_greed", "fear_below", 15, 20),
    ("fear_greed", "greed_above", 85, 80),
    ("oi_velocity", "min_change_pct", 0.5, 2.0),
]


@pytest.mark.parametrize("profile", ["paper", "live"])
def test_the_ten_components_carry_the_seed_weights(profile):
    weights = {c.id: c.weight for c in plan(profile).signals.components}
    assert weights == pytest.approx(SEED_WEIGHTS)
    assert sum(weights.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("component_id, name, paper, live", SEED_THRESHOLDS)
def test_seed_thresholds_are_compiled_per_profile(component_id, name, paper, live):
    assert getattr(component("paper", component_id).thresholds, name) == pytest.approx(paper)
    assert getattr(component("live", component_id).thresholds, name) == pytest.approx(live)


@pytest.mark.parametrize("profile", ["paper", "live"])
def test_voting_and_conviction_carry_the_seed_levels(profile):
    spec = plan(profile).signals
    assert spec.min_aligned == 2 and spec.direction_by == "votes"
    assert spec.confidence_basis == "aligned_weight"
    levels = [(lv.name, lv.min_aligned, lv.min_confidence, lv.size_multiplier) for lv in spec.levels]
    assert levels == [("HIGH", 4, 0.6, 1.5), ("MEDIUM", 3, 0.4, 1.0), ("LOW", 2, 0.3, 0.5)]
    assert spec.fallback_multiplier == 0.0
