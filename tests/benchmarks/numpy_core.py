"""A hand-written numpy baseline of the dry-run core (issue 19): the floor bench_dryrun.py
compares the ``columns`` fast path with, on the same file in the same run.

What it does, per symbol of the recording, all cycles at once:

* reads the snapshot file with the core's own reader (``read_recording``), inside the timing;
* answers the ten signal components from the raw columns with the plan's weights, params,
  thresholds and ``max_input_age`` limits (a component whose input is older than its limit,
  or absent, is NEUTRAL). Event-fed kinds (liquidations, funding, open interest, exchange
  flow) are computed at the cycles where their input's publication time advances and held
  in between; candle-fed kinds read one candle per cycle. Simplified against rulebot:
  hurst is re-estimated every cycle (rulebot: every ``recompute_every``) from the same
  lag-1/2/4/8 variance regression; lead_lag pairs candles by cycle, not by candle time;
  order_flow_momentum is always NEUTRAL (a dense recording carries no order book); the
  leader's lead_lag is NEUTRAL as its override says; no running-sum refreshes, so the
  values are close to rulebot's, not bit-identical (on the bundled sample every component
  but hurst answers rulebot's fast-path direction at every cycle, hurst at about 97 %);
* votes (count or weight per ``direction_by``, ``min_aligned``) and the aligned-weight
  confidence; a cycle that reaches a conviction level is an entry signal;
* scans trades: from an entry signal while the symbol is flat, fill at the next cycle's
  price, then with one vectorised test over the forward slice find the first cycle where
  the stop (P&L ≤ −loss_pct), a profit target (age ≥ after and P&L > target), a time-exit
  rule (age ≥ after and P&L < floor) or the timing tier's hard cap (age > 2 × optimal hold,
  its FORCE_EXIT; the factor 2 is written here, the hold is the plan's) fires; the position
  closes there (at the last cycle if none fires), the next entry is looked for after it.
  P&L is on price, as ``pnl_basis: price``.

What it leaves out: the gate chain (conviction, fee, correlation, intelligence, pre-entry,
trading state), sizing and leverage, fees, slippage, funding payments, liquidation, the
broker and its orders, grace windows and min hold, the ladder's partial closes, the
timing tier's other actions, the mtf_alignment and signal_reversal tiers, learning,
state, journal, metrics and fingerprint. Symbols trade independently. So its trades are
not rulebot's: it is a lower bound on the time of the same work shape, not a replica.

Use: ``run(path, rules_dir)``; bench_dryrun.py's ``numpy`` mode calls ``run_plan`` with
the plan it compiled outside the timing.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from adapters.snapshots.columnar import read_recording
from engine.language.compiler import compile_ruleset

HURST_LAGS = (1, 2, 4, 8)  # HurstExponent's default max_lag of 8, as the hurst component builds it
FORCE_EXIT_HOLDS = 2.0  # rules/exits.yaml timing FORCE_EXIT: hold_s > optimal_hold_s * 2


def run(path: str, rules_dir: str) -> dict[str, Any]:
    """Compile the paper plan (outside the timing), then :func:`run_plan`."""
    return run_plan(compile_ruleset(rules_dir).plans["paper"], path)


def run_plan(plan: Any, path: str) -> dict[str, Any]:
    """Read ``path`` and run the core on it; seconds with and without the reading."""
    start = time.perf_counter()
    recording = read_recording(path)
    read = time.perf_counter()
    trades = core(plan, recording)
    end = time.perf_counter()
    return {
        "seconds_compute": end - read,
        "seconds_total": end - start,
        "trades": trades,
        "symbol_cycles": len(recording) * len(recording.symbols),
    }


def core(plan: Any, recording: Any) -> int:
    """Signals, vote and trade scan for every symbol of ``recording``; the trades taken."""
    leader = recording.symbols.get(plan.ruleset.leader) if plan.ruleset.leader else None
    exits = _exit_params(plan.exits)
    trades = 0
    for name, sym in recording.symbols.items():
        direction = _vote(plan.signals, recording, sym, leader)
        trades += _scan(recording.ts, _price(sym), direction, exits, plan.exits, name)
    return trades


# -- the signal components ------------------------------------------------------------


def _vote(spec: Any, recording: Any, sym: Any, leader: Any) -> np.ndarray:
    """int8 per cycle: +1 LONG, −1 SHORT, 0 where no conviction level is reached."""
    n = len(recording)
    times = _input_times(recording, sym, leader)
    directions, confidences = np.zeros((len(spec.components), n)), np.zeros((len(spec.components), n))
    for k, component in enumerate(spec.components):
        answered = KINDS[component.kind](component, recording, sym, None if leader is sym else leader)
        if answered is not None:
            fresh = _fresh(component, times, recording.ts)
            directions[k] = np.where(fresh, answered[0], 0.0)
            confidences[k] = answered[1]
    weights = np.array([c.weight for c in spec.components])
    longs, shorts = directions == 1, directions == -1
    if spec.direction_by == "weight":
        long_score, short_score = weights @ longs, weights @ shorts
    else:
        long_score, short_score = longs.sum(axis=0), shorts.sum(axis=0)
    side = np.sign(long_score - short_score)
    aligned = (directions == side) & (side != 0)
    count, weight = aligned.sum(axis=0), weights @ aligned
    total = weights @ np.where(aligned, confidences, 0.0)
    if spec.confidence_basis == "total_weight":
        confidence = total
    else:
        confidence = np.divide(total, weight, out=np.zeros(n), where=weight > 0)
    reached = np.zeros(n, dtype=bool)
    for level in spec.levels:
        reached |= (count >= level.min_aligned) & (confidence >= level.min_confidence)
    return np.where(reached & (count >= spec.min_aligned), side, 0).astype(np.int8)


def _input_times(recording: Any, sym: Any, leader: Any) -> dict[str, np.ndarray]:
    """Publication time per input name, NaN where the snapshot has none."""
    times = dict(sym.times)
    times["fear_greed"] = np.where(np.isnan(recording.fear_greed), np.nan, recording.fear_greed_ts)
    if leader is not None:
        times["leader_candles_1m"] = leader.times["candles_1m"]
    return times


def _fresh(component: Any, times: dict[str, np.ndarray], now: np.ndarray) -> np.ndarray:
    """Every input limited by ``max_input_age`` was seen and is not older than its limit."""
    ok = np.ones(len(now), dtype=bool)
    for name, limit in component.max_input_age.items():
        column = times.get(name)
        if column is None:
            return np.zeros(len(now), dtype=bool)
        with np.errstate(invalid="ignore"):
            ok &= now - np.fmax.accumulate(column) <= limit  # NaN (never seen) is False
    return ok


Answered = tuple[np.ndarray, np.ndarray] | None  # (direction, confidence) per cycle; None: NEUTRAL throughout


def _liquidation_cascade(c: Any, recording: Any, sym: Any, leader: Any) -> Answered:
    events = _events(sym, "liquidations")
    if events is None:
        return None
    ev, t = events
    p, threshold = c.params, c.thresholds.min_volume_usd
    long_usd = np.nan_to_num(_values(sym, "liq_long_usd")[ev])
    short_usd = np.nan_to_num(_values(sym, "liq_short_usd")[ev])
    longs, shorts = _time_sum(t, long_usd, p.window), _time_sum(t, short_usd, p.window)
    total, newer = longs + shorts, _time_sum(t, long_usd + short_usd, p.window / 2)
    share = np.maximum(longs, shorts) / np.where(total > 0, total, 1.0)
    on = (t - t[0] >= p.window) & (total >= threshold) & (share > p.min_dominance) & (longs != shorts)
    older = total - newer
    accelerating = (older > 0) & (newer > older)  # newer half ÷ older half > 1
    confidence = _scaled(total, threshold, p.full_confidence_multiple) + p.acceleration_boost * accelerating
    direction = np.where(on, np.where(longs > shorts, -1.0, 1.0), 0.0)  # long liquidations: forced sells, SHORT
    return _held(ev, direction, np.minimum(confidence, 1.0), len(recording))


def _whale_flow(c: Any, recording: Any, sym: Any, leader: Any) -> Answered:
    events = _events(sym, "exchange_netflow")
    if events is None:
        return None
    ev, t = events
    p, threshold = c.params, c.thresholds.min_flow_usd
    flow = _time_sum(t, np.nan_to_num(_values(sym, "exchange_netflow_usd")[ev]), p.window)
    on = (t - t[0] >= p.window) & (np.abs(flow) >= threshold) & (flow != 0)
    confidence = _scaled(np.abs(flow), threshold, p.full_confidence_multiple)
    return _held(ev, np.where(on, -np.sign(flow), 0.0), confidence, len(recording))


def _funding_rate(c: Any, recording: Any, sym: Any, leader: Any) -> Answered:
    events = _events(sym, "funding_rate")
    if events is None:
        return None
    ev, _ = events
    threshold = c.thresholds.min_deviation
    rate = _values(sym, "funding_rate")[ev]
    deviation = rate - _rolling_sum(rate, c.params.window) / c.params.window  # NaN until the window is full
    on = (np.abs(deviation) >= threshold) & (deviation != 0)
    confidence = _scaled(np.abs(deviation), threshold, c.params.full_confidence_multiple)
    return _held(ev, np.where(on, -np.sign(deviation), 0.0), confidence, len(recording))


def _hurst(c: Any, recording: Any, sym: Any, leader: Any) -> Answered:
    close = sym.candles.close
    x, n, window = np.log(close), len(close), c.params.window
    logs = np.log(HURST_LAGS)
    coef = 0.5 * (logs - logs.mean()) / ((logs - logs.mean()) ** 2).sum()
    h = np.zeros(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        for lag, k in zip(HURST_LAGS, coef):
            d = np.zeros(n)
            d[lag:] = x[lag:] - x[:-lag]
            m = window + 1 - lag  # increments of this lag among the window's window + 1 prices
            mean = _rolling_sum(d, m) / m
            h += k * np.log(_rolling_sum(d * d, m) / m - mean * mean)  # NaN/−inf on a flat window
    lookback = c.params.trend_lookback
    trend = np.zeros(n)
    trend[lookback:] = np.sign(close[lookback:] - close[:-lookback])
    th = c.thresholds
    warm = (np.arange(n) >= max(window, lookback)) & np.isfinite(h)
    direction = np.where(h > th.trending_above, trend, np.where(h < th.mean_reverting_below, -trend, 0.0))
    return np.where(warm, direction, 0.0), np.minimum(np.abs(h - 0.5) / 0.5, 1.0)


def _lead_lag(c: Any, recording: Any, sym: Any, leader: Any) -> Answered:
    if leader is None:  # no leader, or this symbol is the leader (its override: NEUTRAL)
        return None
    follower, lead = _log_returns(sym.candles.close), _log_returns(leader.candles.close)
    w, n = c.params.window, len(follower)
    sy, syy = _rolling_sum(follower, w), _rolling_sum(follower * follower, w)
    best_r, best_lag = np.full(n, -np.inf), np.zeros(n, dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        for lag in range(1, c.params.max_lag + 1):
            x = np.zeros(n)
            x[lag:] = lead[:-lag]  # the leader's return lag cycles earlier
            sx, sxx, sxy = _rolling_sum(x, w), _rolling_sum(x * x, w), _rolling_sum(x * follower, w)
            r = np.minimum((w * sxy - sx * sy) / np.sqrt((w * sxx - sx * sx) * (w * syy - sy * sy)), 1.0)
            better = r > best_r  # ties go to the shorter lag
            best_r, best_lag = np.where(better, r, best_r), np.where(better, lag, best_lag)
    cum = np.concatenate(([0.0], np.cumsum(lead)))
    index = np.arange(n)
    move_pct = np.expm1(cum[index + 1] - cum[np.maximum(index + 1 - best_lag, 0)]) * 100  # over the best lag
    th = c.thresholds
    on = (index >= w + c.params.max_lag) & (np.abs(best_r) >= th.min_correlation)
    on &= (np.abs(move_pct) >= th.min_leader_move_pct) & (move_pct != 0)
    return np.where(on, np.sign(move_pct * np.where(on, best_r, 0.0)), 0.0), np.minimum(np.abs(best_r), 1.0)


def _order_flow_momentum(c: Any, recording: Any, sym: Any, leader: Any) -> Answered:
    return None  # needs order books, which a dense recording never carries


def _fear_greed(c: Any, recording: Any, sym: Any, leader: Any) -> Answered:
    value = _ffill(recording.fear_greed)
    fear, greed = c.thresholds.fear_below, c.thresholds.greed_above
    direction = np.where(value < fear, 1.0, np.where(value > greed, -1.0, 0.0))  # NaN: neither
    confidence = np.where(value < fear, (fear - value) / max(fear, 1e-12), (value - greed) / max(100 - greed, 1e-12))
    return direction, np.clip(confidence, 0.0, 1.0)


def _volatility_skew(c: Any, recording: Any, sym: Any, leader: Any) -> Answered:
    r, w, threshold = _log_returns(sym.candles.close), c.params.window, c.thresholds.min_skew
    down, up = _rolling_sum(np.minimum(r, 0.0) ** 2, w), _rolling_sum(np.maximum(r, 0.0) ** 2, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        skew = np.sqrt(down / up) - 1.0
    on = (np.arange(len(r)) >= w) & (up > 0) & (np.abs(skew) >= threshold) & (skew != 0)
    confidence = _scaled(np.abs(skew), threshold, c.params.full_confidence_multiple)
    return np.where(on, np.sign(skew), 0.0), confidence


def _oi_velocity(c: Any, recording: Any, sym: Any, leader: Any) -> Answered:
    changes = _oi_price_changes(c, sym)
    if changes is None:
        return None
    ev, ok, price_pct, oi_pct = changes
    threshold = c.thresholds.min_change_pct
    on = ok & (oi_pct >= threshold)  # rising OI: new money, on the side price moved
    confidence = _scaled(oi_pct, threshold, c.params.full_confidence_multiple)
    return _held(ev, np.where(on, np.sign(price_pct), 0.0), confidence, len(recording))


def _oi_divergence(c: Any, recording: Any, sym: Any, leader: Any) -> Answered:
    changes = _oi_price_changes(c, sym)
    if changes is None:
        return None
    ev, ok, price_pct, oi_pct = changes
    m = c.thresholds.min_move_pct
    direction = np.where(ok & (price_pct > m) & (oi_pct < -m), -1.0, 0.0)  # rally on closing shorts
    direction = np.where(ok & (price_pct < -m) & (oi_pct > m), 1.0, direction)  # new shorts to squeeze
    strength = np.minimum(np.abs(price_pct), np.abs(oi_pct))
    return _held(ev, direction, _scaled(strength, m, c.params.full_confidence_multiple), len(recording))


KINDS = {
    "liquidation_cascade": _liquidation_cascade,
    "whale_flow": _whale_flow,
    "funding_rate": _funding_rate,
    "hurst": _hurst,
    "lead_lag": _lead_lag,
    "order_flow_momentum": _order_flow_momentum,
    "fear_greed": _fear_greed,
    "volatility_skew": _volatility_skew,
    "oi_velocity": _oi_velocity,
    "oi_divergence": _oi_divergence,
}


def _oi_price_changes(c: Any, sym: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """At each open-interest publication: % change of price and OI since the last reading
    at or before ``window`` ago (as-of, refused past twice the window), and where known."""
    events = _events(sym, "open_interest")
    if events is None:
        return None
    ev, t = events
    oi, price, window = _values(sym, "open_interest_usd")[ev], _price(sym)[ev], c.params.window
    anchor = np.searchsorted(t, t - window, side="right") - 1
    base = np.maximum(anchor, 0)
    ok = (anchor >= 0) & (t - t[base] <= 2 * window) & (oi[base] != 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ev, ok, (price / price[base] - 1) * 100, (oi / oi[base] - 1) * 100


# -- the trade scan -------------------------------------------------------------------


def _exit_params(spec: Any) -> dict[str, Any]:
    """The stop, profit targets and time-exit rules of the plan's exit tiers."""
    tiers = {tier.kind: tier.params for tier in spec.tiers}
    stop, target, time_exit = tiers.get("stop_loss"), tiers.get("profit_target"), tiers.get("time_exit")
    return {
        "stop": stop.loss_pct if stop else np.inf,
        "targets": [(t.after, t.pnl_pct) for t in target.targets] if target else [],
        "floors": [(r.after, r.below_pnl_pct) for r in time_exit.rules] if time_exit else [],
    }


