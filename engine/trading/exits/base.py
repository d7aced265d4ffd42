"""What an exit tier sees and what it answers. Every tier kind module has the same shape:
``KIND``, ``REASONS`` and ``evaluate(tier, ctx) -> ExitSignal | None``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class ExitContext:
    position: Any  # positions.OpenPosition
    now: float
    price: float
    pnl_pct: float  # on the plan's pnl_basis
    hold_s: float
    env: Mapping[str, Any]  # the exit vocabulary (docs/reference/vocabulary.md)
    timing_action: str  # this cycle's timing action (HOLD when there is no timing tier)


@dataclass(frozen=True, slots=True)
class ExitSignal:
    tier: str  # tier id
    kind: str
    reason: str  # STOP_LOSS, TAKE_PROFIT, TIME_LIMIT, …
    fraction: float = 1.0  # of the INITIAL quantity; 1.0 closes what is left
    rungs: tuple[int, ...] = ()  # ladder rungs this signal takes
    detail: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def full(self) -> bool:
        return self.fraction >= 1.0

    def as_dict(self) -> dict:
        return {
            "tier": self.tier,
            "kind": self.kind,
            "reason": self.reason,
            "fraction": self.fraction,
            "rungs": list(self.rungs),
            "detail": dict(self.detail),
        }


def fire(tier, reason: str, **detail) -> ExitSignal:
    return ExitSignal(tier.id, tier.kind, reason, 1.0, (), MappingProxyType(detail))
