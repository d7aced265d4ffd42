"""Append-only JSON-lines logs (logs/*.jsonl): one object per line, never rewritten.

Each record is written with a single ``write`` of a complete line and flushed, so a crash
can at worst leave a torn last line, which readers skip with a warning.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def line(record: Any) -> str:
    """One record as its log line (without the newline): the one form every log writes."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def lines(records: Sequence[Any]) -> list[str]:
    """Each record's ``line``, the same text, made faster when a record is also the last
    value of another (a signal record, logged on its own and inside its entry decision):
    its text is made once and written into the other's, as ``line`` itself would write it."""
    alone = {id(record) for record in records if type(record) is dict}
    made: dict[int, str] = {}

    def text(record: Any) -> str:
        known = made.get(id(record))
        if known is not None:
            return known
        result = None
        if type(record) is dict and record:
            key, last = next(reversed(record.items()))
            if isinstance(key, str) and id(last) in alone:
                head = dict(record)
                del head[key]
                opening = line(head)[:-1] + "," if head else "{"
                result = f"{opening}{json.dumps(key, ensure_ascii=False)}:{text(last)}}}"
        if result is None:
            result = line(record)
        if id(record) in alone:
            made[id(record)] = result
        return result

    return [text(record) for record in records]


class JsonlLog:
    """An open JSON-lines file in append mode."""

    def __init__(self, path: str | os.PathLike, *, fsync: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._fsync = fsync

    def write(self, record: Any) -> None:
        self._file.write(line(record) + "\n")
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> JsonlLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