def _scan(ts: np.ndarray, price: np.ndarray, direction: np.ndarray, exits: dict[str, Any], spec: Any, name: str) -> int:
    """Trades of one symbol: one entry at a time, its exit found over the forward slice."""
    entries = np.flatnonzero(direction)
    max_hold = {
        side: FORCE_EXIT_HOLDS
        * spec.optimal_hold_by_position.get(f"{name}:{'LONG' if side > 0 else 'SHORT'}", spec.optimal_hold_default_s)
        for side in (1, -1)
    }
    n, free, trades = len(ts), 0, 0
    while True:
        k = int(np.searchsorted(entries, free))
        if k == len(entries) or entries[k] + 1 >= n:
            return trades
        fill, side = int(entries[k]) + 1, int(direction[entries[k]])
        cap = max_hold[side]
        end = min(n, int(np.searchsorted(ts, ts[fill] + cap, side="right")) + 1)  # through the first past the cap
        hold = ts[fill + 1 : end] - ts[fill]
        pnl = side * (price[fill + 1 : end] / price[fill] - 1.0) * 100.0
        fire = (pnl <= -exits["stop"]) | (hold > cap)
        for after, target in exits["targets"]:
            fire |= (hold >= after) & (pnl > target)
        for after, floor in exits["floors"]:
            fire |= (hold >= after) & (pnl < floor)
        close = fill + 1 + int(np.argmax(fire)) if fire.any() else end - 1
        trades += 1
        free = close + 1


