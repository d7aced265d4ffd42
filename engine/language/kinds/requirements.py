"""Rule kind ``requirements``: checks an entry must pass, the operator policy, and the
plausibility bounds of the market-data sanity layer (engine/market/sanity.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.language.kinds.base import BuildContext, Doc, check_unique_ids
from engine.language.schemagen.dsl import (
    PROFILES,
    arr,
    boolean,
    document,
    duration,
    expression,
    identifier,
    num,
    obj,
    ref,
    text,
)

KIND = "requirements"
CODES: dict[str, str] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    id: str
    category: str
    when: Any  # CompiledExpression (bool): must hold to trade
    reason: str
    on_missing: str = "block"  # block | pass: what a missing input means


@dataclass(frozen=True, slots=True, kw_only=True)
class KillSwitch:
    active: bool
    max_drawdown_pct: float
    min_win_rate: float
    min_trades_for_win_rate: int
    max_reject_rate: float
    lookback: float


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketDataBounds:
    """What a market input may be before anything reads it (engine/market/sanity.py applies
    them; docs/reference/refusals.md gives each bound's reason)."""

    price_move_pct: float  # within one minute; the bound grows with √(minutes elapsed)
    new_level_after: float  # seconds a refused price level must hold to be accepted as real
    quote_band_pct: float  # mark, bid, ask, book prices around the accepted price
    funding_rate_cap: float  # |rate| per funding interval
    max_open_interest_usd: float
    max_flow_usd: float  # liquidations, taker volume, |net flow| per reading; a candle's volume × close
    max_book_level_usd: float  # price × size of one order-book level
    max_skew_points: float  # |implied skew|
    reduce_after: float  # seconds of refusals in a row on one symbol that move trading to REDUCING
    recover_after: float  # seconds without a refusal that move it back to ACTIVE


#: Each bound's default and the reason for it: the schema's defaults and descriptions, and
#: the "what rulebot refuses" page, are written from this table.
MARKET_DATA_DEFAULTS: dict[str, tuple[Any, str, str]] = {
    "price_move_pct": (
        25,
        "%",
        "Largest move of a price (or candle) within one minute against the last accepted price, up or the same "
        "log-distance down (+25 % / −20 %); it grows with the square root of the minutes since the symbol's last "
        "reading (refused or not), as a random walk spreads over a gap in the data. BTC/ETH flash crashes move a few % to ~15 % in a minute; a quarter in one minute, "
        "usually straight back, is a bad print, a unit change or a badly stitched file.",
    ),
    "new_level_after": (
        "30m",
        "duration",
        "A refused price level that holds this long, each reading within the bound of the one before, is accepted "
        "as real: after a genuine crash rulebot trades again; a bad print that comes back never moves the reference.",
    ),
    "quote_band_pct": (
        10,
        "%",
        "Mark, bid, ask and order-book prices must lie within this band of the accepted price: a mark far from the "
        "last trade would liquidate at a price the market never traded.",
    ),
    "funding_rate_cap": (
        0.03,
        "rate/interval",
        "Largest |funding rate| per funding interval. Venues cap funding far below this (Kraken Futures: "
        "maxRelativeFundingRate per instrument, 0.1 %/h in its example; BloFin and Binance-style venues at most a "
        "few % per 8 h); a larger rate is a unit error (percent for fraction) or a bad value.",
    ),
    "max_open_interest_usd": (
        1_000_000_000_000,
        "USD",
        "Open interest of one symbol: the whole crypto futures market's open interest has stayed below ~0.3 "
        "trillion USD; one trillion on one symbol is not real.",
    ),
    "max_flow_usd": (
        100_000_000_000,
        "USD",
        "Liquidations, taker buy/sell volume and |exchange net flow| in one reading, and a 1-minute candle's "
        "volume × close: the largest liquidation day on record was ~20 billion USD across all venues.",
    ),
    "max_book_level_usd": (
        10_000_000_000,
        "USD",
        "Price × size of one order-book level: ten billion USD resting at one price level does not exist.",
    ),
    "max_skew_points": (
        100,
        "vol points",
        "|25-delta implied skew|: implied volatilities are tens of points; a skew above 100 points is a bad value.",
    ),
    "reduce_after": (
        "15m",
        "duration",
        "When some symbol's inputs have been refused this long in a row, trading moves to REDUCING (exits only): "
        "the data the decisions rest on cannot be trusted.",
    ),
    "recover_after": (
        "1h",
        "duration",
        "Trading returns to ACTIVE once no input has been refused for this long.",
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    checks: tuple[Check, ...]  # only those that apply to the compiled profile
    alpha_trading_enabled: bool
    enabled_symbols: tuple[str, ...]
    freeze_entries: bool
    kill_switch: KillSwitch
    market_data: MarketDataBounds


def build(doc: Doc, ctx: BuildContext) -> Spec:
    checks = tuple(
        Check(
            id=raw["id"],
            category=raw["category"],
            reason=raw["reason"],
            on_missing=raw["on_missing"],
            when=ctx.expression(doc, ("checks", index, "when"), "requirement"),
        )
        for index, raw in enumerate(doc.frozen["checks"])
        if ctx.profile in raw["profiles"]
    )
    policy = doc.frozen["policy"]
    return Spec(
        checks=checks,
        alpha_trading_enabled=policy["alpha_trading_enabled"],
        enabled_symbols=tuple(policy["enabled_symbols"]),
        freeze_entries=policy["freeze_entries"],
        kill_switch=KillSwitch(**policy["kill_switch"]),
        market_data=MarketDataBounds(**{k: float(v) for k, v in doc.frozen["market_data"].items()}),
    )


def check(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    check_unique_ids(doc, ("checks",), ctx, "requirement")


def _market_data_schema() -> dict:
    """The ``market_data`` section: every bound optional, its default and reason from MARKET_DATA_DEFAULTS."""
    fields = {}
    for name, (default, unit, why) in MARKET_DATA_DEFAULTS.items():
        if unit == "duration":
            fields[name] = duration(why, default=default, positive=True)
        else:
            fields[name] = num(why, unit, exclusive_minimum=0, default=default)
    section = obj(
        "Plausibility bounds of the market-data sanity layer: a value outside them is refused (treated as "
        "missing: never traded, filled, stopped or liquidated on) and raises an alarm. Nothing is corrected.",
        fields,
    )
    section["default"] = {name: default for name, (default, _, _) in MARKET_DATA_DEFAULTS.items()}
    return section


def schema() -> dict:
    """The JSON Schema of a `requirements` rule file (written to schemas/requirements.schema.json)."""
    check = obj(
        "One requirement.",
        {
            "id": identifier("Name of this check."),
            "category": text("Family of the check.", enum=["signal", "portfolio", "position", "market", "policy"]),
            "when": expression("Must be true to trade."),
            "reason": ref("reason_code", "Reason code when it fails.", "code"),
            "profiles": arr(
                "Profiles this check applies to; all when absent.",
                text("Profile.", enum=PROFILES),
                unique=True,
                min_items=1,
            )
            | {"default": PROFILES},
            "on_missing": text(
                "When an input of `when` is missing: `block` (fail closed, the default) or `pass` "
                "(for inputs some data sources never have, e.g. quotes in replayed candles).",
                enum=["block", "pass"],
                default="block",
            ),
        },
    )
    return document(
        "requirements",
        "requirements",
        "Checks an entry must pass (seed: Trading Requirements).",
        {
            "checks": arr("The checks; every one must hold.", check, min_items=1),
            "policy": obj(
                "Operator policy (seed: Signal Policy Check, Kill-Switch Check).",
                {
                    "alpha_trading_enabled": boolean("Master switch for new entries from alpha signals."),
                    "enabled_symbols": arr(
                        "Symbols that may open positions.", ref("symbol", "A symbol.", "symbol"), unique=True
                    ),
                    "freeze_entries": boolean("Freeze all new entries (exits still run)."),
                    "kill_switch": obj(
                        "Conditions that halt trading.",
                        {
                            "active": boolean("Operator kill switch: halts trading when true."),
                            "max_drawdown_pct": num(
                                "Drawdown from peak equity that halts trading.", "%", minimum=0, maximum=100
                            ),
                            "min_win_rate": num(
                                "Win rate below which trading halts.", "fraction", minimum=0, maximum=1
                            ),
                            "min_trades_for_win_rate": num(
                                "Trades needed before the win rate counts.", "count", minimum=1, integer=True
                            ),
                            "max_reject_rate": num(
                                "Rejected ÷ submitted orders that halts trading.", "fraction", minimum=0, maximum=1
                            ),
                            "lookback": duration("Window for these statistics.", positive=True),
                        },
                    ),
                },
            ),
            "market_data": _market_data_schema(),
        },
    )
