"""Builders of realistic dry-run results (the dict ``engine.replay.dryrun`` returns and the CLI
extends with ``rules_dir``, ``snapshot_files``, ``vs`` and ``differing_decisions``).

Deterministic for a given seed; passed through JSON so that the renderer sees exactly what
a ``result.json`` written by ``rulebot dry-run --out`` would give it.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np

START = 1_748_131_200.0  # 2025-05-25 00:00:00 UTC
BASE_PRICES = {"BTCUSDT": 67_250.0, "ETHUSDT": 3_480.0, "SOLUSDT": 172.5, "DOGEUSDT": 0.2143}
EXIT_WIN = ("TAKE_PROFIT", "LADDER_RUNG", "TIMING_TAKE_PROFIT", "TRAILING_STOP")
EXIT_LOSS = ("STOP_LOSS", "TIME_LIMIT", "SIGNAL_REVERSAL", "MTF_ALIGNMENT_LOST")
COMPONENTS = (
    "liquidation_cascade",
    "whale_flow",
    "funding_rate",
    "hurst",
    "lead_lag",
    "order_flow_momentum",
    "fear_greed",
    "volatility_skew",
    "oi_velocity",
    "oi_divergence",
)
STARTING_EQUITY = 10_000.0


def price_paths(symbols, ts: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Geometric random walks, one per symbol (about 2.5 % daily volatility at 1-minute steps)."""
    rng = np.random.default_rng(seed)
    out = {}
    for symbol in symbols:
        base = BASE_PRICES.get(symbol, 1.0 + rng.random() * 100)
        steps = rng.normal(0.0, 0.025 / math.sqrt(1440), len(ts))
        out[symbol] = base * np.exp(np.cumsum(steps))
    return out


