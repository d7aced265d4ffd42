"""The version store's records: one row of a rule set's history (a version that went live, or
a learned version proposed to the promotion gate), as the store (adapters/store/state.py,
migration 7) and the `versions`, `diff` and `rollback` commands read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from engine.language.kinds.overlays import SWEEP_PREFIX

HUMAN = "human"
LEARNER_PREFIX = "learner:"

PROPOSED, LIVE, REJECTED = "proposed", "live", "rejected"
PROMOTIONS = (PROPOSED, LIVE, REJECTED)


def learner_author(learner: str) -> str:
    """The author of a version a learner wrote: ``learner:<id>``; a sweep's best variant
    written back is authored ``sweep:<spec name>`` (its learner field already says so)."""
    return learner if learner.startswith(SWEEP_PREFIX) else f"{LEARNER_PREFIX}{learner}"


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One entry of the history, newest has the highest ``seq``. A version id can appear
    more than once (live again after a rollback); its content is stored once per id.

    ``promotion`` is None for a version a human (or a rollback) made live; a learned version
    is ``proposed`` until the promotion gate marks it ``live`` or ``rejected`` (``numbers``:
    the gate's figures). ``window_from``/``window_to`` (epoch s) and ``metrics``: the data a
    learner learned from."""

    seq: int
    version_id: str
    created_at: float
    author: str  # human | learner:<id>
    parent: str | None
    message: str
    window_from: float | None = None
    window_to: float | None = None
    metrics: Mapping[str, Any] = field(default_factory=_empty)
    promotion: str | None = None  # None | proposed | live | rejected
    numbers: Mapping[str, Any] = field(default_factory=_empty)

    @property
    def went_live(self) -> bool:
        """Whether this entry made its version the live one (not a proposal or a rejection)."""
        return self.promotion in (None, LIVE)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "version_id": self.version_id,
            "created_at": self.created_at,
            "author": self.author,
            "parent": self.parent,
            "message": self.message,
            "window_from": self.window_from,
            "window_to": self.window_to,
            "metrics": dict(self.metrics),
            "promotion": self.promotion,
            "numbers": dict(self.numbers),
        }
