"""Pure, incremental feature calculators for the signal engine.

Every calculator has the same shape (docs/features.md):

* ``__init__(*, params)`` validates its parameters (``ValueError`` with a clear message);
* ``update(ts, inputs)`` with ``ts`` in epoch seconds: a reading whose ts is not strictly
  later than the last accepted one, or whose input is None/NaN/inf, is ignored whole;
* ``value`` is None while warming up, else a float or a small frozen dataclass;
* ``state()`` / ``from_state()`` round-trip through JSON with bit-identical later values;
* no I/O, no clock, no global state, no lookahead: after updates up to ``t`` the value
  depends only on readings with ``ts <= t``;
* ``last_ts`` is the last accepted ts, for the caller's staleness checks.

The shared plumbing (``last_ts``, the reading check, ``state()``/``from_state()`` from
declared fields) is the ``Feature`` base class in ``_common.py``.

Pure Python: importing this package does not import numpy or pandas.
"""

from __future__ import annotations

from .derivatives import (
    FundingDeviation,
    FundingValue,
    LiquidationCascade,
    LiquidationValue,
    OiDivergenceValue,
    OiPriceDivergence,
    OpenInterestVelocity,
)
from .ema import CrossState, Ema, EmaCross
from .flow import ExchangeNetFlow, OfiMomentum, OfiMomentumValue, OrderFlowImbalance, book_imbalance
from .hurst import HurstExponent
from .leadlag import LeadLag, LeadLagValue
from .mtf import BarCloser, MtfValue, MultiTimeframeAlignment, parse_timeframe
from .sentiment import FearGreed, FearGreedValue, SkewValue, VolatilitySkewProxy
from .window import CountWindow, TimeWindow

__all__ = [
    "BarCloser",
    "CountWindow",
    "CrossState",
    "Ema",
    "EmaCross",
    "ExchangeNetFlow",
    "FearGreed",
    "FearGreedValue",
    "FundingDeviation",
    "FundingValue",
    "HurstExponent",
    "LeadLag",
    "LeadLagValue",
    "LiquidationCascade",
    "LiquidationValue",
    "MtfValue",
    "MultiTimeframeAlignment",
    "OfiMomentum",
    "OfiMomentumValue",
    "OiDivergenceValue",
    "OiPriceDivergence",
    "OpenInterestVelocity",
    "OrderFlowImbalance",
    "SkewValue",
    "TimeWindow",
    "VolatilitySkewProxy",
    "book_imbalance",
    "parse_timeframe",
]
