"""Rule kind ``learning``: which learners run, when, and with what guard-rails."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.kinds.base import BuildContext, Doc, check_unique_ids

KIND = "learning"
CODES: dict[str, str] = {}


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
    )


def check(spec: Spec, doc: Doc, ctx: BuildContext) -> None:
    check_unique_ids(doc, ("learners",), ctx, "learner")
