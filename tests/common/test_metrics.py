"""engine.report.metrics: the run figures as pure functions, checked against hand-worked
values and an independent statistics computation."""

from __future__ import annotations

import math
import statistics

import pytest

from engine.report.metrics import exit_reasons, max_drawdown_pct, run_metrics, sharpe_ratio

DAY = 86400


def test_drawdown_is_the_largest_fall_from_a_running_peak():
    equity = [[0, 100.0], [1, 120.0], [2, 90.0], [3, 130.0], [4, 117.0]]
    assert max_drawdown_pct(equity) == pytest.approx(25.0)  # 120 → 90; 130 → 117 is only 10 %


def test_drawdown_of_nothing_or_of_no_positive_peak_is_zero():
    assert max_drawdown_pct([]) == 0.0
    assert max_drawdown_pct([[0, 0.0], [1, -5.0]]) == 0.0


def test_sharpe_uses_the_last_equity_of_each_day_and_the_sample_deviation():
    closes = [100.0, 110.0, 99.0, 108.9, 104.0]
    equity = [[d * DAY + 60, 1.0] for d in range(len(closes))]  # an earlier point each day ...
    equity += [[d * DAY + 3600, close] for d, close in enumerate(closes)]  # ... the last one counts
    equity.sort()
    returns = [b / a - 1 for a, b in zip(closes, closes[1:])]
    expected = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(365)
    assert sharpe_ratio(equity) == pytest.approx(expected, rel=1e-12)


def test_sharpe_skips_days_without_points_rather_than_filling_them():
    with_gap = [[0, 100.0], [5 * DAY, 110.0], [6 * DAY, 99.0]]
    assert sharpe_ratio(with_gap) == sharpe_ratio([[0, 100.0], [DAY, 110.0], [2 * DAY, 99.0]])


def test_sharpe_is_none_without_two_returns_or_without_variation():
    assert sharpe_ratio([]) is None
    assert sharpe_ratio([[0, 100.0], [DAY, 101.0]]) is None  # one return
    assert sharpe_ratio([[d * DAY, 100.0] for d in range(4)]) is None  # flat: sd 0
    assert sharpe_ratio([[0, 0.0], [DAY, 5.0], [2 * DAY, 6.0]]) is None  # no return after 0


def test_exit_reasons_are_counted_and_sorted():
    trades = [{"exit_reason": r} for r in ("stop_loss", "profit_target", "stop_loss")]
    assert list(exit_reasons(trades).items()) == [("profit_target", 1), ("stop_loss", 2)]


def _trade(net: float, reason: str = "stop_loss") -> dict:
    return {"net_pnl": net, "fees": 1.5, "funding": -0.25, "exit_reason": reason}


def test_run_metrics_of_a_small_run():
    trades = [_trade(30.0, "profit_target"), _trade(-10.0), _trade(0.0)]
    equity = [[0, 1000.0], [DAY, 1030.0], [2 * DAY, 1020.0]]
    figures = run_metrics(
        trades, equity, starting_equity=1000.0, cycles=8, exposure_cycles=2, attribution={"funding_rate": 4.0}
    )
    assert figures == {
        "trades": 3,
        "win_rate": 1 / 3,  # a flat trade is no win
        "net_pnl_usd": 20.0,
        "net_pnl_pct": 2.0,
        "max_drawdown_pct": max_drawdown_pct(equity),
        "sharpe": sharpe_ratio(equity),
        "exposure_pct": 25.0,
        "fees_usd": 4.5,
        "funding_usd": -0.75,
        "starting_equity_usd": 1000.0,
        "ending_equity_usd": 1020.0,
        "exit_reasons": {"profit_target": 1, "stop_loss": 2},
        "attribution": {"funding_rate": 4.0},
    }
    assert list(figures) == list(run_metrics([], [], starting_equity=0.0, cycles=0, exposure_cycles=0, attribution={}))


def test_run_metrics_of_an_empty_run_divides_by_nothing():
    figures = run_metrics([], [], starting_equity=0.0, cycles=0, exposure_cycles=0, attribution={})
    assert figures["win_rate"] == figures["net_pnl_pct"] == figures["exposure_pct"] == 0.0
    assert figures["ending_equity_usd"] == 0.0 and figures["sharpe"] is None
