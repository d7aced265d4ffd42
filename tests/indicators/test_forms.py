"""Each declared indicator's incremental form (engine/trading/indicators) and its column form
(engine/replay/columns/indicator_forms.py) give bit-identical values on random candles —
gaps, repeated and late candles, non-finite fields, every timeframe and source."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.replay.columns.candles import CandleSeries
from engine.replay.columns.indicator_forms import FORMS, bar_columns, indicator_columns
from engine.trading import indicators
from engine.trading.indicators.base import SOURCES, BarBuilder

#: parameters each kind is tried with (every kind in the registry must appear here)
PARAMS = {
    "ema": [{"period": 1, "seed": "first"}, {"period": 9, "seed": "first"}, {"period": 21, "seed": "sma"}],
    "sma": [{"period": 1}, {"period": 2}, {"period": 20}],
    "rsi": [{"period": 1}, {"period": 2}, {"period": 14}],
    "atr": [{"period": 1}, {"period": 14}],
    "bollinger": [
        {"period": 2, "stddev": 1, "ddof": 1},
        {"period": 20, "stddev": 2, "ddof": 0},
        {"period": 7, "stddev": 2.5, "ddof": 1},
    ],
    "macd": [
        {"fast": 12, "slow": 26, "signal": 9, "seed": "first"},
        {"fast": 1, "slow": 2, "signal": 1, "seed": "sma"},
        {"fast": 3, "slow": 7, "signal": 4, "seed": "sma"},
    ],
    "zscore": [{"period": 2, "ddof": 0}, {"period": 20, "ddof": 1}, {"period": 5, "ddof": 0}],
    "vwap": [{"period": 1}, {"period": 24}],
    "highest": [{"period": 1}, {"period": 20}],
    "lowest": [{"period": 1}, {"period": 20}],
}


def random_candles(rng: np.random.Generator, m: int, *, faults: bool) -> CandleSeries:
    """A random walk of one-minute candles: gaps of missing minutes, and with ``faults``
    repeated and late candles and NaN/inf fields the features must refuse."""
    step = rng.choice([60, 60, 60, 60, 120, 300, 3600], size=m)
    ts = 1_700_000_000 - 1_700_000_000 % 86400 + np.cumsum(step).astype(np.float64)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, m)))
    for i in np.flatnonzero(rng.random(m) < 0.05)[1:]:
        close[i] = close[i - 1]  # unchanged closes: the EMA's pandas branch skips those
    open_ = np.roll(close, 1)
    open_[0] = close[0]
    high = np.maximum(open_, close) * (1 + rng.random(m) * 0.001)
    low = np.minimum(open_, close) * (1 - rng.random(m) * 0.001)
    volume = rng.random(m) * 10
    volume[rng.random(m) < 0.05] = 0.0
    if faults:
        late = rng.random(m) < 0.03
        ts[late] -= 120
        for column in (close, high, volume):
            column[rng.random(m) < 0.01] = rng.choice([np.nan, np.inf])
    return CandleSeries(ts, open_, high, low, close, volume)


def scalar_values(kind: str, params, timeframe: str, source: str, candles: CandleSeries) -> list[tuple]:
    """The incremental form's values after each candle."""
    module = indicators.kind_module(kind)
    builder = BarBuilder(timeframe)
    state = module.new_state(params, source)
    outputs = len(module.OUTPUTS)
    current: tuple = (None,) * outputs
    out = []
    for k in range(len(candles)):
        bars = builder.update(
            float(candles.ts[k]),
            float(candles.open[k]),
            float(candles.high[k]),
            float(candles.low[k]),
            float(candles.close[k]),
            float(candles.volume[k]),
        )
        for bar in bars:
            state.update(bar)
            current = state.values()
        out.append(current)
    return out


def same(a: float | None, b: float) -> bool:
    if a is None:
        return math.isnan(b)
    return a == b or (math.isnan(a) and math.isnan(b))


CASES = [(kind, p) for kind, options in PARAMS.items() for p in options]


def test_every_registered_kind_is_tried_and_has_a_form():
    assert set(PARAMS) == set(indicators.INDICATORS)
    assert set(FORMS) == set(indicators.INDICATORS)


@pytest.mark.parametrize("kind,raw", CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(CASES)])
@pytest.mark.parametrize("timeframe", ["candle", "5m", "1h"])
@pytest.mark.parametrize("seed", [1, 2])
def test_column_form_equals_incremental(kind, raw, timeframe, seed):
    module = indicators.kind_module(kind)
    rng = np.random.default_rng(seed)
    params = module.compile_params(raw)
    candles = random_candles(rng, 3000, faults=seed == 2)
    sources = [SOURCES[(seed + i) % len(SOURCES)] for i in range(2)] if module.READS_SOURCE else ["close"]
    for source in sources:
        expected = scalar_values(kind, params, timeframe, source, candles)
        bars = bar_columns(candles, timeframe)
        columns = indicator_columns(FORMS[kind], params, bars, source, len(candles))
        assert len(columns) == len(module.OUTPUTS)
        for j, column in enumerate(columns):
            mismatched = [k for k in range(len(candles)) if not same(expected[k][j], column[k])]
            assert not mismatched, (source, j, mismatched[:3], [expected[k][j] for k in mismatched[:3]])
        for j in range(len(module.OUTPUTS)):
            assert any(v[j] is not None for v in expected), f"output {j} never warmed up: it proves nothing"


@pytest.mark.parametrize("timeframe", ["candle", "1m", "5m", "15m", "1h"])
def test_bars_equal_the_builder(timeframe):
    candles = random_candles(np.random.default_rng(7), 4000, faults=True)
    builder = BarBuilder(timeframe)
    expected = []
    for k in range(len(candles)):
        for bar in builder.update(
            *(float(getattr(candles, f)[k]) for f in ("ts", "open", "high", "low", "close", "volume"))
        ):
            expected.append((k, *bar))
    bars = bar_columns(candles, timeframe)
    got = list(
        zip(
            bars.emitted_at.tolist(),
            bars.end.tolist(),
            bars.open.tolist(),
            bars.high.tolist(),
            bars.low.tolist(),
            bars.close.tolist(),
            bars.volume.tolist(),
        )
    )
    assert got == expected
    assert len(expected) > 50


@pytest.mark.parametrize("period", [1, 2, 9, 21, 200])
def test_ema_seeded_first_is_pandas_ewm_to_the_last_bit(period):
    import pandas as pd

    candles = random_candles(np.random.default_rng(period), 2000, faults=False)
    state = indicators.kind_module("ema").new_state(
        indicators.kind_module("ema").compile_params({"period": period, "seed": "first"}), "close"
    )
    ours = []
    for x in candles.close.tolist():
        state.push(x)
        ours.append(state.values()[0])
    expected = pd.Series(candles.close).ewm(span=period, adjust=False).mean().tolist()
    assert ours == expected
