"""Builders shared by the exit, P&L and post-trade tests.

* ``plan()``: the compiled default paper plan of ``rules/`` (compiled once);
  ``plan_with(tmp, mutate)``: a tmp copy of ``rules/`` with YAML edits, compiled.
* ``position(...)``: an ``OpenPosition`` built by hand for ``evaluate_exits``;
  ``market(...)``: the market values the exit vocabulary reads (alignment, EMA trend).
* ``Harness``: a real ``Runner`` + ``PaperBroker`` + ``StateStore`` fed hand-made snapshot
  dicts through ``parse_snapshot``. ``signals(direction)`` makes the default rules want that
  direction: a liquidation cascade on the other side (1 M USD per snapshot, far above the
  paper threshold of 50 k) plus extreme fear (LONG) or greed (SHORT). Two aligned components
  at confidence 0.857 give conviction LOW: leverage 2, margin 10 % × 0.455 of 10 000 USD, so
  at 100 000 USD/BTC the order is 0.0091 BTC (see ``test_pnl.py`` for the arithmetic).
"""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from adapters.paper.broker import PaperBroker
from adapters.store.state import StateStore
from engine.language.compiler import compile_ruleset
from engine.market.snapshot import parse_snapshot
from engine.trading.positions import OpenPosition
from engine.trading.runner import Runner, Sinks

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"

#: 2025-05-25 00:00 UTC: a whole hour, so T0 + k·3600 are Kraken funding times.
T0 = 1_748_131_200.0
MIN, HOUR = 60.0, 3600.0
SINKS = ("signals", "universe", "exits", "trades", "post_trade")


# ------------------------------------------------------------------ plans


@functools.cache
def _compiled(root: str):
    result = compile_ruleset(root, ["paper"])
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.plans["paper"]


def plan():
    """The default paper plan of rules/."""
    return _compiled(str(RULES))


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # the strict loader refuses anchors
        return True


def plan_with(tmp: Path, mutate: Mapping[str, Callable[[dict], None]]):
    """A plan compiled from a copy of rules/ where ``mutate[file stem](document)`` edited
    each named file (e.g. ``{"exits": lambda d: d.update(pnl_basis="margin")}``)."""
    root = tmp / "rules"
    shutil.copytree(RULES, root)
    for stem, edit in mutate.items():
        path = root / f"{stem}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        edit(data)
        path.write_text(yaml.dump(data, Dumper=_NoAliases, sort_keys=False), encoding="utf-8")
    result = compile_ruleset(str(root), ["paper"])
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.plans["paper"]


def tier_doc(exits_doc: dict, tier_id: str) -> dict:
    return next(t for t in exits_doc["tiers"] if t["id"] == tier_id)


# ------------------------------------------------------------------ positions for evaluate_exits


def position(
    *,
    direction: str = "LONG",
    entry: float = 100.0,
    leverage: float = 3.0,
    opened_at: float = T0,
    grace_s: float = 120.0,
    conviction: str = "LOW",
    alignment_at_entry: float | None = 0.6,
    trend_at_entry: int | None = None,
    **changes,
) -> OpenPosition:
    """A 1-unit BTCUSDT position opened at ``opened_at``; trend at entry defaults to with the position."""
    sign = 1 if direction == "LONG" else -1
    base = OpenPosition(
        id="pos-1",
        symbol="BTCUSDT",
        direction=direction,
        venue="kraken_futures",
        entry_price=entry,
        quantity=1.0,
        initial_quantity=1.0,
        leverage=leverage,
        opened_at=opened_at,
        entry_version=plan().version,
        conviction=conviction,
        confidence=0.7,
        grace_until=opened_at + grace_s,
        alignment_at_entry=alignment_at_entry,
        trend_at_entry=sign if trend_at_entry is None else trend_at_entry,
    )
    return replace(base, **changes)


