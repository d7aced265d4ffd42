"""The source of every rule-file schema. ``python -m engine.language.schemagen`` rewrites the JSON.

One function per rule-file kind. A test checks that the committed JSON files equal what
this module generates, so the two can never drift.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.language import kinds as rule_kinds
from engine.language.kinds import overlays
from engine.language.schemagen.dsl import (
    CONVICTIONS,
    PROFILES,
    TIMEFRAMES,
    TIMING_ACTIONS,
    arr,
    boolean,
    document,
    duration,
    element,
    expression,
    identifier,
    kinds,
    learnable,
    mapping,
    num,
    obj,
    ref,
    text,
)
from engine.market.schema import snapshot_schema

HERE = Path(__file__).resolve().parents[3] / "schemas"  # the shipped JSON, beside the packages


def common() -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "common",
        "description": "Shared value types of rulebot rule files.",
        "$defs": {
            "duration": {
                "type": "string",
                "pattern": r"^[0-9]+(\.[0-9]+)?(ms|s|m|h|d)$",
                "description": "A length of time: a number and a unit ms, s, m, h or d (`90s`, `30m`, `2h`).",
                "x-unit": "duration",
                "x-finite": True,
            },
            "identifier": {
                "type": "string",
                "pattern": r"^[a-z][a-z0-9_]{0,63}$",
                "description": "A lower_snake_case name.",
                "x-unit": "id",
            },
            "expression": {
                "type": "string",
                "minLength": 1,
                "description": "A rulebot expression (docs/reference/expressions.md).",
                "x-unit": "expression",
            },
            "reason_code": {
                "type": "string",
                "pattern": r"^[A-Z][A-Z0-9_]{2,63}$",
                "description": "A stable UPPER_SNAKE reason code.",
                "x-unit": "code",
            },
            "symbol": {
                "type": "string",
                "pattern": r"^[A-Z0-9]{2,20}$",
                "description": "A rulebot symbol: base + quote, e.g. BTCUSDT.",
                "x-unit": "symbol",
            },
            "venue_symbol": {
                "type": "string",
                "pattern": r"^[A-Za-z0-9_\-]{2,32}$",
                "description": "A symbol as the venue spells it (PF_XBTUSD, BTC-USDT).",
                "x-unit": "symbol",
            },
            "time_of_day": {
                "type": "string",
                "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                "description": "HH:MM in UTC.",
                "x-unit": "time",
            },
            "weekday": {
                "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "description": "A day of the week.",
                "x-unit": "enum",
            },
            "direction": {"enum": ["LONG", "SHORT", "NEUTRAL"], "description": "A trade direction.", "x-unit": "enum"},
        },
    }


# ---------------------------------------------------------------- signals


def _component(kind: str, description: str, params: dict, thresholds: dict, inputs: list[str]) -> dict:
    props = {
        "weight": learnable(
            num("Share of this component in the weighted vote; all weights sum to 1.", "fraction", minimum=0, maximum=1)
        ),
        "max_input_age": mapping(
            "Staleness limit per input: older data makes the component NEUTRAL with reason `stale:<input>`.",
            duration("Oldest usable age."),
            keys=inputs,
        ),
        "thresholds": obj(
            "Thresholds per profile (seed: paper relaxed, live strict).",
            {p: obj(f"Thresholds in the {p} profile.", thresholds) for p in PROFILES},
        ),
        "overrides": arr(
            "Conditions that replace the computed answer; the first that holds wins.",
            _override(),
            max_items=16,
            unit="list",
        )
        | {"default": []},
    }
    if params:
        props["params"] = obj("Windows and shaping parameters shared by both profiles.", params)
    return element(kind, description, props)


def _override() -> dict:
    return obj(
        "One override.",
        {
            "when": expression("Condition over the signal vocabulary."),
            "direction": ref("direction", "Direction to answer while `when` holds.", "enum"),
            "confidence": num(
                "Confidence to answer (ignored for NEUTRAL).", "fraction", minimum=0, maximum=1, default=0.0
            ),
            "reason": ref("identifier", "Reason recorded in the signal trace.", "id"),
        },
    )


def _confidence_multiple() -> dict:
    return num("Confidence reaches 1 at this multiple of the threshold.", "ratio", minimum=1, maximum=100)


def _window(what: str) -> dict:
    return duration(f"Time window of {what}.", positive=True)


def _count_window(what: str, minimum: int = 2) -> dict:
    return num(f"Number of {what} in the window.", "count", minimum=minimum, maximum=100_000, integer=True)


def components() -> tuple[dict, dict]:
    usd = lambda d: learnable(num(d, "USD", minimum=0))  # noqa: E731
    pct = lambda d: learnable(num(d, "%", minimum=0))  # noqa: E731
    frac = lambda d, lo=0, hi=1: learnable(num(d, "fraction", minimum=lo, maximum=hi))  # noqa: E731
    variants = {
        "liquidation_cascade": _component(
            "liquidation_cascade",
            "Forced selling or buying that creates momentum (follows the cascade).",
            {
                "window": _window("liquidation volume"),
                "min_dominance": num(
                    "Share of the dominant side needed for a direction.", "fraction", minimum=0.5, maximum=1
                ),
                "full_confidence_multiple": _confidence_multiple(),
                "acceleration_boost": num(
                    "Confidence added while the cascade accelerates.", "fraction", minimum=0, maximum=1, default=0.0
                ),
            },
            {"min_volume_usd": usd("Minimum liquidation volume in the window.")},
            ["liquidations"],
        ),
        "whale_flow": _component(
            "whale_flow",
            "Exchange net flows: inflow is bearish, outflow is bullish.",
            {"window": _window("net flow"), "full_confidence_multiple": _confidence_multiple()},
            {"min_flow_usd": usd("Minimum absolute net flow in the window.")},
            ["exchange_netflow"],
        ),
        "funding_rate": _component(
            "funding_rate",
            "Funding-rate extremes, faded: crowded longs give SHORT.",
            {"window": _count_window("funding readings"), "full_confidence_multiple": _confidence_multiple()},
            {
                "min_deviation": learnable(
                    num(
                        "Minimum deviation of the funding rate from its rolling mean.",
                        "rate per interval",
                        minimum=0,
                        maximum=0.1,
                    )
                )
            },
            ["funding_rate"],
        ),
        "hurst": _component(
            "hurst",
            "Hurst exponent: follow the trend when persistent, fade it when mean reverting.",
            {
                "window": _count_window("one-minute log prices", 32),
                "recompute_every": num(
                    "Recompute every N cycles; cached in between.", "count", minimum=1, maximum=1000, integer=True
                ),
                "trend_lookback": _count_window("minutes that define the recent trend", 1),
            },
            {
                "trending_above": frac("Hurst above this is trending."),
                "mean_reverting_below": frac("Hurst below this is mean reverting."),
            },
            ["candles_1m"],
        ),
        "lead_lag": _component(
            "lead_lag",
            "BTC leads altcoins: the leader's recent move predicts the follower's.",
            {
                "window": _count_window("one-minute returns", 10),
                "max_lag": num("Largest lead tried, in minutes.", "count", minimum=1, maximum=60, integer=True),
            },
            {
                "min_correlation": frac("Minimum lagged correlation."),
                "min_leader_move_pct": pct("Minimum move of the leader over the lag."),
            },
            ["candles_1m", "leader_candles_1m"],
        ),
        "order_flow_momentum": _component(
            "order_flow_momentum",
            "Rate of change of order-book imbalance (OFI) over time.",
            {
                "window": _window("OFI readings"),
                "book_levels": num("Order-book levels per side.", "count", minimum=1, maximum=100, integer=True),
                "min_readings": num("Readings needed in the window.", "count", minimum=2, maximum=1000, integer=True),
                "full_confidence_multiple": _confidence_multiple(),
            },
            {"min_momentum_per_min": learnable(num("Minimum OFI slope.", "OFI per minute", minimum=0, maximum=2))},
            ["order_book"],
        ),
        "fear_greed": _component(
            "fear_greed",
            "Fear & Greed contrarian: extreme fear gives LONG, extreme greed SHORT.",
            {},
            {
                "fear_below": learnable(num("Index below this is extreme fear.", "0-100", minimum=0, maximum=100)),
                "greed_above": learnable(num("Index above this is extreme greed.", "0-100", minimum=0, maximum=100)),
            },
            ["fear_greed"],
        ),
        "volatility_skew": _component(
            "volatility_skew",
            "Loss aversion versus complacency from volatility skew (or its declared proxy).",
            {"window": _count_window("one-minute returns", 10), "full_confidence_multiple": _confidence_multiple()},
            {"min_skew": learnable(num("Minimum absolute skew.", "ratio", minimum=0, maximum=10))},
            ["candles_1m", "volatility_skew"],
        ),
        "oi_velocity": _component(
            "oi_velocity",
            "Open-interest change over time: new money in the direction of price.",
            {"window": _window("open interest change"), "full_confidence_multiple": _confidence_multiple()},
            {"min_change_pct": pct("Minimum OI change over the window.")},
            ["open_interest", "price"],
        ),
        "oi_divergence": _component(
            "oi_divergence",
            "Price and open interest moving in opposite directions (a trap).",
            {"window": _window("price and OI change"), "full_confidence_multiple": _confidence_multiple()},
            {"min_move_pct": pct("Minimum move of both price and OI.")},
            ["open_interest", "price"],
        ),
    }
    return kinds("One signal component.", variants)


def signals() -> dict:
    component, defs = components()
    level = obj(
        "One conviction level.",
        {
            "name": text("Level name.", enum=CONVICTIONS[:-1]),
            "min_aligned": num("Aligned components needed.", "count", minimum=1, maximum=10, integer=True),
            "min_confidence": learnable(num("Weighted confidence needed.", "fraction", minimum=0, maximum=1)),
            "size_multiplier": num("Size multiplier at this level.", "x", minimum=0, maximum=10),
        },
    )
    return document(
        "signals",
        "signals",
        "Signal components, voting and conviction (seed: Signal Generation).",
        {
            "components": arr("The weighted signal components.", component, min_items=1, max_items=32),
            "voting": obj(
                "How component answers become one direction.",
                {
                    "min_aligned": num(
                        "Components that must agree for any direction.", "count", minimum=1, maximum=10, integer=True
                    ),
                    "direction_by": text(
                        "`votes`: the side with more components wins; `weight`: more weight wins. A tie is NEUTRAL.",
                        enum=["votes", "weight"],
                    ),
                    "confidence_basis": text(
                        "`aligned_weight`: Σ w·c ÷ Σ w over the aligned components; "
                        "`total_weight`: Σ w·c over the aligned components.",
                        enum=["aligned_weight", "total_weight"],
                    ),
                },
            ),
            "conviction": obj(
                "Conviction levels, strongest first; the first whose minimums hold wins.",
                {
                    "levels": arr("Levels, strongest first.", level, min_items=1, max_items=8),
                    "fallback": obj(
                        "The level when none holds.",
                        {
                            "name": text("Level name.", enum=["NONE"]),
                            "size_multiplier": num("Size multiplier (0 means no trade).", "x", minimum=0, maximum=0),
                        },
                    ),
                },
            ),
        },
        defs=defs,
    )


# ---------------------------------------------------------------- gates


def gates() -> dict:
    enabled = boolean("Whether this gate runs; a disabled gate passes with multiplier 1.", default=True)

    def scored(d):
        return obj(
            d,
            {
                "name": text("Level name.", pattern=r"^[A-Za-z_]{2,32}$"),
                "min_score": num("Lowest score of this level.", "score", minimum=-1, maximum=1),
                "size_multiplier": num("Size multiplier at this level.", "x", minimum=0, maximum=10),
            },
        )

    def flow_source(d, hi, lo, unit, lo_min=None):
        return obj(
            d,
            {
                "weight": num("Weight in the alignment score.", "fraction", minimum=0, maximum=1),
                hi: num("Bullish/bearish cut-off (upper).", unit, minimum=lo_min),
                lo: num("Bullish/bearish cut-off (lower).", unit, minimum=lo_min),
            },
        )

    variants = {
        "conviction_gate": element(
            "conviction_gate",
            "Weighted scoring that sizes, never blocks (0.4x-2.5x).",
            {
                "enabled": enabled,
                "levels": arr("Levels by score, strongest first.", scored("A conviction level."), min_items=1),
                "historical_performance": obj(
                    "Adjustment from the symbol's past trades.",
                    {
                        "min_trades": num("Trades needed before adjusting.", "count", minimum=0, integer=True),
                        "max_adjustment": num("Largest score change.", "score", minimum=0, maximum=1),
                    },
                ),
                "edge_boost": obj(
                    "Boost when expected edge is large.",
                    {
                        "min_expected_edge_pct": num("Edge above which the boost applies.", "%", minimum=0),
                        "boost": num("Score added.", "score", minimum=0, maximum=1),
                    },
                ),
                "cascade_boost": obj(
                    "Boost while a liquidation cascade is active.",
                    {"boost": num("Score added.", "score", minimum=0, maximum=1)},
                ),
                "regime_bias": obj(
                    "Score multiplier per market regime.",
                    {
                        r: num(f"Multiplier in a {r} regime.", "x", minimum=0, maximum=5)
                        for r in ("trending", "ranging", "volatile", "unknown")
                    },
                ),
                "regime": obj(
                    "How the market regime is read (checked in this order: volatile, trending, ranging; else unknown).",
                    {
                        "volatile_move_pct_above": num("|1 h price change| above this is volatile.", "%", minimum=0),
                        "trending_hurst_above": num("Hurst above this is trending.", "0-1", minimum=0, maximum=1),
                        "ranging_hurst_below": num("Hurst below this is ranging.", "0-1", minimum=0, maximum=1),
                    },
                ),
            },
        ),
        "fee_gate": element(
            "fee_gate",
            "Blocks when the expected edge does not beat the venue's fees.",
            {
                "enabled": enabled,
                "min_edge_after_fees_pct": learnable(
                    num("Edge that must remain after round-trip fees.", "%", minimum=0, maximum=10)
                ),
                "fee_type": text("Which fee the round trip pays.", enum=["maker", "taker"]),
            },
        ),
        "correlation_throttle": element(
            "correlation_throttle",
            "Limits open positions in correlated symbols.",
            {
                "enabled": enabled,
                "window": duration("Window of returns for the correlation.", positive=True),
                "return_interval": duration(
                    "Spacing of the returns: whole minutes (bars are built from 1-minute closes).",
                    positive=True,
                    whole_minutes=True,
                ),
                "correlated_above": num(
                    "Correlation above which two symbols count as correlated.", "correlation", minimum=0, maximum=1
                ),
                "max_correlated_positions": num("Open correlated positions allowed.", "count", minimum=0, integer=True),
                "same_direction_only": boolean("Count only positions on the same side.", default=True),
            },
        ),
        "intelligence_gate": element(
            "intelligence_gate",
            "Sizes by market-intelligence alignment or conflict.",
            {
                "enabled": enabled,
                "sources": obj(
                    "Inputs of the alignment score.",
                    {
                        "taker_flow": flow_source(
                            "Taker buy/sell ratio.", "bullish_above", "bearish_below", "ratio", 0
                        ),
                        "liquidations": flow_source(
                            "Share of long liquidations.", "bearish_above", "bullish_below", "fraction", 0
                        ),
                        "fear_greed": flow_source("Fear & greed, contrarian.", "greed_above", "fear_below", "0-100", 0),
                        "ofi": flow_source("Order-book imbalance.", "bullish_above", "bearish_below", "OFI"),
                    },
                ),
                "bands": arr("Score bands, highest first.", scored("A band."), min_items=1),
            },
        ),
        "pre_entry_gate": element(
            "pre_entry_gate",
            "Venue enforcement and profit gates.",
            {
                "enabled": enabled,
                "allowed_venue_types": arr(
                    "Venue types entries may use.", text("Type.", enum=["futures", "spot"]), min_items=1, unique=True
                ),
                "profit_gates": arr(
                    "Conditions that block the entry when they hold.",
                    obj(
                        "A profit gate.",
                        {
                            "id": identifier("Name of this profit gate."),
                            "when": expression("Blocks when true."),
                            "reason": ref("reason_code", "Reason code when it blocks.", "code"),
                        },
                    ),
                    unit="list",
                )
                | {"default": []},
            },
        ),
        "trading_state": element(
            "trading_state",
            "ACTIVE / HALTED / REDUCING; the last gate of every chain.",
            {
                "enabled": enabled,
            },
        ),
    }
    gate, defs = kinds("One gate.", variants)
    return document(
        "gates",
        "gates",
        "The ordered review gate chain (seed: Signal Review Process).",
        {
            "expected_edge": expression(
                "Expected move of a trade in percent, before fees, over the gate vocabulary "
                "(used by the conviction gate's edge boost and the fee gate).",
                "float",
            ),
            "chain": arr("Gates in the order they run.", gate, min_items=1, max_items=32),
        },
        defs=defs,
    )


# ---------------------------------------------------------------- exits


def exits() -> dict:
    pnl = lambda d: learnable(num(d, "%", minimum=-100, maximum=1000))  # noqa: E731
    variants = {
        "stop_loss": element(
            "stop_loss",
            "Closes at a fixed loss; ignores grace windows.",
            {
                "loss_pct": learnable(
                    num("Loss that closes the position (positive number).", "%", exclusive_minimum=0, maximum=100)
                ),
                "placement": text(
                    "`exchange`: a resting stop order plus a bot-side check; `bot`: bot-side only.",
                    enum=["exchange", "bot"],
                ),
            },
        ),
        "timing_intelligence": element(
            "timing_intelligence",
            "Hold / extend / exit actions from alignment, momentum, P&L and hold time.",
            {
                "actions": arr(
                    "Actions checked top-down; the first whose condition holds wins.",
                    obj(
                        "An action.",
                        {
                            "action": text("Action.", enum=TIMING_ACTIONS),
                            "when": expression("Condition over the exit vocabulary."),
                        },
                    ),
                    min_items=1,
                ),
                "default_action": text("Action when none holds.", enum=TIMING_ACTIONS),
                "hold_multipliers": mapping(
                    "Multiplier of the optimal hold time per action.",
                    num("Multiplier.", "x", minimum=0, maximum=10),
                    keys=TIMING_ACTIONS,
                ),
                "closing_actions": arr(
                    "Actions that close the position now.", text("Action.", enum=TIMING_ACTIONS), unique=True
                ),
            },
        ),
        "mtf_alignment": element(
            "mtf_alignment",
            "Exits when multi-timeframe alignment degrades.",
            {
                "timeframes": arr("Timeframes counted.", text("Timeframe.", enum=TIMEFRAMES), min_items=1, unique=True),
                "min_alignment": learnable(num("Exit below this alignment.", "fraction", minimum=0, maximum=1)),
                "min_delta": learnable(
                    num("Exit when alignment fell by more than this since entry.", "fraction", minimum=-1, maximum=0)
                ),
                "exit_on_momentum_reversal": boolean("Exit when momentum turns against the position."),
            },
        ),
        "signal_reversal": element(
            "signal_reversal",
            "Exits on an EMA crossover flip against the position.",
            {
                "timeframe": text("Candle timeframe of the EMAs.", enum=TIMEFRAMES),
                "fast_ema": num("Fast EMA period.", "bars", minimum=1, maximum=1000, integer=True),
                "slow_ema": num("Slow EMA period.", "bars", minimum=2, maximum=1000, integer=True),
            },
        ),
        "profit_target": element(
            "profit_target",
            "Closes when P&L beats a target once the position is old enough.",
            {
                "targets": arr(
                    "Targets; any that holds fires.",
                    obj(
                        "A target.",
                        {
                            "after": duration("Minimum age of the position."),
                            "pnl_pct": pnl("P&L that must be exceeded."),
                        },
                    ),
                    min_items=1,
                ),
            },
        ),
        "time_exit": element(
            "time_exit",
            "Closes positions that stay weak for too long.",
            {
                "rules": arr(
                    "Rules; any that holds fires.",
                    obj(
                        "A rule.",
                        {
                            "after": duration("Age after which the rule applies."),
                            "below_pnl_pct": pnl("Close when P&L is below this."),
                        },
                    ),
                    min_items=1,
                ),
            },
        ),
        "ladder": element(
            "ladder",
            "Partial closes at successive targets.",
            {
                "rungs": arr(
                    "Rungs in order.",
                    obj(
                        "A rung.",
                        {
                            "fraction": num(
                                "Share of the original size closed.", "fraction", exclusive_minimum=0, maximum=1
                            ),
                            "pnl_pct": pnl("P&L that must be exceeded."),
                            "after": duration("Minimum age of the position."),
                        },
                    ),
                    min_items=1,
                ),
                "suppress_on": arr(
                    "Timing actions that hold the ladder back.", text("Action.", enum=TIMING_ACTIONS), unique=True
                ),
                "accelerate_on": arr(
                    "Timing actions that waive the rungs' time constraints.",
                    text("Action.", enum=TIMING_ACTIONS),
                    unique=True,
                ),
            },
        ),
    }
    tier, defs = kinds("One exit tier.", variants)
    return document(
        "exits",
        "exits",
        "Exit tiers for open positions (seed: Trade Monitoring & Exit Decisions).",
        {
            "pnl_basis": text(
                "`price`: pnl_pct is the price move; `margin`: the move times leverage.", enum=["price", "margin"]
            ),
            "min_hold": duration("No early exit before this age (the stop always applies)."),
            "optimal_hold": obj(
                "Optimal hold time; learned per symbol/direction.",
                {
                    "default": learnable(duration("Optimal hold of a symbol/direction with no entry below.")),
                    "by_position": mapping(
                        "Optimal hold per `SYMBOL:DIRECTION` (e.g. `BTCUSDT:LONG`); the hold-time "
                        "learner moves these within their bounds.",
                        learnable(duration("Optimal hold of this symbol and direction.")),
                        key_pattern=r"^[A-Z0-9]{2,20}:(LONG|SHORT)$",
                    )
                    | {"default": {}},
                },
            ),
            "priority": arr(
                "Tier ids, first wins when several fire in one cycle.", identifier("Tier id."), min_items=1, unique=True
            ),
            "tiers": arr("The exit tiers.", tier, min_items=1, max_items=32),
        },
        defs=defs,
    )


BUILDERS = {
    "common": common,
    "ruleset": rule_kinds.ruleset.schema,
    "signals": signals,
    "gates": gates,
    "requirements": rule_kinds.requirements.schema,
    "risk": rule_kinds.risk.schema,
    "exits": exits,
    "learning": rule_kinds.learning.schema,
    "schedules": rule_kinds.schedules.schema,
    "venues": rule_kinds.venues.schema,
    "profile": overlays.profile_schema,
    "learned": overlays.learned_schema,
    "snapshot": snapshot_schema,
}


def render(name: str) -> str:
    return json.dumps(BUILDERS[name](), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    for name in BUILDERS:
        (HERE / f"{name}.schema.json").write_text(render(name), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
