"""Intelligence gate (seed "Intelligence Gate"): market intelligence for or against the
trade sizes it 0.4x-1.3x; it never blocks.

Each source with data votes +1 (agrees with the direction), −1 (conflicts) or 0:
taker buy/sell ratio, long-liquidation share, fear & greed (contrarian) and order-book
imbalance. The alignment score is the weighted mean of the votes over the sources that
have data (0 when none has), and its band gives the multiplier."""

from __future__ import annotations

from engine.replay.columns.gates import passes
from engine.trading.gates.base import level_for, passed

KIND = "intelligence_gate"
REASONS = ("INTEL_<BAND>",)

#: source → (vocabulary name, cut-off giving +1 (bullish), cut-off giving −1 (bearish), bullish when above?)
_SOURCES = {
    "taker_flow": ("taker_buy_sell_ratio", "bullish_above", "bearish_below", True),
    "liquidations": ("liq_long_share", "bullish_below", "bearish_above", False),
    "fear_greed": ("fear_greed", "fear_below", "greed_above", False),
    "ofi": ("ofi", "bullish_above", "bearish_below", True),
}


def _bullishness(source: dict, value: float, bull_key: str, bear_key: str, above: bool) -> int:
    """+1 bullish, −1 bearish, 0 neither, for a reading against its cut-offs."""
    if above:
        return 1 if value > source[bull_key] else -1 if value < source[bear_key] else 0
    return 1 if value < source[bull_key] else -1 if value > source[bear_key] else 0


def alignment(gate, ctx) -> tuple[float, dict]:
    sign = 1 if ctx.direction == "LONG" else -1
    total = weight = 0.0
    votes = {}
    for name, (field, bull, bear, above) in _SOURCES.items():
        source, value = gate.params["sources"][name], ctx.env.get(field)
        if value is None or source["weight"] == 0:
            continue
        vote = sign * _bullishness(source, value, bull, bear, above)
        votes[name] = vote
        total += source["weight"] * vote
        weight += source["weight"]
    return (total / weight if weight else 0.0), votes


def evaluate(gate, ctx):
    score, votes = alignment(gate, ctx)
    band = level_for(gate.params["bands"], score)
    return passed(
        gate,
        band["size_multiplier"],
        f"INTEL_{band['name'].upper()}",
        score=score,
        **{f"vote_{k}": v for k, v in votes.items()},
    )


def columns(gate, cols, live):
    """Never blocks: every row passes (engine.replay.columns.decisions)."""
    return passes(len(cols))