# -- column helpers -------------------------------------------------------------------


def _values(sym: Any, key: str) -> np.ndarray:
    column = sym.values.get(key)
    return np.full(len(sym.candles), np.nan) if column is None else column


def _price(sym: Any) -> np.ndarray:
    """The snapshot price, the candle's close where there is none."""
    price = _values(sym, "price")
    return np.where(np.isnan(price), sym.candles.close, price)


def _events(sym: Any, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Cycles where the input's publication time advances (a repeated reading changes no
    feature) and those times; None when the input never arrives."""
    times = sym.times.get(name)
    if times is None:
        return None
    before = np.concatenate(([-np.inf], np.fmax.accumulate(times)[:-1]))
    ev = np.flatnonzero(times > np.where(np.isnan(before), -np.inf, before))
    return (ev, times[ev]) if len(ev) else None


def _held(ev: np.ndarray, direction: np.ndarray, confidence: np.ndarray, n: int) -> Answered:
    """Answers at the events, held to each cycle until the next one (NEUTRAL before the first)."""
    k = np.searchsorted(ev, np.arange(n), side="right") - 1
    before = k < 0
    k = np.maximum(k, 0)
    return np.where(before, 0.0, direction[k]), np.where(before, 0.0, confidence[k])


def _time_sum(t: np.ndarray, x: np.ndarray, seconds: float) -> np.ndarray:
    """At each reading: the sum of ``x`` over (t − seconds, t]."""
    cum = np.concatenate(([0.0], np.cumsum(x)))
    return cum[1:] - cum[np.searchsorted(t, t - seconds, side="right")]


def _rolling_sum(x: np.ndarray, w: int) -> np.ndarray:
    """At each index: the sum of the last ``w`` values, NaN before there are ``w``."""
    cum = np.concatenate(([0.0], np.cumsum(x)))
    out = np.full(len(x), np.nan)
    out[w - 1 :] = cum[w:] - cum[: len(cum) - w]
    return out


def _log_returns(close: np.ndarray) -> np.ndarray:
    out = np.zeros(len(close))
    out[1:] = np.log(close[1:] / close[:-1])
    return out


def _ffill(column: np.ndarray) -> np.ndarray:
    index = np.maximum.accumulate(np.where(np.isnan(column), -1, np.arange(len(column))))
    return np.where(index < 0, np.nan, column[np.maximum(index, 0)])


def _scaled(magnitude: np.ndarray, threshold: float, multiple: float) -> np.ndarray:
    """Confidence past a threshold: 1 at ``multiple`` × threshold, linear, capped at 1."""
    if threshold <= 0:
        return np.ones(len(magnitude))
    return np.minimum(np.nan_to_num(magnitude) / (threshold * multiple), 1.0)