def make_trades(n: int, symbols, ts: np.ndarray, paths: dict, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    trades = []
    if len(ts) < 3 or n == 0:
        return trades
    for i in range(n):
        symbol = symbols[int(rng.integers(len(symbols)))]
        opened = int(rng.integers(0, len(ts) - 2))
        closed = min(len(ts) - 1, opened + int(rng.integers(5, 720)))
        direction = "LONG" if rng.random() < 0.55 else "SHORT"
        entry, exit_ = float(paths[symbol][opened]), float(paths[symbol][closed])
        leverage = float(rng.choice([2.0, 3.0, 5.0]))
        quantity = round(float(rng.uniform(800, 3000)) / entry, 6)
        sign = 1 if direction == "LONG" else -1
        gross = sign * (exit_ - entry) * quantity
        fees = 0.0005 * quantity * (entry + exit_)
        funding = float(rng.normal(0.0, 0.15))
        net = gross - fees - funding
        weights = rng.dirichlet(np.ones(len(COMPONENTS)))
        trades.append(
            {
                "id": f"pos-{i + 1:05d}",
                "symbol": symbol,
                "direction": direction,
                "venue": "kraken_futures",
                "entry_ts": float(ts[opened]),
                "exit_ts": float(ts[closed]),
                "entry_price": entry,
                "exit_price": exit_,
                "quantity": quantity,
                "leverage": leverage,
                "gross_pnl": gross,
                "fees": fees,
                "funding": funding,
                "net_pnl": net,
                "net_pnl_pct": net / (entry * quantity) * 100,
                "duration_s": float(ts[closed] - ts[opened]),
                "exit_reason": str(rng.choice(EXIT_WIN if net > 0 else EXIT_LOSS)),
                "exit_tier": str(rng.choice(["tier_1", "tier_2", "tier_3", "stop"])),
                "entry_version": "rs-x",
                "exit_version": "rs-x",
                "conviction": str(rng.choice(["LOW", "MEDIUM", "HIGH"])),
                "confidence": float(rng.uniform(0.4, 0.95)),
                "attribution": {c: float(w * 0.8) for c, w in zip(COMPONENTS, weights)},  # contributions at entry
                "peak_pnl_pct": float(abs(rng.normal(0.8, 0.5))),
            }
        )
    trades.sort(key=lambda t: (t["exit_ts"], t["id"]))
    return trades


def equity_curve(ts: np.ndarray, trades: list[dict], seed: int) -> np.ndarray:
    """Realised P&L stepped in at each exit plus a little unrealised noise while exposed."""
    rng = np.random.default_rng(seed)
    realised = np.zeros(len(ts))
    for t in trades:
        realised[np.searchsorted(ts, t["exit_ts"]) :] += t["net_pnl"]
    noise = np.cumsum(rng.normal(0.0, 0.6, len(ts)))
    noise -= np.linspace(0.0, noise[-1] if len(noise) else 0.0, len(ts))  # ends at the realised figure
    return STARTING_EQUITY + realised + noise


def metrics_of(trades: list[dict], equity: np.ndarray) -> dict:
    net = sum(t["net_pnl"] for t in trades)
    reasons: dict[str, int] = {}
    attribution: dict[str, float] = {}
    for t in trades:
        reasons[t["exit_reason"]] = reasons.get(t["exit_reason"], 0) + 1
        total = sum(abs(v) for v in t["attribution"].values())
        for c, v in t["attribution"].items():  # as engine.trading.posttrade: net P&L split by |contribution|
            attribution[c] = attribution.get(c, 0.0) + t["net_pnl"] * abs(v) / total
    peak = np.maximum.accumulate(equity) if len(equity) else equity
    drawdown = float(((peak - equity) / peak * 100).max()) if len(equity) else 0.0
    return {
        "trades": len(trades),
        "win_rate": sum(t["net_pnl"] > 0 for t in trades) / len(trades) if trades else 0.0,
        "net_pnl_usd": net,
        "net_pnl_pct": net / STARTING_EQUITY * 100,
        "max_drawdown_pct": drawdown,
        "sharpe": 1.37 if trades else None,
        "exposure_pct": 37.2 if trades else 0.0,
        "fees_usd": sum(t["fees"] for t in trades),
        "funding_usd": sum(t["funding"] for t in trades),
        "starting_equity_usd": STARTING_EQUITY,
        "ending_equity_usd": float(equity[-1]) if len(equity) else STARTING_EQUITY,
        "exit_reasons": dict(sorted(reasons.items())),
        "attribution": attribution,
    }


def _sample(points: list, limit: int | None) -> list:
    if limit is None or len(points) <= limit:
        return points
    step = math.ceil(len(points) / limit)
    return points[::step] + ([points[-1]] if (len(points) - 1) % step else [])


def _fingerprint(trades: list[dict]) -> str:
    text = json.dumps(trades, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _run(version: str, ts, symbols, paths, n_trades: int, seed: int, curve_limit) -> dict:
    trades = make_trades(n_trades, list(symbols), ts, paths, seed)
    equity = equity_curve(ts, trades, seed + 1)
    points = [[float(t), float(e)] for t, e in zip(ts, equity)]
    return {
        "version": version,
        "profile": "paper",
        "start": float(ts[0]) if len(ts) else None,
        "end": float(ts[-1]) if len(ts) else None,
        "cycles": len(ts),
        "symbols": sorted(symbols),
        "interrupted": False,
        "fingerprint": _fingerprint(trades),
        "metrics": metrics_of(trades, equity),
        "equity": _sample(points, curve_limit),
        "prices": {s: _sample([[float(t), float(p)] for t, p in zip(ts, paths[s])], 2000) for s in symbols},
        "trades": trades,
        "decisions": [],
        "jobs": {"bot_cycle": len(ts)},
        "open_positions": 1 if trades else 0,
    }


def make_result(
    *,
    cycles: int = 2016,
    trades: int = 42,
    symbols=("BTCUSDT", "ETHUSDT"),
    vs: bool = False,
    vs_trades: int | None = None,
    differing: int = 25,
    seed: int = 7,
    step_s: float = 60.0,
    curve_limit: int | None = 5000,
) -> dict:
    """A dry-run result over ``cycles`` cycles of ``step_s`` seconds; with ``vs``, a second rule
    set over the same prices and ``differing`` differing decisions. ``curve_limit=None`` keeps
    one equity point per cycle."""
    ts = START + np.arange(cycles, dtype=float) * step_s
    paths = price_paths(symbols, ts, seed)
    result = _run("rs-3f9a0c21d4e7", ts, symbols, paths, trades, seed + 10, curve_limit)
    result.update(
        rules_dir="rules", snapshot_files=["data/sample/2025-05-25.parquet", "data/sample/2025-06-01.parquet"]
    )
    if vs:
        result["vs"] = _run(
            "rs-b71e55a09c12", ts, symbols, paths, trades if vs_trades is None else vs_trades, seed + 20, curve_limit
        )
        rng = np.random.default_rng(seed + 30)
        labels = ["TRADE LONG", "TRADE SHORT", "NO_TRADE SIGNAL_CONVICTION_TOO_LOW", "NO_TRADE GATE_FEES", "NEUTRAL"]
        diffs = []
        for i in sorted(rng.choice(max(cycles, 1), size=min(differing, max(cycles, 1)), replace=differing > cycles)):
            a, b = rng.choice(len(labels), size=2, replace=False)
            diffs.append(
                {
                    "ts": float(START + i * step_s),
                    "symbol": str(rng.choice(list(symbols))),
                    "a": labels[a],
                    "b": labels[b],
                }
            )
        result["differing_decisions"] = diffs
    else:
        result["vs"] = None
    return json.loads(json.dumps(result))


def empty_result() -> dict:
    """A run that saw no snapshot in its window."""
    return {
        "version": "rs-0000",
        "profile": "paper",
        "rules_dir": "rules",
        "snapshot_files": [],
        "start": None,
        "end": None,
        "cycles": 0,
        "symbols": [],
        "fingerprint": _fingerprint([]),
        "metrics": {
            "trades": 0,
            "win_rate": 0.0,
            "net_pnl_usd": 0.0,
            "net_pnl_pct": 0.0,
            "max_drawdown_pct": 0.0,
            "sharpe": None,
            "exposure_pct": 0.0,
            "fees_usd": 0.0,
            "funding_usd": 0.0,
            "starting_equity_usd": STARTING_EQUITY,
            "ending_equity_usd": STARTING_EQUITY,
            "exit_reasons": {},
            "attribution": {},
        },
        "equity": [],
        "prices": {},
        "trades": [],
        "vs": None,
    }
