"""Shared builders for the signal-stage tests.

Everything goes through the real path: JSON-shaped dicts → ``parse_snapshot`` →
``SignalEngine(plan).update`` → ``evaluate(symbol, now)``, with the plans compiled from
the real ``rules/`` directory. Thresholds, weights, windows and staleness limits are read
from those plans, never restated in code, so editing ``rules/signals.yaml`` changes what
these tests see.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from types import SimpleNamespace

from engine.language.compiler import compile_ruleset
from engine.market.snapshot import parse_snapshot
from engine.trading.signals.components import COMPONENTS
from engine.trading.signals.engine import SignalEngine

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"

#: An hour boundary (2023-11-14 22:00 UTC); every test clock is an offset from it.
T0 = 1_699_999_200.0
MIN, HOUR, DAY = 60.0, 3600.0, 86400.0

LEADER, FOLLOWER = "BTCUSDT", "ETHUSDT"
PROFILES = ("paper", "live")


@functools.cache
def compiled(root: str = str(RULES)):
    result = compile_ruleset(root)
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.plans


def plan(profile: str, root: str = str(RULES)):
    return compiled(root)[profile]


def component(plan_or_profile, component_id: str):
    p = plan(plan_or_profile) if isinstance(plan_or_profile, str) else plan_or_profile
    return next(c for c in p.signals.components if c.id == component_id)


def snap(ts: float, symbols: dict | None = None, **top):
    """A Snapshot from its JSON shape; the test fails if the parser drops anything."""
    obj = {"ts": ts, "symbols": symbols or {}, **top}
    snapshot, problems = parse_snapshot(obj)
    assert snapshot is not None and not problems, [str(p) for p in problems]
    return snapshot


def feed(plan_or_profile, snapshots) -> SignalEngine:
    p = plan(plan_or_profile) if isinstance(plan_or_profile, str) else plan_or_profile
    engine = SignalEngine(p)
    for s in snapshots:
        engine.update(s)
    return engine


def result(record, component_id: str):
    """The ComponentResult of ``component_id`` in a SignalRecord."""
    return next(c for c in record.components if c.id == component_id)


def run(plan_or_profile, component_id: str, snapshots, now: float, symbol: str = FOLLOWER):
    """Feed ``snapshots`` to a fresh engine and return ``component_id``'s result at ``now``."""
    return result(feed(plan_or_profile, snapshots).evaluate(symbol, now), component_id)


def direct(profile: str, component_id: str, value, **state):
    """Ask a component module directly, with a hand-built feature value.

    Used only for exact-threshold comparisons that float arithmetic upstream cannot land
    on (e.g. a slope of exactly 0.02/min): the comparison under test is the component's.
    """
    spec = component(profile, component_id)
    fake = SimpleNamespace(value=value, **state)
    return COMPONENTS[spec.kind].evaluate(spec, fake)


def candles(start_open_ts: float, closes, first_open: float | None = None) -> list:
    """One-minute candles [open_ts, open, high, low, close, volume]; each opens at the
    previous close."""
    out, prev = [], closes[0] if first_open is None else first_open
    for i, close in enumerate(closes):
        out.append([start_open_ts + i * MIN, prev, max(prev, close), min(prev, close), close, 1.0])
        prev = close
    return out


def closes_from_returns(start: float, log_returns) -> list[float]:
    closes = [start]
    for r in log_returns:
        closes.append(closes[-1] * math.exp(r))
    return closes


def book(bid_sizes, ask_sizes, mid: float = 100.0) -> dict:
    """A best-first book with the given sizes per level."""
    return {
        "bids": [[mid - 0.5 - i * 0.1, s] for i, s in enumerate(bid_sizes)],
        "asks": [[mid + 0.5 + i * 0.1, s] for i, s in enumerate(ask_sizes)],
    }
