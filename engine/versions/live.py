"""Recording a version that goes live (start-up, hot reload, rollback) in the version store,
with its content, the version it replaced as parent, and who made it: a rule set whose only
change from its parent is learned overlays appended is the learner's; anything else is a
human's."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from engine.versions.model import HUMAN, LIVE, VersionRecord, learner_author

logger = logging.getLogger(__name__)


class VersionStore(Protocol):
    """What recording needs of the state store (adapters/store/state.py)."""

    def live_version(self) -> VersionRecord | None: ...

    def version_content(self, version_id: str) -> dict | None: ...

    def record_version(
        self,
        version_id: str,
        content: Mapping[str, Any] | None,
        author: str,
        *,
        parent: str | None = None,
        message: str = "",
        created_at: float | None = None,
        window: tuple[float, float] | None = None,
        metrics: Mapping[str, Any] | None = None,
        promotion: str | None = None,
        numbers: Mapping[str, Any] | None = None,
    ) -> VersionRecord: ...


def learned_step(content: Mapping[str, Any], parent: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The newest learned file when ``content`` is ``parent`` plus learned files appended
    (human files unchanged); None otherwise."""
    if parent is None or content.get("base") != parent.get("base") or content.get("profiles") != parent.get("profiles"):
        return None
    learned, before = list(content.get("learned", [])), list(parent.get("learned", []))
    if len(learned) <= len(before) or learned[: len(before)] != before:
        return None
    return learned[-1]


def _window(provenance: Mapping[str, Any]) -> tuple[float, float] | None:
    from engine.common.times import parse_time

    try:
        start, end = parse_time(str(provenance["data_from"])), parse_time(str(provenance["data_to"]))
    except (KeyError, ValueError):
        return None
    return (start, end) if end >= start else None


def record_live(
    store: VersionStore,
    version_id: str,
    content: Mapping[str, Any] | None,
    message: str,
    *,
    author: str | None = None,
    created_at: float | None = None,
) -> VersionRecord:
    """Record ``version_id`` going live, its parent the live version before it. ``author``
    None: worked out from the content (a learner's overlay appended, or a human)."""
    live = store.live_version()
    parent = None if live is None or live.version_id == version_id else live.version_id
    extra: dict[str, Any] = {}
    if author is None:
        step = learned_step(content, store.version_content(parent)) if content is not None and parent else None
        author = HUMAN
        if step is not None:
            provenance = step.get("provenance", {})
            author = learner_author(str(step["learner"]))
            extra = dict(window=_window(provenance), metrics=provenance.get("metrics") or {}, promotion=LIVE)
            message = f"{message}: {provenance.get('message', '')}".rstrip(": ")
    record = store.record_version(
        version_id, content, author, parent=parent, message=message, created_at=created_at, **extra
    )
    logger.info("version %s live (entry %d, parent %s, %s)", version_id, record.seq, parent, author)
    return record
