"""One process per state database: an exclusive OS lock on ``<db>.lock``, held for the
process's whole life.

Two processes stepping one state interleave their transactions: each reads positions and
orders the other is about to change, and the database ends up holding an order ``open``
whose fill and trade are recorded (issue 14). SQLite's own locking serialises statements,
not runs, so a run takes this lock before it opens (or migrates) the database.

The lock is ``flock`` on a file beside the database. The kernel releases it when the
process ends, however it ends (SIGKILL too), so a lock file left by a killed process is
free and the next run takes it over, with a note. What the file holds (pid, command, since,
host as JSON) only names the holder, in the refusal and in that note: the OS lock alone
decides. A clean end empties the file. The file is never deleted: deleting it while another
process has it open would let two processes each lock a different file of the same name.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from adapters.store.state import STORE_FAILED, StateError
from engine.common.errors import StateLocked
from engine.common.times import iso_utc

logger = logging.getLogger(__name__)

SUFFIX = ".lock"
_SHOWN = 200  # characters of an unreadable lock file quoted in a message


def lock_path(db: str | os.PathLike[str]) -> Path:
    """The lock file of a state database: ``state/paper.db`` → ``state/paper.db.lock``."""
    return Path(f"{os.fspath(db)}{SUFFIX}")


class StateLock:
    """The exclusive lock of one state database (a context manager).

    ``acquire`` raises :class:`StateLocked` (RB805) naming the holder when another process
    holds it, and :class:`StateError` (RB800) when the lock cannot be taken at all (no
    ``fcntl``, a filesystem without file locks, a folder that cannot be written)."""

    def __init__(self, db: str | os.PathLike[str], *, command: str | None = None) -> None:
        self.db = Path(db)
        self.path = lock_path(db)
        self.command = command if command is not None else shlex.join(sys.argv)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> StateLock:
        """Take the lock or refuse; never waits (a second run is refused, not queued)."""
        if self._fd is not None:
            return self
        try:
            import fcntl
        except ImportError:  # not POSIX: refusing beats running unguarded
            raise StateError(
                f"cannot lock the state database {self.db}: this platform has no fcntl file locks", STORE_FAILED
            ) from None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise StateError(f"cannot create the lock file {self.path}: {error.strerror}", STORE_FAILED) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise StateLocked(
                f"the state database {self.db} is in use by another rulebot process: {_describe(holder)}. "
                f"Two processes on one state would interleave their steps; wait for it to end or stop it, "
                f"or give this run another --state (the lock is {self.path})",
                holder,
            ) from None
        except OSError as error:
            os.close(fd)
            raise StateError(
                f"cannot lock the state database {self.db}: locking {self.path} failed ({error.strerror}); "
                f"its filesystem may not support file locks (a network or FUSE mount): keep the state on a "
                f"local filesystem",
                STORE_FAILED,
            ) from None
        try:
            left = _read(fd)
            if left:  # the kernel freed the lock: its holder ended without releasing it (killed)
                logger.warning(
                    "took over the lock of the state database %s left by %s, which no longer runs",
                    self.db,
                    _describe(left),
                )
            me = {
                "pid": os.getpid(),
                "command": self.command,
                "since": iso_utc(time.time()),
                "host": socket.gethostname(),
            }
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(me).encode(), 0)
        except OSError as error:
            os.close(fd)
            raise StateError(f"cannot write the lock file {self.path}: {error.strerror}", STORE_FAILED) from None
        self._fd = fd
        return self

    def release(self) -> None:
        """Empty the file (a clean end leaves nothing to take over) and drop the lock;
        releasing twice is fine."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        except OSError as error:  # the next run then only notes a take-over
            logger.warning("could not empty the lock file %s: %s", self.path, error.strerror)
        finally:
            os.close(fd)  # closing the last descriptor releases the flock

    def __enter__(self) -> StateLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


def holder(db: str | os.PathLike[str]) -> dict[str, Any]:
    """What the lock file of ``db`` says about its holder, read without locking anything, with
    ``alive``: its pid runs on this host (a killed holder leaves its name behind; a clean end
    empties the file). {} when the file is absent or empty."""
    try:
        fd = os.open(lock_path(db), os.O_RDONLY)
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise StateError(f"cannot read the lock file {lock_path(db)}: {error.strerror}", STORE_FAILED) from None
    try:
        found = _read(fd)
    finally:
        os.close(fd)
    if found:
        found["alive"] = _alive(found)
    return found


def _alive(found: dict[str, Any]) -> bool:
    pid = found.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0 or found.get("host") != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


def _read(fd: int) -> dict[str, Any]:
    """What a lock file says about its holder: {} when empty; ``{"unreadable": text}`` when
    it is not the JSON object a lock writes (a holder mid-write, a hand edit)."""
    data = b""
    while chunk := os.pread(fd, 65536, len(data)):
        data += chunk
    text = data.decode("utf-8", "replace").strip()
    if not text:
        return {}
    try:
        holder = json.loads(text)
    except ValueError:
        holder = None
    return holder if isinstance(holder, dict) else {"unreadable": text[:_SHOWN]}


def _describe(holder: dict[str, Any]) -> str:
    """``pid 4242 (rulebot paper …), since 2026-12-04T18:05:19Z on host``."""
    if not holder:
        return "a process that has not written its name yet (it is starting)"
    if "unreadable" in holder:
        return f"an unknown process (the lock file says {holder['unreadable']!r})"
    text = (
        f"pid {holder.get('pid', '?')} ({holder.get('command', 'command unknown')}), since {holder.get('since', '?')}"
    )
    return f"{text} on {holder['host']}" if holder.get("host") else text
