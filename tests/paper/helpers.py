"""Builders for paper-broker tests: brokers, snapshots, order requests."""

from __future__ import annotations

from types import MappingProxyType

from adapters.paper.broker import PaperBroker
from engine.market.snapshot import Candle, Snapshot, SymbolSnapshot
from engine.ports import OrderRequest

DAY = 1_699_920_000.0  # 2023-11-14 00:00:00 UTC: a multiple of 1 h and of 8 h


def make_broker(venue, *, slippage_bps: float = 2.0, balance: float = 10_000.0) -> PaperBroker:
    """Maintenance margin 0.5 % as in rules/risk.yaml."""
    return PaperBroker(venue, starting_balance=balance, slippage_bps=slippage_bps, maintenance_margin_pct=0.5)


def sym(
    symbol: str = "BTCUSDT", *, price=None, mark=None, bid=None, ask=None, rate=None, rate_ts=None, candles=()
) -> SymbolSnapshot:
    """candles: (ts, open, high, low, close) tuples."""
    values = {
        k: v for k, v in dict(price=price, mark=mark, bid=bid, ask=ask, funding_rate=rate).items() if v is not None
    }
    times = {"funding_rate": rate_ts} if rate_ts is not None else {}
    return SymbolSnapshot(
        symbol, MappingProxyType(values), MappingProxyType(times), None, tuple(Candle(*c, 1.0) for c in candles)
    )


def snap(ts: float, *symbols: SymbolSnapshot, **one) -> Snapshot:
    """A snapshot of the given symbols, or of one BTCUSDT built from keyword arguments."""
    chosen = symbols or (sym(**one),)
    return Snapshot(ts, MappingProxyType({s.symbol: s for s in chosen}))


def order(
    cid: str,
    side: str,
    quantity: float,
    *,
    symbol: str = "BTCUSDT",
    limit: float | None = None,
    reduce_only: bool = False,
    leverage: float = 5.0,
) -> OrderRequest:
    return OrderRequest(
        cid, symbol, side, quantity, "limit" if limit is not None else "market", limit, reduce_only, leverage
    )
