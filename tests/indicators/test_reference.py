"""Each declared indicator computes its textbook definition: the incremental form, fed bars,
agrees with an independent pandas/numpy implementation written here (rolling means,
deviations and extremes; pandas ``ewm`` for MACD; a plain Wilder loop for RSI and ATR) within a
relative 1e-9. test_forms proves the column form equal to the incremental one; together
they pin both forms to the definition. Also: every kind's parameter schema is valid JSON
Schema and its defaults compile, ``warmup`` counts the bars the state really needs, and
MACD refuses a fast EMA that is not faster."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest

from engine.trading import indicators
from engine.trading.indicators.base import Bar
from tests.indicators.test_forms import PARAMS, random_candles

RTOL = 1e-9
ATOL = 1e-10  # MACD's lines and the z-score cross 0, where a relative tolerance has no scale (prices are ~100)

#: a source's series from the bars' frame, written out independently of base.source_value
SERIES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "close": lambda f: f["close"],
    "hl2": lambda f: (f["high"] + f["low"]) / 2,
    "ohlc4": lambda f: (f["open"] + f["high"] + f["low"] + f["close"]) / 4,
}


def random_bars(seed: int, n: int = 1500, *, clean: bool = False) -> list[Bar]:
    """Bars of a random walk (test_forms' candles used as bars). Unless ``clean``, 5 % of the
    closes repeat and 5 % of the volumes are 0: the flat windows where a value is undefined."""
    c = random_candles(np.random.default_rng(seed), n, faults=False)
    close, volume = c.close, c.volume
    if clean:
        close = close * (1 + np.arange(n) * 1e-7)  # no two closes equal
        volume = volume + 1.0
    return [
        Bar(*row)
        for row in zip(
            (c.ts + 60).tolist(), c.open.tolist(), c.high.tolist(), c.low.tolist(), close.tolist(), volume.tolist()
        )
    ]


def frame(bars: list[Bar]) -> pd.DataFrame:
    return pd.DataFrame(bars, columns=list(Bar._fields))


def incremental(kind: str, raw: dict[str, Any], bars: list[Bar], source: str) -> np.ndarray:
    """The state's values after each bar, one column per output (NaN for None)."""
    module = indicators.kind_module(kind)
    state = module.new_state(module.compile_params(raw), source)
    rows = []
    for bar in bars:
        state.update(bar)
        rows.append([np.nan if v is None else v for v in state.values()])
    return np.array(rows, dtype=np.float64)


# ------------------------------------------------------------------ the textbook definitions


def wilder(values: np.ndarray, period: int) -> np.ndarray:
    """Wilder's smoothing as usually written: seed with the mean, then avg += (x − avg) / n."""
    out = np.full(len(values), np.nan)
    if len(values) >= period:
        avg = float(np.mean(values[:period]))
        out[period - 1] = avg
        for k in range(period, len(values)):
            avg += (values[k] - avg) / period
            out[k] = avg
    return out


def ta_ema(values: np.ndarray, period: int) -> np.ndarray:
    """TA-Lib's EMA: seeded with the mean of the first ``period`` values, alpha = 2 / (period + 1)."""
    out = np.full(len(values), np.nan)
    if len(values) >= period:
        value = float(np.mean(values[:period]))
        out[period - 1] = value
        for k in range(period, len(values)):
            value += 2 / (period + 1) * (values[k] - value)
            out[k] = value
    return out


def window_sums(x: np.ndarray, period: int) -> np.ndarray:
    """Exact-zero-preserving rolling sums (pandas' online rolling sum may leave a residue)."""
    out = np.full(len(x), np.nan)
    out[period - 1 :] = np.lib.stride_tricks.sliding_window_view(x, period).sum(axis=1)
    return out


def ref_sma(f: pd.DataFrame, x: pd.Series, p: dict[str, Any]) -> list[pd.Series]:
    return [x.rolling(p["period"]).mean()]


def ref_rsi(f: pd.DataFrame, x: pd.Series, p: dict[str, Any]) -> list[np.ndarray]:
    delta = x.diff().to_numpy()[1:]
    gain = wilder(np.clip(delta, 0, None), p["period"])
    loss = wilder(np.clip(-delta, 0, None), p["period"])
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100 - 100 / (1 + gain / loss)  # the textbook form; 0/0 (nothing moved) is NaN
    return [np.append(np.nan, rsi)]


def ref_atr(f: pd.DataFrame, x: pd.Series, p: dict[str, Any]) -> list[np.ndarray]:
    previous = f["close"].shift()
    ranges = pd.concat([f["high"] - f["low"], (f["high"] - previous).abs(), (f["low"] - previous).abs()], axis=1)
    return [wilder(ranges.max(axis=1).to_numpy(), p["period"])]


def window_mean_std(x: pd.Series, period: int, ddof: int) -> tuple[np.ndarray, np.ndarray]:
    """Rolling mean and deviation by numpy over each window (two-pass). Not pandas'
    ``rolling().std()``: its online update cancels catastrophically, off by ~1e-9 here."""
    mean, sd = np.full(len(x), np.nan), np.full(len(x), np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(x.to_numpy(), period)
    mean[period - 1 :] = windows.mean(axis=1)
    sd[period - 1 :] = windows.std(axis=1, ddof=ddof)
    return mean, sd


def ref_bollinger(f: pd.DataFrame, x: pd.Series, p: dict[str, Any]) -> list[np.ndarray]:
    mean, sd = window_mean_std(x, p["period"], p["ddof"])
    return [mean + p["stddev"] * sd, mean, mean - p["stddev"] * sd]


def ref_macd(f: pd.DataFrame, x: pd.Series, p: dict[str, Any]) -> list[np.ndarray]:
    if p["seed"] == "first":
        line = x.ewm(span=p["fast"], adjust=False).mean() - x.ewm(span=p["slow"], adjust=False).mean()
        signal = line.ewm(span=p["signal"], adjust=False).mean()
        return [line.to_numpy(), signal.to_numpy(), (line - signal).to_numpy()]
    values = x.to_numpy()
    line = ta_ema(values, p["fast"]) - ta_ema(values, p["slow"])
    first = int(np.flatnonzero(~np.isnan(line))[0])
    signal = np.append(np.full(first, np.nan), ta_ema(line[first:], p["signal"]))
    return [line, signal, line - signal]


def ref_zscore(f: pd.DataFrame, x: pd.Series, p: dict[str, Any]) -> list[np.ndarray]:
    mean, sd = window_mean_std(x, p["period"], p["ddof"])
    sd[~(sd > 1e-12 * np.abs(mean))] = np.nan  # a flat window: no scale
    return [(x.to_numpy() - mean) / sd]


def ref_vwap(f: pd.DataFrame, x: pd.Series, p: dict[str, Any]) -> list[np.ndarray]:
    typical = ((f["high"] + f["low"] + f["close"]) / 3).to_numpy()
    volume = f["volume"].to_numpy()
    traded, volumes = window_sums(typical * volume, p["period"]), window_sums(volume, p["period"])
    with np.errstate(divide="ignore", invalid="ignore"):
        return [np.where(volumes > 0, traded / volumes, np.nan)]


def ref_highest(f: pd.DataFrame, x: pd.Series, p: dict[str, Any]) -> list[pd.Series]:
    return [x.rolling(p["period"]).max()]


def ref_lowest(f: pd.DataFrame, x: pd.Series, p: dict[str, Any]) -> list[pd.Series]:
    return [x.rolling(p["period"]).min()]


def ref_ema(f: pd.DataFrame, x: pd.Series, p: dict[str, Any]) -> list[Any]:
    if p["seed"] == "first":
        return [x.ewm(span=p["period"], adjust=False).mean()]
    return [ta_ema(x.to_numpy(), p["period"])]


REFERENCES: dict[str, Callable[[pd.DataFrame, pd.Series, dict[str, Any]], list[Any]]] = {
    "ema": ref_ema,
    "sma": ref_sma,
    "rsi": ref_rsi,
    "atr": ref_atr,
    "bollinger": ref_bollinger,
    "macd": ref_macd,
    "zscore": ref_zscore,
    "vwap": ref_vwap,
    "highest": ref_highest,
    "lowest": ref_lowest,
}

CASES = [(kind, raw) for kind, options in PARAMS.items() for raw in options]
IDS = [f"{kind}-{i}" for i, (kind, _) in enumerate(CASES)]


def test_every_registered_kind_has_a_reference():
    assert set(REFERENCES) == set(indicators.INDICATORS)


@pytest.mark.parametrize("kind,raw", CASES, ids=IDS)
@pytest.mark.parametrize("seed", [3, 4])
def test_incremental_form_is_the_textbook_definition(kind, raw, seed):
    module = indicators.kind_module(kind)
    bars = random_bars(seed)
    f = frame(bars)
    for source in SERIES if module.READS_SOURCE else ["close"]:
        ours = incremental(kind, raw, bars, source)
        expected = REFERENCES[kind](f, SERIES[source](f), raw)
        assert len(expected) == len(module.OUTPUTS)
        for j, column in enumerate(expected):
            np.testing.assert_allclose(
                ours[:, j],
                np.asarray(column, dtype=np.float64),
                rtol=RTOL,
                atol=ATOL,
                equal_nan=True,
                err_msg=f"{source} output {j}",
            )
        assert not np.isnan(ours[-1]).all()


# ------------------------------------------------------------------ the contract around the values


def example_params(params_schema: dict[str, Any]) -> dict[str, Any]:
    """The schema's defaults plus the least value each required parameter allows."""
    raw = {}
    for name, field in params_schema["properties"].items():
        if "default" in field:
            raw[name] = field["default"]
        elif "enum" in field:
            raw[name] = field["enum"][0]
        else:
            raw[name] = field.get("minimum", field.get("exclusiveMinimum", 0) + 1)
    return raw


@pytest.mark.parametrize("kind", list(indicators.INDICATORS))
def test_schema_is_valid_and_its_defaults_compile(kind):
    module = indicators.kind_module(kind)
    element = module.schema()
    params_schema = element["properties"]["params"]
    jsonschema.Draft202012Validator.check_schema(params_schema)
    assert ("source" in element["properties"]) == module.READS_SOURCE
    validator = jsonschema.Draft202012Validator(params_schema)
    raw = example_params(params_schema)
    validator.validate(raw)
    params = module.compile_params(raw)
    assert isinstance(params, module.Params)
    assert module.warmup(params) >= 1
    assert module.describe(params)
    for tried in PARAMS[kind]:  # test_forms' parameter sets are legal ones
        validator.validate(tried)
    state = module.new_state(params, "close")
    assert state.values() == (None,) * len(module.OUTPUTS)


@pytest.mark.parametrize("kind,raw", CASES, ids=IDS)
def test_warmup_is_the_bars_before_every_output_has_a_value(kind, raw):
    module = indicators.kind_module(kind)
    values = incremental(kind, raw, random_bars(5, 200, clean=True), "close")
    ready = ~np.isnan(values).any(axis=1)
    assert ready[module.warmup(module.compile_params(raw)) - 1 :].all()
    assert int(np.argmax(ready)) + 1 == module.warmup(module.compile_params(raw))


class Reports:
    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []

    def report(self, doc: Any, path: tuple[Any, ...], code: str, message: str, **extra: Any) -> None:
        self.seen.append((path, code, message, extra))


@pytest.mark.parametrize("fast,slow,refused", [(12, 26, False), (26, 26, True), (30, 26, True)])
def test_macd_refuses_a_fast_ema_not_below_the_slow_one(fast, slow, refused):
    macd = indicators.kind_module("macd")
    ctx = Reports()
    params = macd.compile_params({"fast": fast, "slow": slow, "signal": 9, "seed": "first"})
    macd.check(params, None, ("indicators", 0), ctx)
    assert bool(ctx.seen) == refused
    if refused:
        (path, code, message, extra) = ctx.seen[0]
        assert (path, code) == (("indicators", 0, "params", "fast"), "RB333")
        assert str(fast) in message and str(slow) in message and extra.get("suggestion")
