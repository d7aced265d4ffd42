"""Rule kind ``venues``: exchanges (with offline contract specs) and intelligence sources."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.kinds.base import BuildContext, Doc, check_unique_ids
from engine.language.schemagen.dsl import (
    arr,
    document,
    duration,
    element,
    identifier,
    kinds,
    mapping,
    num,
    obj,
    ref,
    text,
)

KIND = "venues"
CODES = {
    "RB360": "execution_venue names no exchange",
    "RB361": "an instrument's min_size is not a multiple of its size_step",
}

#: CoinGlass plans (shared reference/exchanges.md §3.2), what the rules' ``plan`` promises:
#: the endpoints a plan does not include (calling them earns a 403) and the smallest history
#: interval it allows. The client (adapters/intel/coinglass) reads at that interval; the
#: rules' checks (crosscheck RB392) say when a component asks fresher data than the plan gives.
COINGLASS_NOT_IN_PLAN = {"hobbyist": frozenset({"liquidations"})}
COINGLASS_HISTORY_INTERVAL = {"hobbyist": "4h", "startup": "30m", "standard": "5m", "professional": "5m"}


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


#: The name of an environment variable: what a credentials field holds, never the secret.
ENV_NAME = r"^[A-Z][A-Z0-9_]{1,63}$"


def schema() -> dict:
    """The JSON Schema of a `venues` rule file (written to schemas/venues.schema.json)."""
    creds = obj(
        "Names of the environment variables holding secrets (never the secrets).",
        {
            "api_key_env": text("Variable with the API key.", pattern=ENV_NAME, secret=True),
            "api_secret_env": text("Variable with the API secret.", pattern=ENV_NAME, secret=True),
            "passphrase_env": text("Variable with the passphrase.", pattern=ENV_NAME, secret=True),
        },
        required=["api_key_env"],
    )
    instrument = obj(
        "Contract specs of one instrument.",
        {
            "symbol": ref("venue_symbol", "Venue symbol.", "symbol"),
            "contract_size": num("Base units per contract.", "base units", exclusive_minimum=0),
            "size_step": num("Smallest size increment, in contracts.", "contracts", exclusive_minimum=0),
            "tick_size": num("Smallest price increment.", "quote", exclusive_minimum=0),
            "min_size": num("Smallest order, in contracts.", "contracts", exclusive_minimum=0),
            "max_leverage": num("Highest leverage the venue allows.", "x", minimum=1),
        },
    )
    limit = obj(
        "One rate-limit pool.",
        {
            "pool": identifier("Pool name."),
            "budget": num("Cost units per period.", "count", minimum=1, integer=True),
            "per": duration("Period.", positive=True),
        },
    )
    exchange_props = lambda: {  # noqa: E731
        "venue_type": text("What the venue trades.", enum=["futures", "spot"]),
        "base_url": text("REST base URL.", pattern=r"^https://[^\s]+$"),
        "demo_url": text("Demo / testnet base URL.", pattern=r"^https://[^\s]+$"),
        "credentials": creds,
        "fees": obj(
            "Trading fees.",
            {
                "maker_pct": num("Maker fee.", "%", minimum=-1, maximum=1),
                "taker_pct": num("Taker fee.", "%", minimum=0, maximum=1),
            },
        ),
        "funding_interval": duration("Time between funding payments.", positive=True),
        "rate_limits": arr("Client-side rate limits.", limit, min_items=1),
        "symbols": mapping(
            "rulebot symbol → venue symbol.",
            ref("venue_symbol", "Venue symbol.", "symbol"),
            key_pattern=r"^[A-Z0-9]{2,20}$",
        ),
        "instruments": arr("Offline contract specs (live reloads them from the venue).", instrument, min_items=1),
    }
    exchange, ex_defs = kinds(
        "One exchange.",
        {
            "kraken_futures": element("kraken_futures", "Kraken Futures (linear PF_ perpetuals).", exchange_props()),
            "blofin": element("blofin", "BloFin USDT-margined perpetuals.", exchange_props()),
        },
    )
    intel, in_defs = kinds(
        "One market-intelligence source.",
        {
            "coinglass": element(
                "coinglass",
                "CoinGlass API v4.",
                {
                    "base_url": text("REST base URL.", pattern=r"^https://[^\s]+$"),
                    "credentials": creds,
                    "plan": text("Subscription plan.", enum=["hobbyist", "startup", "standard", "professional"]),
                    "requests_per_minute": num("Request budget.", "count", minimum=1, integer=True),
                    "min_interval": duration("Least time between calls."),
                    "backoff_on_429": duration("Wait after a rate-limit answer."),
                    "publication_lag": duration("Delay after an interval closes before replay releases it."),
                    "endpoints": arr(
                        "Endpoints used.",
                        text(
                            "Endpoint.",
                            enum=[
                                "taker_buy_sell",
                                "liquidations",
                                "fear_greed",
                                "exchange_balance",
                                "funding_history",
                                "open_interest_history",
                                "liquidation_history",
                                "long_short_ratio",
                            ],
                        ),
                        unique=True,
                        min_items=1,
                    ),
                },
            ),
        },
    )
    return document(
        "venues",
        "venues",
        "Exchanges and market-intelligence sources.",
        {
            "execution_venue": identifier("Exchange id that receives orders."),
            "exchanges": arr("Exchanges.", exchange, min_items=1),
            "intelligence": arr("Market-intelligence sources.", intel) | {"default": []},
        },
        defs={**ex_defs, **in_defs},
    )
