"""A read-only view of a state database, for `rulebot status` while a bot runs it.

It must never disturb the owner: no lock taken, nothing written, no checkpoint, no file
created. SQLite's ``mode=ro`` gives the first three; a WAL reader never makes the writer
wait (SQLITE_BUSY), it only reads the last committed snapshot. But a read-only connection
to a WAL database whose ``-wal`` file is absent (the owner ended cleanly) creates the
``-wal`` and ``-shm`` files and leaves them: then nobody is writing, so the file is opened
``immutable`` instead, which creates nothing. Should a writer start in between (the
``-wal`` file appears while reading), the read is done again through the shared WAL.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from adapters.store.state import _BEFORE_V4, POSITIONS, STORE_FAILED, TRADES, Reads, StateError

logger = logging.getLogger(__name__)

BOT_SCHEMA = 5  # the migration that added the running bot's tables


class StateReader(Reads):
    """Queries against ``path`` through a read-only connection opened for each query."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        if not self.path.is_file():
            raise StateError(f"no state database at {self.path}: is --state the folder a bot runs in?", STORE_FAILED)
        self.version = self._read(_schema_version)
        self._positions = POSITIONS if self.version >= 4 else _BEFORE_V4[id(POSITIONS)]
        self._trades = TRADES if self.version >= 4 else _BEFORE_V4[id(TRADES)]

    @property
    def has_bot_tables(self) -> bool:
        """Whether the database has the running bot's tables (a paper-only state may not)."""
        return self.version >= BOT_SCHEMA

    def _wal(self) -> Path:
        return Path(f"{self.path}-wal")

    def _read(self, query: Callable[[sqlite3.Connection], Any]) -> Any:
        shared = self._wal().exists()
        result = self._once(query, immutable=not shared)
        if not shared and self._wal().exists():  # a writer started meanwhile: read what it committed
            result = self._once(query, immutable=False)
        return result

    def _once(self, query: Callable[[sqlite3.Connection], Any], *, immutable: bool) -> Any:
        uri = f"file:{quote(str(self.path.absolute()))}?mode=ro" + ("&immutable=1" if immutable else "")
        try:
            db = sqlite3.connect(uri, uri=True, isolation_level=None)
        except sqlite3.Error as exc:
            raise StateError(f"cannot open the state database {self.path} read-only: {exc}", STORE_FAILED) from exc
        try:
            db.execute("PRAGMA query_only = ON")
            return query(db)
        except sqlite3.Error as exc:
            raise StateError(f"reading {self.path} failed: {exc}", STORE_FAILED) from exc
        finally:
            db.close()


def _schema_version(db: sqlite3.Connection) -> int:
    has = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").fetchone()
    if has is None:
        return 0
    return int(db.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0])
