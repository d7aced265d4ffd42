"""Append-only JSON-lines logs (logs/*.jsonl): one object per line, never rewritten.

Each record is written with a single ``write`` of a complete line and flushed, so a crash
can at worst leave a torn last line, which readers skip with a warning.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def line(record: Any) -> str:
    """One record as its log line (without the newline): the one form every log writes."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


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
