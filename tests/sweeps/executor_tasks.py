"""Task functions for tests/sweeps/test_executors.py: module-level, so that worker processes import them.

Every task is a hashable tuple (the tests key outcomes by task). The killing tasks take a directory
of the test's: their markers there are made with O_CREAT | O_EXCL, so that "the first time" holds
across processes whatever order they run in.
"""

from __future__ import annotations

import os
import signal


def square(x: int) -> int:
    return x * x


def pid_of(task: int) -> int:
    """The worker's process id: which worker ran the task."""
    return os.getpid()


def raise_on(task: tuple[int, int]) -> int:
    """``(x, bad)``: x², or a ValueError when x is the bad one."""
    x, bad = task
    if x == bad:
        raise ValueError(f"task {x} is bad")
    return x * x


def die_once(task: tuple[str, int, bool]) -> int:
    """``(directory, x, kill)``: x²; when ``kill``, the first run of the task kills its own process."""
    directory, x, kill = task
    if kill and _first(os.path.join(directory, f"died-{x}")):
        _die()
    return x * x


def die_always(task: tuple[str, int, bool]) -> int:
    """``(directory, x, kill)``: x²; when ``kill``, every run kills its own process (each run leaves a marker)."""
    directory, x, kill = task
    if kill:
        attempt = 1
        while not _first(os.path.join(directory, f"attempt-{x}-{attempt}")):
            attempt += 1
        _die()
    return x * x


def attempts(directory: str, x: int) -> int:
    """How many times ``die_always`` ran task x."""
    return sum(1 for name in os.listdir(directory) if name.startswith(f"attempt-{x}-"))


def _first(path: str) -> bool:
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)
