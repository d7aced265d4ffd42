"""The figures of a run: pure functions of its trades and its equity curve.

An equity curve is a list of ``[ts, equity_usd]`` points in time order (one per cycle); a
trade is the dict of ``TradeRecord.as_dict`` (``net_pnl``, ``fees``, ``funding``,
``exit_reason``). Every result is a plain float, int or dict, so it goes into JSON as is,
and the formulas below are the ones the pinned dry-run results were computed with: change
one and those results change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

SECONDS_PER_DAY = 86400
DAYS_PER_YEAR = 365  # crypto trades every day of the year


def max_drawdown_pct(equity: Sequence[Sequence[float]]) -> float:
    """The largest fall from a running peak, in % of that peak:
    ``max_t (peak_t - equity_t) / peak_t × 100`` with ``peak_t = max(equity_0..t)``; 0 for an
    empty curve, and a peak of 0 or less measures nothing (no % of nothing)."""
    peak, worst = -math.inf, 0.0
    for _, value in equity:
        peak = max(peak, value)
        if peak > 0:
            worst = max(worst, (peak - value) / peak * 100)
    return worst


def sharpe_ratio(equity: Sequence[Sequence[float]]) -> float | None:
    """Annualised Sharpe ratio of daily equity returns, risk-free rate 0:
    ``mean(r) / sd(r) × √365`` where ``r_d = E_d / E_(d-1) - 1``, ``E_d`` the last equity of
    UTC day ``d`` (days without a point are skipped, not filled) and ``sd`` the sample
    standard deviation (n − 1). A day after one whose equity is 0 or less has no return.
    None with fewer than two returns or no variation: no honest ratio exists then."""
    daily: dict[int, float] = {}
    for ts, value in equity:
        daily[int(ts // SECONDS_PER_DAY)] = value
    values = [daily[d] for d in sorted(daily)]
    returns = [b / a - 1 for a, b in zip(values, values[1:]) if a > 0]
    if len(returns) < 2:
        return None
    mean = sum(returns) / len(returns)
    sd = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
    return mean / sd * math.sqrt(DAYS_PER_YEAR) if sd > 0 else None


def exit_reasons(trades: Sequence[dict[str, Any]]) -> dict[str, int]:
    """How many trades closed for each exit reason, by reason name."""
    reasons: dict[str, int] = {}
    for trade in trades:
        reasons[trade["exit_reason"]] = reasons.get(trade["exit_reason"], 0) + 1
    return dict(sorted(reasons.items()))


def run_metrics(
    trades: Sequence[dict[str, Any]],
    equity: Sequence[Sequence[float]],
    *,
    starting_equity: float,
    cycles: int,
    exposure_cycles: int,
    attribution: dict[str, Any],
) -> dict[str, Any]:
    """Every figure of a run, in the order the dry-run result and the report show them.

    - ``win_rate``: trades with ``net_pnl > 0`` ÷ trades (0.0 without trades);
    - ``net_pnl_usd``: Σ ``net_pnl``; ``net_pnl_pct``: that ÷ starting equity × 100 (0.0
      when the starting equity is 0);
    - ``max_drawdown_pct``: :func:`max_drawdown_pct`; ``sharpe``: :func:`sharpe_ratio`;
    - ``exposure_pct``: cycles with an open position ÷ cycles × 100 (0.0 without cycles);
    - ``fees_usd``, ``funding_usd``: Σ over the trades; ``ending_equity_usd``: the curve's
      last point (the starting equity for an empty curve);
    - ``exit_reasons``: :func:`exit_reasons`; ``attribution``: passed through.
    """
    net = sum(t["net_pnl"] for t in trades)
    return {
        "trades": len(trades),
        "win_rate": sum(t["net_pnl"] > 0 for t in trades) / len(trades) if trades else 0.0,
        "net_pnl_usd": net,
        "net_pnl_pct": net / starting_equity * 100 if starting_equity else 0.0,
        "max_drawdown_pct": max_drawdown_pct(equity),
        "sharpe": sharpe_ratio(equity),
        "exposure_pct": exposure_cycles / cycles * 100 if cycles else 0.0,
        "fees_usd": sum(t["fees"] for t in trades),
        "funding_usd": sum(t["funding"] for t in trades),
        "starting_equity_usd": starting_equity,
        "ending_equity_usd": equity[-1][1] if equity else starting_equity,
        "exit_reasons": exit_reasons(trades),
        "attribution": attribution,
    }
