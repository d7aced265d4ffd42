"""Post-trade review (seed "Post-Trade Processing Pipeline"): hooks run in the order
learning.yaml declares after every closed trade. A hook that fails is reported and does
not stop the others, and never the trade: the hooks only update in-memory ledgers, the
trade is committed in the same step, and the hook reports are written after the commit.

The ledgers are derived data: the runner rebuilds them from the stored trades on start.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from typing import Any

STRATEGY = "predictive_flow"
HOLD_TIME_LEARNER = "hold_time"  # the learner kind whose buckets the meta-buckets use
BEYOND, ANY_HOLD = "beyond", "any"  # held past the long bucket's upper end; no hold_time learner declared


def hold_buckets(learning) -> tuple[tuple[str, float], ...]:
    """(name, upper end in s) of the first hold_time learner's buckets, shortest first; ()
    when none is declared."""
    for learner in learning.learners:
        if learner.kind == HOLD_TIME_LEARNER and learner.params.get("buckets"):
            return tuple(sorted(learner.params["buckets"].items(), key=lambda item: item[1]))
    return ()


def hold_bucket(duration_s: float, buckets: tuple[tuple[str, float], ...]) -> str:
    """The first bucket whose upper end the hold does not exceed; ``beyond`` past the last,
    ``any`` without buckets."""
    for name, upper in buckets:
        if duration_s <= upper:
            return name
    return BEYOND if buckets else ANY_HOLD


def _price_move_pct(trade) -> float:
    sign = 1 if trade.direction == "LONG" else -1
    return sign * (trade.exit_price / trade.entry_price - 1) * 100 if trade.entry_price > 0 else 0.0


class PostTrade:
    def __init__(self, plan, starting_equity: float | None = None):
        self.plan = plan
        learning = plan.learning
        self.alpha = 1 - 0.5 ** (1 / learning.expectancy_half_life_trades)
        self.buckets = learning.calibration_buckets
        self.start = (
            starting_equity if starting_equity is not None else plan.paper_broker.get("starting_balance_usd", 0.0)
        )
        self.trades: list = []  # append-only, in the order run() saw them
        # derived from self.trades by _sync, so the gates' per-step reads need not rescan every trade
        self._exits: list[float] = []  # exit_ts of self.trades[:len(self._exits)]
        self._in_exit_order = True  # those exit times are non-decreasing (and not NaN)
        self._running = self._peak = self.start  # realised equity after them, and its peak
        self._windows: dict[str, tuple[tuple[int, int] | None, Any]] = {}
        self.attribution: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.expectancy: dict[str, dict[str, float]] = {}
        self.calibration: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        self.timing: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
        self.hold_buckets = hold_buckets(learning)
        self.meta: dict[str, dict[str, Any]] = {}  # meta-bucket key → its statistics
        self._meta_counted: set[str] = set()  # trade ids already in self.meta
        self.hooks: dict[str, Callable] = {
            "attribution": self._attribution,
            "expectancy_ledger": self._expectancy,
            "prediction_calibration": self._calibration,
            "meta_buckets": self._meta_buckets,
            "timing_outcome": self._timing,
            "outcome_record": self._outcome,
        }

    def run(self, trade) -> list[dict]:
        """Every declared hook on one trade; one report per hook, ok or failed."""
        self.trades.append(trade)
        reports = []
        for name in self.plan.learning.post_trade_hooks:
            try:
                reports.append({"hook": name, "trade_id": trade.id, "status": "ok", "output": self.hooks[name](trade)})
            except Exception as error:
                reports.append(
                    {
                        "hook": name,
                        "trade_id": trade.id,
                        "status": "failed",
                        "error": f"{type(error).__name__}: {error}"[:300],
                    }
                )
        return reports

    # ------------------------------------------------------------------ hooks

    def _attribution(self, trade) -> dict:
        """Net P&L split over symbol, strategy, venue, and the components that voted for it
        (in proportion to their weighted contribution at entry)."""
        for key in (f"symbol:{trade.symbol}", f"strategy:{STRATEGY}", f"venue:{trade.venue}"):
            self.attribution[key]["net_pnl"] += trade.net_pnl
            self.attribution[key]["trades"] += 1
        total = sum(abs(v) for v in trade.attribution.values())
        shares = {cid: trade.net_pnl * abs(v) / total for cid, v in trade.attribution.items()} if total else {}
        for cid, share in shares.items():
            self.attribution[f"component:{cid}"]["net_pnl"] += share
            self.attribution[f"component:{cid}"]["trades"] += 1
        return {"components": shares, "symbol": trade.symbol, "venue": trade.venue, "strategy": STRATEGY}

    def _expectancy(self, trade) -> dict:
        """Decay-weighted net P&L %, execution edge in bps (−(fees + funding) ÷ notional) and
        exit efficiency 0-1 (the move captured ÷ the best move seen)."""
        key = f"{trade.symbol}:{trade.direction}"
        notional = trade.entry_price * trade.quantity
        exec_bps = -(trade.fees + trade.funding) / notional * 1e4 if notional > 0 else 0.0
        peak = trade.peak_pnl_pct
        move = _price_move_pct(trade) * (trade.leverage if self.plan.exits.pnl_basis == "margin" else 1)
        efficiency = min(1.0, max(0.0, move / peak)) if peak > 0 else (1.0 if move >= 0 else 0.0)
        ledger = self.expectancy.setdefault(
            key,
            {"net_pnl_pct": trade.net_pnl_pct, "exec_edge_bps": exec_bps, "exit_efficiency": efficiency, "trades": 0},
        )
        if ledger["trades"]:
            for name, value in (
                ("net_pnl_pct", trade.net_pnl_pct),
                ("exec_edge_bps", exec_bps),
                ("exit_efficiency", efficiency),
            ):
                ledger[name] += self.alpha * (value - ledger[name])
        ledger["trades"] += 1
        return {"key": key, "exec_edge_bps": exec_bps, "exit_efficiency": efficiency, **ledger}

    def _calibration(self, trade) -> dict:
        bucket = min(int(trade.confidence * self.buckets), self.buckets - 1)
        counts = self.calibration[bucket]
        counts[0] += 1
        counts[1] += trade.net_pnl > 0
        return {
            "bucket": bucket,
            "predicted": trade.confidence,
            "won": trade.net_pnl > 0,
            "hit_rate": counts[1] / counts[0],
            "trades": counts[0],
        }

    def _meta_buckets(self, trade) -> dict:
        """Outcomes per meta-bucket (seed phase1016): symbol × side × conviction × hold bucket
        (the hold_time learner's short/medium/long). Per bucket: trades, wins, win rate, total
        and mean net P&L (USD), and the expectancy — net P&L % decay-weighted like the
        expectancy ledger (the first trade sets it). A trade is counted once: running the hook
        on it again (a retry) reports its bucket unchanged, ``counted`` false."""
        hold = hold_bucket(trade.duration_s, self.hold_buckets)
        key = f"{trade.symbol}:{trade.direction}:{trade.conviction}:{hold}"
        ids = {"key": key, "symbol": trade.symbol, "direction": trade.direction, "conviction": trade.conviction}
        counted = trade.id not in self._meta_counted
        bucket = self.meta.setdefault(
            key,
            {
                "trades": 0,
                "wins": 0,
                "win_rate": 0.0,
                "net_pnl_usd": 0.0,
                "avg_net_pnl_usd": 0.0,
                "expectancy_pct": 0.0,
            },
        )
        if counted:
            self._meta_counted.add(trade.id)
            first = not bucket["trades"]
            bucket["trades"] += 1
            bucket["wins"] += trade.net_pnl > 0
            bucket["win_rate"] = bucket["wins"] / bucket["trades"]
            bucket["net_pnl_usd"] += trade.net_pnl
            bucket["avg_net_pnl_usd"] = bucket["net_pnl_usd"] / bucket["trades"]
            expectancy = bucket["expectancy_pct"]
            bucket["expectancy_pct"] = (
                trade.net_pnl_pct if first else expectancy + self.alpha * (trade.net_pnl_pct - expectancy)
            )
        return {**ids, "hold_bucket": hold, "counted": counted, **bucket}

    def _timing(self, trade) -> dict:
        optimal = self.plan.exits.optimal_hold_s(trade.symbol, trade.direction)
        key = f"{trade.symbol}:{trade.direction}"
        stats = self.timing[key]
        stats[0] += 1
        stats[1] += trade.duration_s
        stats[2] += trade.net_pnl_pct
        return {
            "key": key,
            "hold_s": trade.duration_s,
            "optimal_hold_s": optimal,
            "hold_vs_optimal": trade.duration_s / optimal if optimal else None,
            "mean_hold_s": stats[1] / stats[0],
            "mean_net_pnl_pct": stats[2] / stats[0],
        }

    def _outcome(self, trade) -> dict:
        return {
            "trade_id": trade.id,
            "symbol": trade.symbol,
            "direction": trade.direction,
            "conviction": trade.conviction,
            "confidence": trade.confidence,
            "components": dict(trade.attribution),
            "net_pnl_pct": trade.net_pnl_pct,
            "won": trade.net_pnl > 0,
            "duration_s": trade.duration_s,
            "exit_reason": trade.exit_reason,
            "exit_tier": trade.exit_tier,
            "entry_version": trade.entry_version,
            "exit_version": trade.exit_version,
        }

    # ------------------------------------------------------------------ read by the gates

    def trade_stats(self, now: float | None = None) -> dict:
        """(symbol, direction) → trades, win rate, expectancy over learning.trade_lookback
        before ``now`` (default: the last trade's exit)."""
        if not self.trades:
            return {}
        horizon = (self.trades[-1].exit_ts if now is None else now) - self.plan.learning.trade_lookback_s
        stats = self._windowed("trade_stats", horizon, _group_stats)
        return {key: dict(value) for key, value in stats.items()}  # a copy: the cached one is reused

    def account_stats(self, equity: float, now: float | None = None) -> dict:
        """Kill-switch inputs: peak equity (realised) and the win rate over the kill switch's
        lookback before ``now`` — so a halt on a bad win rate lifts once those trades age out."""
        self._sync()
        count = wins = 0
        if self.trades:
            end = self.trades[-1].exit_ts if now is None else now
            count, wins = self._windowed(
                "account_stats",
                end - self.plan.requirements.kill_switch.lookback,
                lambda recent: (len(recent), sum(t.net_pnl > 0 for t in recent)),
            )
        return {"peak_equity_usd": max(self._peak, equity), "trades": count, "win_rate": wins / count if count else 0.0}

    def stable_until(self, now: float) -> float:
        """A time up to which ``trade_stats(t)`` and ``account_stats(e, t)`` stay as they are
        at ``now`` while no trade is added: a second before the oldest trade inside either
        lookback ages out (a second early, clear of float rounding); inf when none can."""
        self._sync()
        bound = math.inf
        for lookback in (self.plan.learning.trade_lookback_s, self.plan.requirements.kill_switch.lookback):
            horizon = now - lookback
            if self._in_exit_order and horizon == horizon:
                k = bisect_left(self._exits, horizon)
                oldest = self._exits[k] if k < len(self._exits) else None
            else:
                oldest = min((t.exit_ts for t in self.trades if t.exit_ts >= horizon), default=None)
            if oldest is not None:
                bound = min(bound, oldest + lookback - 1.0)
        return bound

    # ------------------------------------------------------------------ incremental reads

    def _sync(self) -> None:
        """Fold the trades added since the last read into the exit-time index and the running
        peak (the same float operations, in the same order, as a fresh pass over every trade)."""
        for trade in self.trades[len(self._exits) :]:
            ts = trade.exit_ts
            self._in_exit_order = self._in_exit_order and ts == ts and (not self._exits or ts >= self._exits[-1])
            self._exits.append(ts)
            self._running += trade.net_pnl
            self._peak = max(self._peak, self._running)

    def _windowed(self, name: str, horizon: float, compute: Callable[[list], Any]) -> Any:
        """``compute(trades with exit_ts >= horizon, in order)``, recomputed only when that list changes.

        The trades arrive in exit order, so the window is a suffix ``trades[start:]`` and
        (trade count, start) names it: it changes only when a trade is added or one ages out,
        not every step. Trades out of exit order (or a NaN time) fall back to a fresh scan."""
        self._sync()
        key = None
        if self._in_exit_order and horizon == horizon:
            key = (len(self.trades), bisect_left(self._exits, horizon))
        cached = self._windows.get(name)
        if key is None or cached is None or cached[0] != key:
            recent = self.trades[key[1] :] if key is not None else [t for t in self.trades if t.exit_ts >= horizon]
            cached = self._windows[name] = (key, compute(recent))
        return cached[1]


def _group_stats(trades: list) -> dict:
    """(symbol, direction) → trades, win rate and mean net P&L % of ``trades`` (sums in their order)."""
    groups = defaultdict(list)
    for trade in trades:
        groups[(trade.symbol, trade.direction)].append(trade)
    return {
        key: {
            "trades": len(ts),
            "win_rate": sum(t.net_pnl > 0 for t in ts) / len(ts),
            "expectancy_pct": sum(t.net_pnl_pct for t in ts) / len(ts),
        }
        for key, ts in groups.items()
    }
