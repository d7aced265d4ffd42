"""BloFin's contract specs, loaded once at start and cached: the one place that converts the
engine's base units to BloFin's contracts and back (reference §2.3: base = contracts ×
contractValue), rounds to the lot size and the tick exactly, and refuses what cannot be sent.

The venue's specs are checked against rules/venues.yaml: every mapped symbol must exist,
and contract value, lot size, tick, minimum size and maximum leverage must equal the rules'
(sizing and risk were computed with the rules' values). Every difference is named in one
:class:`InstrumentMismatch`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from adapters.venues.blofin.config import BlofinConfig
from adapters.venues.blofin.wire import VENUE, VenueInstrument
from engine.common.decimals import to_decimal
from engine.ports import Instrument, InstrumentMismatch, VenueRejected

_STEP_TOLERANCE = Decimal("1e-9")  # 0.6999999999999999 BTC is 0.7, not one lot less


class InstrumentBook:
    def __init__(self, config: BlofinConfig, venue_instruments: Sequence[VenueInstrument]):
        self._config = config
        self._by_id = {i.inst_id.upper(): i for i in venue_instruments}
        self._symbol_of = {inst.upper(): symbol for symbol, inst in config.symbols.items()}

    # -------------------------------------------------------------- the rules' check

    def differences(self) -> list[str]:
        """What differs between the venue's specs and the rules', one sentence each."""
        found = []
        for symbol, inst_id in sorted(self._config.symbols.items()):
            venue = self._by_id.get(inst_id.upper())
            if venue is None:
                found.append(f"{symbol} → {inst_id}: BloFin lists no such instrument")
                continue
            rules = self._config.expected.get(inst_id)
            if rules is None:
                found.append(f"{symbol} → {inst_id}: rules/venues.yaml has no instruments entry for it")
                continue
            if not venue.live:
                found.append(f"{inst_id}: BloFin has suspended trading in it")
            pairs = (
                ("contract_size", rules.contract_size, venue.contract_value),
                ("size_step", rules.size_step, venue.lot_size),
                ("tick_size", rules.tick_size, venue.tick_size),
                ("min_size", rules.min_size, venue.min_size),
                ("max_leverage", rules.max_leverage, venue.max_leverage),
            )
            for name, expected, actual in pairs:
                if to_decimal(expected) != actual:
                    found.append(
                        f"{inst_id} {name}: rules/venues.yaml says {expected:g}, BloFin says {actual.normalize()}"
                    )
        return found

    def check(self) -> None:
        found = self.differences()
        if found:
            raise InstrumentMismatch(
                "blofin instruments disagree with rules/venues.yaml: " + "; ".join(found),
                venue=VENUE,
                endpoint="/api/v1/market/instruments",
            )

    # -------------------------------------------------------------- look-ups

    def inst_id(self, symbol: str) -> str:
        inst_id = self._config.symbols.get(symbol)
        if inst_id is None:
            raise VenueRejected(f"blofin: {symbol} is not in the rules' symbol map", venue=VENUE)
        return inst_id

    def spec(self, inst_id: str, endpoint: str = "") -> VenueInstrument:
        venue = self._by_id.get(inst_id.upper())
        if venue is None:
            raise VenueRejected(f"blofin: BloFin lists no instrument {inst_id}", venue=VENUE, endpoint=endpoint)
        return venue

    def symbol_of(self, inst_id: str) -> str:
        """The rulebot symbol of a venue instrument; an unmapped one keeps the venue's name,
        so a position the rules do not know about still shows up in reconciliation."""
        return self._symbol_of.get(inst_id.upper(), inst_id)

    def port_instruments(self) -> list[Instrument]:
        found = []
        for symbol, inst_id in sorted(self._config.symbols.items()):
            venue = self._by_id.get(inst_id.upper())
            if venue is not None:
                found.append(
                    Instrument(
                        symbol=symbol,
                        venue_symbol=venue.inst_id,
                        contract_size=float(venue.contract_value),
                        size_step=float(venue.lot_size),
                        tick_size=float(venue.tick_size),
                        min_size=float(venue.min_size),
                        max_leverage=float(venue.max_leverage),
                        tradeable=venue.live,
                    )
                )
        return found

    # -------------------------------------------------------------- units

    def contracts(self, inst_id: str, base_quantity: float, endpoint: str = "") -> Decimal:
        """Base units → contracts, floored to the lot size; below the minimum is refused
        before anything is sent (a smaller order is the venue's 152002 at best)."""
        if not math.isfinite(base_quantity) or base_quantity <= 0:
            raise VenueRejected(f"blofin: order quantity {base_quantity!r} is not a positive number", venue=VENUE)
        spec = self.spec(inst_id, endpoint)
        raw = to_decimal(base_quantity) / spec.contract_value
        lots = ((raw + _STEP_TOLERANCE) / spec.lot_size).to_integral_value(rounding=ROUND_FLOOR)
        contracts = lots * spec.lot_size
        if contracts < spec.min_size:
            raise VenueRejected(
                f"blofin {inst_id}: {base_quantity:g} base units are {raw.normalize()} contracts of "
                f"{spec.contract_value.normalize()}; the minimum order is {spec.min_size.normalize()} contracts",
                venue=VENUE,
                endpoint=endpoint,
            )
        return contracts

    def base_units(self, inst_id: str, contracts: Decimal) -> float:
        return float(contracts * self.spec(inst_id).contract_value)

    def on_tick(self, inst_id: str, price: float, endpoint: str = "") -> Decimal:
        """A price rounded to the nearest tick; never zero, never non-finite."""
        if not math.isfinite(price) or price <= 0:
            raise VenueRejected(f"blofin {inst_id}: price {price!r} is not a positive number", venue=VENUE)
        tick = self.spec(inst_id, endpoint).tick_size
        rounded = (to_decimal(price) / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick
        if rounded <= 0:
            raise VenueRejected(f"blofin {inst_id}: price {price!r} rounds to zero on tick {tick}", venue=VENUE)
        return rounded

    def by_inst(self) -> Mapping[str, VenueInstrument]:
        return dict(self._by_id)
