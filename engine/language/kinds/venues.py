"""Rule kind ``venues``: exchanges (with offline contract specs) and intelligence sources."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.kinds.base import BuildContext, Doc, check_unique_ids

KIND = "venues"
CODES = {
    "RB360": "execution_venue names no exchange",
    "RB361": "an instrument's min_size is not a multiple of its size_step",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    symbol: str
    contract_size: float
    size_step: float
    tick_size: float
    min_size: float
    max_leverage: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    id: str
    kind: str
    venue_type: str
    maker_fee_pct: float
    taker_fee_pct: float
    funding_interval_s: float
    symbols: Mapping[str, str]
    instruments: Mapping[str, Instrument]
    params: Mapping[str, Any]  # urls, credentials (variable names only), rate limits


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    execution_venue: str
    exchanges: tuple[Exchange, ...]
    intelligence: tuple[Mapping[str, Any], ...]

    def exchange(self, venue_id: str) -> Exchange | None:
        return next((e for e in self.exchanges if e.id == venue_id), None)


def _exchange(raw: Mapping) -> Exchange:
    instruments = {i["symbol"]: Instrument(**i) for i in raw["instruments"]}
    params = {
        k: v
        for k, v in raw.items()
        if k not in ("id", "kind", "venue_type", "fees", "funding_interval", "symbols", "instruments")
    }
    return Exchange(
        id=raw["id"],
        kind=raw["kind"],
        venue_type=raw["venue_type"],
        maker_fee_pct=raw["fees"]["maker_pct"],
        taker_fee_pct=raw["fees"]["taker_pct"],
        funding_interval_s=raw["funding_interval"],
        symbols=raw["symbols"],
        instruments=instruments,
        params=params,
    )


def build(doc: Doc, ctx: BuildContext) -> Spec:
    f = doc.frozen
    return Spec(
        execution_venue=f["execution_venue"],
        exchanges=tuple(_exchange(e) for e in f["exchanges"]),
        intelligence=tuple(f["intelligence"]),
    )


def check(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    check_unique_ids(doc, ("exchanges",), ctx, "exchange")
    check_unique_ids(doc, ("intelligence",), ctx, "intelligence source")
    ids = [e.id for e in spec.exchanges]
    if spec.execution_venue not in ids:
        ctx.report(
            doc,
            ("execution_venue",),
            "RB360",
            f"execution_venue '{spec.execution_venue}' is not one of the exchanges: {', '.join(ids)}",
        )
    for e_index, exchange in enumerate(spec.exchanges):
        for i_index, inst in enumerate(exchange.instruments.values()):
            steps = inst.min_size / inst.size_step
            if abs(steps - round(steps)) > 1e-9:
                ctx.report(
                    doc,
                    ("exchanges", e_index, "instruments", i_index, "min_size"),
                    "RB361",
                    f"{inst.symbol}: min_size {inst.min_size:g} is not a multiple of size_step {inst.size_step:g}",
                )
