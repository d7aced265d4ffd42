"""Rule kind ``learning``: which learners run, when, and with what guard-rails."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine import learners
from engine.language.kinds.base import BuildContext, Doc, check_unique_ids
from engine.language.schemagen.dsl import arr, document, duration, element, identifier, kinds, num, obj, text

KIND = "learning"
CODES = {
    "RB395": "the logs are deleted sooner than the learners read them (logs.keep shorter than trade_lookback "
    "or a signal resolution horizon), or logs.keep is not whole days",
    **{code: text for module in learners.LEARNERS.values() for code, text in module.CODES.items()},
}
DAY_S = 86400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Learner:
    id: str
    kind: str
    schedule: str
    min_trades: int
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    signal_resolution_horizons: tuple[float, ...]
    trade_lookback_s: float
    learners: tuple[Learner, ...]
    holdout_fraction: float
    min_improvement_pct: float
    post_trade_hooks: tuple[str, ...]
    expectancy_half_life_trades: float
    calibration_buckets: int
    logs_keep_s: float  # rulebot paper deletes closed daily log files older than this (snapshot time)


def build(doc: Doc, ctx: BuildContext) -> Spec:
    f = doc.frozen
    learners = tuple(
        Learner(
            id=raw["id"],
            kind=raw["kind"],
            schedule=raw["schedule"],
            min_trades=raw["min_trades"],
            params={k: v for k, v in raw.items() if k not in ("id", "kind", "schedule", "min_trades")},
        )
        for raw in f["learners"]
    )
    return Spec(
        signal_resolution_horizons=tuple(f["signal_resolution_horizons"]),
        trade_lookback_s=f["trade_lookback"],
        learners=learners,
        holdout_fraction=f["promotion"]["holdout_fraction"],
        min_improvement_pct=f["promotion"]["min_improvement_pct"],
        post_trade_hooks=tuple(f["post_trade"]["hooks"]),
        expectancy_half_life_trades=f["post_trade"]["expectancy_half_life_trades"],
        calibration_buckets=f["post_trade"]["calibration_buckets"],
        logs_keep_s=f["logs"]["keep"],
    )


def check(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    check_unique_ids(doc, ("learners",), ctx, "learner")
    for index, learner in enumerate(spec.learners):
        learners.LEARNERS[learner.kind].check(learner, doc, ("learners", index), ctx, spec)
    _check_log_retention(spec, doc, ctx)


def _check_log_retention(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    """The logs are what the learners read: deleting them sooner than the learners look back
    would make a learner decide on less than its rules say, silently."""
    keep = spec.logs_keep_s
    if keep % DAY_S:
        ctx.report(
            doc,
            ("logs", "keep"),
            "RB395",
            f"logs.keep is {keep:g} s: the logs are closed one UTC day at a time, so they are kept whole days",
            suggestion=f"use {max(1, round(keep / DAY_S)):d}d",
        )
        return
    needed = max(spec.trade_lookback_s, *spec.signal_resolution_horizons)
    if keep < needed:
        ctx.report(
            doc,
            ("logs", "keep"),
            "RB395",
            f"logs.keep ({keep / DAY_S:g}d) is shorter than what the learners read "
            f"(trade_lookback {spec.trade_lookback_s / 3600:g}h): they would learn from less than that",
            suggestion=f"keep at least {-(-needed // DAY_S):g}d, or shorten trade_lookback",
        )


def schema() -> dict:
    """The JSON Schema of a `learning` rule file (written to schemas/learning.schema.json)."""
    base = {
        "schedule": identifier("Schedule job that runs this learner."),
        "min_trades": num(
            "Outcomes (resolved signals, or closed trades) needed before it changes anything.",
            "count",
            minimum=1,
            integer=True,
        ),
    }
    # one variant per learner module (engine/learners/__init__.py): its own fields and summary
    variants = {
        kind: element(
            kind,
            module.SUMMARY,
            {**base, **module.params_schema()},
            required=["id", "kind", *base, *module.REQUIRED_PARAMS],
        )
        for kind, module in learners.LEARNERS.items()
    }
    learner, defs = kinds("One learner.", variants)
    logs = obj(
        'What `rulebot paper` keeps of its logs/ (docs/state.md, "Log files"): each log is one file per '
        "UTC day of the snapshot clock, gzip-compressed once the day is closed.",
        {
            "keep": duration(
                "Closed days older than this (by the snapshot clock) are deleted; at least trade_lookback and "
                "the longest signal resolution horizon (the learners read them).",
                "30d",
                positive=True,
            ),
        },
    )
    logs["default"] = {"keep": "30d"}
    return document(
        "learning",
        "learning",
        "Learners and their guard-rails (seed: Learning Engine).",
        {
            "signal_resolution_horizons": arr(
                "Forward horizons at which signals are scored.",
                duration("Horizon.", positive=True),
                min_items=1,
                unique=True,
            ),
            "trade_lookback": duration("How far back learners read trades.", positive=True),
            "learners": arr("The learners.", learner),
            "post_trade": obj(
                "What runs after every closed trade, in order (seed: Post-Trade Review). A hook that "
                "fails is logged and does not stop the others or lose the trade.",
                {
                    "hooks": arr(
                        "Hooks in the order they run.",
                        text(
                            "Hook.",
                            enum=[
                                "attribution",
                                "expectancy_ledger",
                                "prediction_calibration",
                                "meta_buckets",
                                "timing_outcome",
                                "outcome_record",
                            ],
                        ),
                        min_items=1,
                        unique=True,
                    ),
                    "expectancy_half_life_trades": num(
                        "Decay of the expectancy ledger: a trade's weight halves after this many newer trades.",
                        "count",
                        minimum=1,
                        maximum=10000,
                    ),
                    "calibration_buckets": num(
                        "Confidence buckets of the calibration table.", "count", minimum=2, maximum=100, integer=True
                    ),
                },
            ),
            "logs": logs,
            "promotion": obj(
                'Hold-out check before a learned version is used (docs/learning.md, "Promotion gate").',
                {
                    "holdout_fraction": num(
                        "Share of the learner's data window, at its end, replayed to compare the versions.",
                        "fraction",
                        minimum=0,
                        maximum=0.9,
                    ),
                    "min_improvement_pct": num(
                        "Points of net return (% of equity) the learned version must gain over the live one in "
                        "the hold-out: 0 = must not get worse, negative = a tolerated loss.",
                        "%",
                        minimum=-100,
                        maximum=100,
                    ),
                },
            ),
        },
        defs=defs,
    )
