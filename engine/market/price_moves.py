"""Price moves between consecutive snapshots of a symbol: the largest, and the *suspect*
ones — a jump so large it is far likelier a bad print, a unit change or a badly stitched
file than a market move. `snapshots info` shows them, before any rule set is involved;
a run's sanity layer (engine/market/sanity.py) refuses such prices by the rules' own
bound, whose default equals SUSPECT_RATIO (docs/snapshot-build.md, docs/refusals.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: A move this large either way (as a price ratio: +25 % or −20 %) between two snapshots is
#: suspect (the default ``market_data.price_move_pct`` of the rules for one minute). On BTC/ETH-class markets a flash crash moves a few % to ~15 % in a minute; a
#: quarter in one step, and usually straight back, is a data error.
SUSPECT_RATIO = 1.25


@dataclass(frozen=True)
class PriceMoves:
    """``largest``: the largest relative move (signed) and when; ``suspect``: how many moves
    reached SUSPECT_RATIO, and the time of the first."""

    largest: float | None = None
    largest_ts: float | None = None
    suspect: int = 0
    first_suspect_ts: float | None = None


def price_moves(times: Sequence[float], prices: Sequence[float]) -> PriceMoves:
    """The moves of one symbol's prices (in time order; NaN where it had none)."""
    ts, price = np.asarray(times, dtype=float), np.asarray(prices, dtype=float)
    known = np.isfinite(price) & (price > 0)
    ts, price = ts[known], price[known]
    if len(price) < 2:
        return PriceMoves()
    ratio = price[1:] / price[:-1]
    move = ratio - 1
    biggest = int(np.argmax(np.abs(move)))
    suspect = np.flatnonzero(np.maximum(ratio, 1 / ratio) >= SUSPECT_RATIO)
    return PriceMoves(
        float(move[biggest]), float(ts[biggest + 1]), len(suspect), float(ts[suspect[0] + 1]) if len(suspect) else None
    )