def market(alignment: float | None = None, trend: int | None = None, direction: str = "LONG") -> dict:
    """Market values for ``evaluate_exits``: the alignment of the position's side
    (mtf_long / mtf_short) and the EMA trend as the sign of ema_spread_pct."""
    out: dict = {}
    if alignment is not None:
        out["mtf_long" if direction == "LONG" else "mtf_short"] = alignment
    if trend is not None:
        out["ema_spread_pct"] = 0.1 * trend
    return out


def at(minutes: float) -> float:
    return T0 + minutes * MIN


# ------------------------------------------------------------------ snapshots for the Runner


def signals(direction: str) -> dict:
    """Per-symbol values that make the default rules vote ``direction`` (see module doc)."""
    if direction == "LONG":
        return {"liq_long_usd": 2_000.0, "liq_short_usd": 1_000_000.0}
    return {"liq_long_usd": 1_000_000.0, "liq_short_usd": 2_000.0}


def snapshot(
    ts: float,
    prices: Mapping[str, float],
    *,
    direction: str = "LONG",
    rate: float = 0.0001,
    rate_ts: float | None = None,
    fear: float | None = None,
) -> dict:
    """A snapshot dict: price, bid/ask 1 bp either side, the signal values and a funding
    rate (published at ``rate_ts``, default the snapshot time) for every symbol in ``prices``."""
    symbols = {}
    for name, price in prices.items():
        values = {
            "price": price,
            "bid": price * 0.9999,
            "ask": price * 1.0001,
            "funding_rate": rate,
            **signals(direction),
        }
        if rate_ts is not None:
            values["funding_rate_ts"] = rate_ts
        symbols[name] = values
    fear = fear if fear is not None else (10 if direction == "LONG" else 90)
    return {"v": 1, "ts": ts, "fear_greed": fear, "symbols": symbols}


def parse(obj: dict):
    parsed, problems = parse_snapshot(obj)
    assert parsed is not None and not problems, [str(p) for p in problems]
    return parsed


class Harness:
    """A Runner wired like ``rulebot paper`` (CLI): broker restored from the store's blob,
    already-committed snapshots replayed with ``warm``; sinks collect into lists."""

    def __init__(self, the_plan=None, store: StateStore | None = None, history: list | None = None):
        self.plan = the_plan or plan()
        self.store = store if store is not None else StateStore(":memory:")
        self.records: dict[str, list] = {name: [] for name in SINKS}
        saved = self.store.blob("broker")
        venue = self.plan.venues.exchange(self.plan.venues.execution_venue)
        broker = PaperBroker.for_plan(self.plan) if saved is None else PaperBroker.from_state(venue, json.loads(saved))
        self.broker = broker
        self.runner = Runner(
            self.plan, broker, self.store, sinks=Sinks(**{name: self.records[name].append for name in SINKS})
        )
        self.history: list = []
        for obj in history or ():
            self.runner.warm(parse(obj))
            self.history.append(obj)

    def step(self, obj: dict):
        self.history.append(obj)
        return self.runner.step(parse(obj))

    def run(self, objs):
        return [self.step(o) for o in objs]

    def only_position(self) -> OpenPosition:
        (one,) = self.runner.positions.values()
        return one


def enter(
    direction: str = "LONG",
    h: Harness | None = None,
    *,
    rate: float = 0.0001,
    prices: Mapping[str, float] | None = None,
) -> Harness:
    """Warm-up at T0 − 1 h (the 1 h liquidation window must be full), the entry decision at
    T0 (a funding time, no position yet), the entry fill at T0 + 60 s."""
    h = h or Harness()
    prices = dict(prices or {"BTCUSDT": 100_000.0})
    h.step(snapshot(T0 - HOUR, prices, direction=direction, rate=rate))
    entries = h.step(snapshot(T0, prices, direction=direction, rate=rate)).entries
    assert sorted(e.symbol for e in entries) == sorted(prices), [e.symbol for e in entries]
    assert h.step(snapshot(T0 + MIN, prices, direction=direction, rate=rate)).fills == len(prices)
    return h
