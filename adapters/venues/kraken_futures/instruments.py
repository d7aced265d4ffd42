"""Kraken Futures contract specs: loaded from ``/instruments`` at start, cached for the
client's life, checked against the rules' offline specs (rules/venues.yaml), and used to
turn the engine's base-unit sizes and float prices into the contracts and ticks Kraken takes.

Kraken has no minimum order size field: the smallest order is one size step
(``10^-contractValueTradePrecision``), so the rules' ``min_size`` is checked against that.
Leverage: the rules' ``max_leverage`` may not exceed the venue's (1 / the first margin tier's
initial margin).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from adapters.venues.kraken_futures.config import KrakenConfig
from adapters.venues.kraken_futures.wire import WireInstrument
from engine.ports import BUY, Instrument, InstrumentMismatch, VenueRejected


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _same(rules: float, venue: Decimal) -> bool:
    return _dec(rules) == venue


class InstrumentBook:
    """The venue's specs of the symbols the rules map, by Kraken symbol (upper case)."""

    def __init__(self, config: KrakenConfig, rows: Sequence[WireInstrument]) -> None:
        self.config = config
        self.by_symbol: Mapping[str, WireInstrument] = {r.symbol: r for r in rows}

    def spec(self, venue_symbol: str) -> WireInstrument:
        row = self.by_symbol.get(venue_symbol.upper())
        if row is None:
            raise InstrumentMismatch(
                f"{self.config.venue_id}: {venue_symbol} is not among the venue's instruments",
                venue=self.config.venue_id,
                endpoint="/derivatives/api/v3/instruments",
            )
        return row

    def differences(self) -> list[str]:
        """Every way the venue's specs differ from the rules, one line each."""
        lines = []
        for ours, theirs in self.config.symbols.items():
            row = self.by_symbol.get(theirs)
            if row is None:
                lines.append(f"{ours} → {theirs}: the venue lists no such instrument")
                continue
            if not row.tradeable:
                lines.append(f"{ours} → {theirs}: the venue says it is not tradeable")
            expected = self.config.expected.get(theirs)
            if expected is None:
                lines.append(f"{ours} → {theirs}: rules/venues.yaml has no instruments entry for it")
                continue
            checks = (
                ("tick_size", expected.tick_size, row.tick_size),
                ("contract_size", expected.contract_size, row.contract_size),
                ("size_step", expected.size_step, row.size_step),
                ("min_size", expected.min_size, row.size_step),
            )
            for name, rules, venue in checks:
                if not _same(rules, venue):
                    lines.append(f"{theirs} {name}: rules {rules:g}, venue {venue.normalize():f}")
            if row.max_leverage is not None and _dec(expected.max_leverage) > row.max_leverage:
                lines.append(
                    f"{theirs} max_leverage: rules {expected.max_leverage:g}, venue allows {row.max_leverage.normalize():f}"
                )
        return lines

    def check(self) -> None:
        """Raise InstrumentMismatch naming every difference from the rules."""
        lines = self.differences()
        if lines:
            raise InstrumentMismatch(
                f"{self.config.venue_id}: the venue's instruments disagree with rules/venues.yaml: " + "; ".join(lines),
                venue=self.config.venue_id,
                endpoint="/derivatives/api/v3/instruments",
            )

    def port_instruments(self) -> tuple[Instrument, ...]:
        result = []
        for ours, theirs in self.config.symbols.items():
            row = self.by_symbol.get(theirs)
            if row is None:
                continue
            result.append(
                Instrument(
                    symbol=ours,
                    venue_symbol=theirs,
                    contract_size=float(row.contract_size),
                    size_step=float(row.size_step),
                    tick_size=float(row.tick_size),
                    min_size=float(row.size_step),
                    max_leverage=float(row.max_leverage) if row.max_leverage is not None else 0.0,
                    tradeable=row.tradeable,
                )
            )
        return tuple(result)

    # ------------------------------------------------------------------ conversions

    def contracts(self, venue_symbol: str, base_quantity: float) -> Decimal:
        """Base units → whole size steps of contracts, rounded down (never more than asked);
        VenueRejected when that is less than one step."""
        row = self.spec(venue_symbol)
        raw = _dec(base_quantity) / row.contract_size
        steps = (raw / row.size_step).to_integral_value(rounding=ROUND_DOWN)
        result = steps * row.size_step
        if result <= 0:
            raise VenueRejected(
                f"{self.config.venue_id}: {base_quantity:g} is below {venue_symbol}'s smallest order "
                f"({(row.size_step * row.contract_size).normalize():f} base units)",
                venue=self.config.venue_id,
                endpoint="/derivatives/api/v3/sendorder",
            )
        return result

    def base(self, venue_symbol: str, contracts: Decimal) -> float:
        """Contracts → base units."""
        row = self.by_symbol.get(venue_symbol.upper())
        return float(contracts * (row.contract_size if row is not None else Decimal(1)))

    def price(self, venue_symbol: str, price: float, side: str | None = None) -> Decimal:
        """A price on the tick grid: a limit buy rounds down, a limit sell up (never worse
        than asked); a trigger (``side`` None) to the nearest tick."""
        tick = self.spec(venue_symbol).tick_size
        rounding = ROUND_HALF_EVEN if side is None else ROUND_FLOOR if side == BUY else ROUND_CEILING
        return (_dec(price) / tick).to_integral_value(rounding=rounding) * tick


def plain(value: Decimal) -> str:
    """A number in plain notation for the wire (``0.0001``, never ``1E-4``)."""
    text = format(value.normalize(), "f")
    return text
