"""Per-symbol market features that every rule may read: price, spread, 1h change, EMA
spread, multi-timeframe alignment, taker ratio, leader flag (docs/reference/vocabulary.md).

Windows come from the rules: the EMA pair and timeframe from the exit tier that declares
``ema_cross`` (signal_reversal), the timeframes from the one that declares
``alignment_timeframes`` (mtf_alignment); defaults when a rule set has neither. The
indicators a rule set declares (indicators.yaml) join them (engine/trading/indicators).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.trading.features import BarCloser, EmaCross, MultiTimeframeAlignment, TimeWindow
from engine.trading.indicators.declared import DeclaredIndicators

DEFAULT_TIMEFRAMES = ("1m", "5m", "15m", "1h", "4h", "1d")
EXPORTS = (
    "is_leader",
    "price",
    "spread_bps",
    "price_change_pct",
    "ema_spread_pct",
    "mtf_long",
    "mtf_short",
    "open_interest_usd",
    "taker_buy_sell_ratio",
)
MTF_EMA_PERIOD = 21
PRICE_CHANGE_WINDOW_S = 3600.0
DEFAULT_REVERSAL = ("1m", 9, 21)  # (timeframe, fast EMA, slow EMA)


@dataclass(frozen=True)
class MarketWindows:
    """The rule-derived windows of the market features (one source for the scalar
    :class:`MarketState` and the column form in ``engine.replay.columns.market``)."""

    reversal_timeframe: object  # BarCloser timeframe of the EMA cross ("5m", 300, ...)
    fast_ema: int
    slow_ema: int
    mtf_timeframes: tuple[str, ...]  # the mtf_alignment timeframes (its ``alignment_timeframes``)


def market_windows(plan) -> MarketWindows:
    timeframe, fast, slow = plan.exits.ask("ema_cross") or DEFAULT_REVERSAL
    timeframes = plan.exits.ask("alignment_timeframes")
    return MarketWindows(timeframe, fast, slow, timeframes if timeframes is not None else DEFAULT_TIMEFRAMES)


class MarketState:
    """Rolling market features of one symbol, fed from snapshots."""

    __slots__ = ("bars", "cross", "declared", "is_leader", "last", "mtf", "prices", "symbol")

    def __init__(self, plan, symbol: str):
        windows = market_windows(plan)
        self.symbol = symbol
        self.is_leader = plan.ruleset.leader == symbol
        self.prices = TimeWindow(PRICE_CHANGE_WINDOW_S)
        self.bars = BarCloser(timeframe=windows.reversal_timeframe)
        self.cross = EmaCross(fast=windows.fast_ema, slow=windows.slow_ema)
        self.mtf = MultiTimeframeAlignment(timeframes=windows.mtf_timeframes, ema_period=MTF_EMA_PERIOD)
        self.declared = DeclaredIndicators(plan.indicators)  # indicators.yaml
        self.last: dict[str, float] = {}

    def update(self, symbol) -> None:
        for candle in symbol.candles:
            close_ts = candle.ts + 60.0
            self.prices.push(close_ts, candle.close)
            for bar_ts, close in self.bars.update(close_ts, candle.close):
                self.cross.update(bar_ts, close)
            self.mtf.update(close_ts, candle.close)
            if self.declared:
                self.declared.update(candle)
        for key in ("price", "bid", "ask", "taker_buy_usd", "taker_sell_usd", "open_interest_usd"):
            value = symbol.get(key)
            if value is not None:
                self.last[key] = value
        if "price" not in symbol.values and symbol.candles:
            self.last["price"] = symbol.candles[-1].close

    def env(self) -> dict:
        """Vocabulary values known now; an unknown value is simply absent."""
        first, latest = self.prices.first, self.prices.last
        change = (latest[1] / first[1] - 1) * 100 if first is not None and latest is not None and first[1] > 0 else None
        cross, mtf = self.cross.value, self.mtf.value
        env = market_env(
            self.is_leader,
            self.last,
            change,
            None if cross is None else cross.spread_pct,
            None if mtf is None else (mtf.score_long, mtf.score_short),
        )
        if self.declared:
            env.update(self.declared.env())
        return env


def market_env(
    is_leader: bool,
    last: dict,
    price_change_pct: float | None,
    ema_spread_pct: float | None,
    mtf: tuple[float, float] | None,
) -> dict:
    """The market vocabulary from the last values seen and the features (None: unknown, so
    absent). Shared by MarketState and its column form (engine/replay/columns/signals.py)."""
    out: dict = {"is_leader": is_leader}
    if "price" in last:
        out["price"] = last["price"]
    if "bid" in last and "ask" in last and last["ask"] >= last["bid"] > 0:
        mid = (last["ask"] + last["bid"]) / 2
        out["spread_bps"] = (last["ask"] - last["bid"]) / mid * 1e4
    if price_change_pct is not None:
        out["price_change_pct"] = price_change_pct
    if ema_spread_pct is not None:
        out["ema_spread_pct"] = ema_spread_pct
    if mtf is not None:
        out["mtf_long"], out["mtf_short"] = mtf
    if "open_interest_usd" in last:
        out["open_interest_usd"] = last["open_interest_usd"]
    if last.get("taker_sell_usd"):
        out["taker_buy_sell_ratio"] = last.get("taker_buy_usd", 0.0) / last["taker_sell_usd"]
    return out
