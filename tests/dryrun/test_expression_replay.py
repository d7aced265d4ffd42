"""The dry-run's fast path reproduces the scalar path with a rule set of expression
components over declared indicators — on the sample, and on random variants of the
indicators (kinds, timeframes, periods, seeds) and of the conditions' numbers."""

from __future__ import annotations

import random

import pytest

from tests.dryrun.test_fast_path import _assert_same, _columns, _scalar
from tests.signals.test_expression_component import BANDS, CROSS, _compile, expression_rules


def test_expression_components_replay_identically_on_both_paths(tmp_path, sample, recording):
    plan = _compile(expression_rules(tmp_path))
    scalar = _scalar(plan, sample)
    assert scalar["metrics"]["trades"] > 20
    assert scalar["decisions"] and scalar["coverage"]
    _assert_same(_columns(plan, recording), scalar)


@pytest.mark.parametrize("seed", range(3))
def test_random_indicator_and_condition_variants_replay_identically(tmp_path, sample, recording, seed):
    rng = random.Random(seed)
    fast, slow = sorted(rng.sample(range(2, 40), 2))
    indicators = {
        "kind": "indicators",
        "indicators": [
            {"id": "ema_fast", "kind": "ema", "timeframe": rng.choice(["1m", "5m"]), "params": {"period": fast}},
            {"id": "ema_slow", "kind": "ema", "params": {"period": slow, "seed": rng.choice(["first", "sma"])}},
            {
                "id": "rsi",
                "kind": "rsi",
                "timeframe": rng.choice(["1m", "5m", "15m"]),
                "params": {"period": rng.randint(2, 30)},
            },
            {
                "id": "bb",
                "kind": "bollinger",
                "timeframe": rng.choice(["5m", "15m"]),
                "params": {"period": rng.randint(5, 40), "stddev": round(rng.uniform(1, 3), 2)},
            },
        ],
    }
    low = rng.randint(20, 45)
    bands = dict(
        BANDS,
        params={
            "long_when": f"price < bb_lower and rsi < {low}",
            "short_when": f"price > bb_upper and rsi > {100 - low}",
        },
    )
    plan = _compile(expression_rules(tmp_path, components=(CROSS, bands), indicators=indicators))
    end = sample[6000].ts
    scalar = _scalar(plan, sample, end=end)
    assert scalar["decisions"]
    _assert_same(_columns(plan, recording, end=end), scalar)
