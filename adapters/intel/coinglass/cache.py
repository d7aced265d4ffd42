"""The disk cache of CoinGlass answers: every answer the API gave is kept (one small JSON
file per endpoint and coin, written whole or not at all) so that a failing API, a rate
limit or a restart leaves rulebot with the last answers, served marked stale.

An answer is stored as the envelope's ``data``, as sent, with the cycle time it was fetched
at and the request's window; it is parsed again when served, so a parser fix applies to
cached answers too. The two newest answers are kept (the exchange net flow is the change
between two balance readings). A file that cannot be read is ignored with a warning.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.common.files import whole_file

logger = logging.getLogger(__name__)

KEPT = 2
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class Answer:
    """One stored answer: ``data`` as sent, fetched at cycle time ``fetched_at`` (epoch s)."""

    fetched_at: float
    data: Any
    window: tuple[float, float] | None = None  # asked start and end of a history call (epoch s)

    def as_dict(self) -> dict[str, Any]:
        return {"fetched_at": self.fetched_at, "window": list(self.window) if self.window else None, "data": self.data}

    @classmethod
    def from_dict(cls, raw: Any) -> Answer:
        if not isinstance(raw, dict) or not isinstance(raw.get("fetched_at"), (int, float)):
            raise ValueError("an answer without fetched_at")
        window = raw.get("window")
        if window is not None and (not isinstance(window, list) or len(window) != 2):
            raise ValueError("a malformed window")
        return cls(float(raw["fetched_at"]), raw.get("data"), (float(window[0]), float(window[1])) if window else None)


class AnswerCache:
    """Answers by (endpoint, key) in ``folder`` (e.g. ``<state>/coinglass-cache/``)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _path(self, endpoint: str, key: str) -> Path:
        return self.folder / f"{_UNSAFE.sub('_', endpoint)}--{_UNSAFE.sub('_', key or 'all')}.json"

    def answers(self, endpoint: str, key: str) -> tuple[Answer, ...]:
        """The stored answers, oldest first; () when none or the file is unreadable."""
        path = self._path(endpoint, key)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return tuple(Answer.from_dict(a) for a in raw["answers"])
        except FileNotFoundError:
            return ()
        except (OSError, ValueError, KeyError, TypeError) as error:
            logger.warning("coinglass cache: %s cannot be read (%s); ignored", path.name, error)
            return ()

    def latest(self, endpoint: str, key: str) -> Answer | None:
        stored = self.answers(endpoint, key)
        return stored[-1] if stored else None

    def store(self, endpoint: str, key: str, answer: Answer) -> None:
        """Keep ``answer`` as the newest; a write that fails is logged and the old file kept."""
        kept = [a for a in self.answers(endpoint, key) if a.fetched_at < answer.fetched_at][-(KEPT - 1) :]
        record = {"endpoint": endpoint, "key": key, "answers": [a.as_dict() for a in (*kept, answer)]}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with whole_file(self._path(endpoint, key)) as tmp:
                tmp.write_text(json.dumps(record, separators=(",", ":"), allow_nan=True), encoding="utf-8")
        except OSError as error:
            logger.warning("coinglass cache: %s/%s not written (%s)", endpoint, key, error)
