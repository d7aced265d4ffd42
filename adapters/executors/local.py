"""The local executor: up to ``workers`` processes on this machine (see the package).

Each worker is a ``spawn`` process (a clean interpreter, as a Dask worker has) that lives as
long as the pool and runs one task at a time, handed to it through its own pipe; it keeps
what it loaded between tasks (the modules, a snapshot file read once), so a short variant
does not pay for a new interpreter. No queue is shared between workers, so a worker killed at
any moment (SIGKILL, out of memory) can never leave a lock held that stalls the others: a
fresh worker takes its place and its task is run again, at most ``retries`` times more, and
then reported :class:`~adapters.executors.Failed`. A task's own exception is its outcome
(never retried). Workers ignore SIGINT: Ctrl-C reaches the caller, which stops them and
raises, keeping what ``on_result`` was already given.
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

_DIED = object()
_JOIN_SECONDS = 10  # how long a worker told to stop may take before it is terminated


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        child.close()  # the child's end: EOF here once the child is gone
        self.task: Any = None

    def receive(self) -> Any:
        """The outcome of the task it ran, or _DIED when it ended without sending one."""
        try:
            kind, value = self.conn.recv() if self.conn.poll() else (None, None)
        except Exception:  # EOF, a closed pipe, or what a child killed mid-send left half-written
            kind, value = None, None
        if kind is None:
            self.stop()
            return _DIED
        return value if kind == "value" else Failed(str(value))

    def stop(self, *, ask: bool = False) -> None:
        """End the process: asked to (it finishes nothing more) or terminated at once."""
        if ask and self.process.is_alive():
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.process.join(_JOIN_SECONDS)
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.conn.close()


class Pool:
    """Up to ``workers`` processes, started when first needed and kept until :meth:`close`."""

    def __init__(self, workers: int, retries: int) -> None:
        self.size, self.retries = max(1, workers), retries
        self.context = multiprocessing.get_context("spawn")
        self.idle: list[_Worker] = []

    def run(self, tasks: Iterable[Any], fn: Callable[[Any], Any], on_result: Callable[[Any, Any], None]) -> None:
        waiting, deaths = deque(tasks), Counter[Any]()
        busy: dict[Connection, _Worker] = {}
        try:
            while waiting or busy:
                while waiting and len(busy) < self.size:
                    worker = self.idle.pop() if self.idle else _Worker(self.context)
                    worker.task = waiting.popleft()
                    try:
                        worker.conn.send((fn, worker.task))
                    except OSError:  # it died idle: the task waits for another worker
                        waiting.appendleft(worker.task)
                        worker.stop()
                        continue
                    busy[worker.conn] = worker
                ready = set(wait([*busy, *(w.process.sentinel for w in busy.values())]))
                for conn, worker in list(busy.items()):
                    if conn in ready or worker.process.sentinel in ready:
                        del busy[conn]
                        self._finished(worker, waiting, deaths, on_result)
        except BaseException:
            for worker in busy.values():
                worker.stop()
            raise

    def _finished(
        self, worker: _Worker, waiting: deque, deaths: Counter, on_result: Callable[[Any, Any], None]
    ) -> None:
        task, outcome = worker.task, worker.receive()
        if outcome is not _DIED:
            self.idle.append(worker)
            on_result(task, outcome)
            return
        deaths[task] += 1
        if deaths[task] > self.retries:
            on_result(task, Failed(f"its worker died {deaths[task]} times"))
        else:
            logger.warning("a worker died (exit code %s); its task runs again", worker.process.exitcode)
            waiting.append(task)

    def close(self) -> None:
        """Stop every idle worker (a busy one was stopped by the run it served)."""
        while self.idle:
            self.idle.pop().stop(ask=True)


@contextlib.contextmanager
def opened(*, workers: int, retries: int = 2) -> Iterator[Pool]:
    """The pool (the package's session contract); its workers end when the block does."""
    pool = Pool(workers, retries)
    try:
        yield pool
    finally:
        pool.close()


def run(
    tasks: Iterable[Any],
    fn: Callable[[Any], Any],
    *,
    workers: int,
    on_result: Callable[[Any, Any], None],
    retries: int = 2,
) -> None:
    """One batch of tasks on a pool of its own."""
    with opened(workers=workers, retries=retries) as pool:
        pool.run(tasks, fn, on_result)


def _serve(conn: Connection) -> None:
    """In the worker: run each ``(fn, task)`` received, answer ("value", v) or ("error", why)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle
    while True:
        try:
            job = conn.recv()
        except EOFError:  # the pool is gone
            return
        if job is None:
            return
        fn, task = job
        try:
            outcome = ("value", fn(task))
        except Exception as error:  # the task's own failure: reported, never retried
            outcome = ("error", f"{type(error).__name__}: {error}")
        try:
            conn.send(outcome)
        except Exception as error:  # a value that cannot be pickled
            conn.send(("error", f"its result could not be sent back: {type(error).__name__}: {error}"))
