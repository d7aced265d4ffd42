"""The local executor: up to ``workers`` processes on this machine, one per task (see the package).

Each task runs in a fresh ``spawn`` process (a clean interpreter, as a Dask worker has) that
sends its outcome back through its own pipe and exits. No queue is shared between workers,
so a worker killed at any moment (SIGKILL, out of memory) can never leave a lock held that
stalls the others: its task is simply run again, at most ``retries`` times more, and then
reported :class:`~adapters.executors.Failed`. A task's own exception is its outcome (never
retried). Workers ignore SIGINT: Ctrl-C reaches the caller, which stops them and raises,
keeping what ``on_result`` was already given.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from adapters.executors import Failed

logger = logging.getLogger(__name__)


class Pool:
    """Up to ``workers`` processes at a time; nothing is kept between two :meth:`run` calls."""

    def __init__(self, workers: int, retries: int) -> None:
        self.workers, self.retries = max(1, workers), retries

    def run(self, tasks: Iterable[Any], fn: Callable[[Any], Any], on_result: Callable[[Any, Any], None]) -> None:
        _run(tasks, fn, workers=self.workers, on_result=on_result, retries=self.retries)


@contextlib.contextmanager
def opened(*, workers: int, retries: int = 2) -> Iterator[Pool]:
    """The pool (the package's session contract); it holds no process between runs."""
    yield Pool(workers, retries)


def run(
    tasks: Iterable[Any],
    fn: Callable[[Any], Any],
    *,
    workers: int,
    on_result: Callable[[Any, Any], None],
    retries: int = 2,
) -> None:
    """One batch of tasks on a pool of its own."""
    _run(tasks, fn, workers=workers, on_result=on_result, retries=retries)


def _run(
    tasks: Iterable[Any],
    fn: Callable[[Any], Any],
    *,
    workers: int,
    on_result: Callable[[Any, Any], None],
    retries: int,
) -> None:
    context = multiprocessing.get_context("spawn")
    waiting, deaths = deque(tasks), Counter[Any]()
    running: dict[Any, tuple[Any, Any, Connection]] = {}  # sentinel → (process, task, reader)
    try:
        while waiting or running:
            while waiting and len(running) < max(1, workers):
                task = waiting.popleft()
                reader, writer = context.Pipe(duplex=False)
                process = context.Process(target=_work, args=(fn, task, writer), daemon=True)
                process.start()
                writer.close()  # the child's end: EOF here once the child is gone
                running[process.sentinel] = (process, task, reader)
            ready = set(wait([*running, *(entry[2] for entry in running.values())]))
            for sentinel, (process, task, reader) in list(running.items()):
                if sentinel not in ready and reader not in ready:
                    continue
                del running[sentinel]
                outcome = _receive(process, reader)
                if outcome is _DIED:
                    deaths[task] += 1
                    if deaths[task] > retries:
                        on_result(task, Failed(f"its worker died {deaths[task]} times"))
                    else:
                        logger.warning("a worker died (exit code %s); its task runs again", process.exitcode)
                        waiting.append(task)
                    continue
                on_result(task, outcome)
    finally:
        for process, _, reader in running.values():
            process.terminate()
            process.join()
            reader.close()


_DIED = object()


def _receive(process: Any, reader: Connection) -> Any:
    """The child's outcome, or _DIED when it ended without sending one."""
    try:
        kind, value = reader.recv() if reader.poll() else (None, None)
    except Exception:  # EOF, a closed pipe, or what a child killed mid-send left half-written
        kind = None
    finally:
        reader.close()
    process.join()
    if kind is None:
        return _DIED
    return value if kind == "value" else Failed(str(value))


def _work(fn: Callable[[Any], Any], task: Any, writer: Connection) -> None:
    """In the worker: run ``fn(task)`` and send ("value", v) or ("error", why) back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle
    try:
        outcome = ("value", fn(task))
    except Exception as error:  # the task's own failure: reported, never retried
        outcome = ("error", f"{type(error).__name__}: {error}")
    writer.send(outcome)
    writer.close()
