"""The Dask executor: the tasks run on ``dask.distributed`` workers (see the package for the contract).

With no ``scheduler`` a LocalCluster of ``workers`` processes of one thread each is started on
the loopback interface (no dashboard) and closed at the end. With a scheduler's address
(``tcp://host:8786``) a client connects to that cluster, which is used as it is: nothing is
started or stopped there, and its own ``distributed.scheduler.allowed-failures`` says how many
of a task's workers may die before it fails (``retries`` applies to a LocalCluster only).

Outcomes are those of :mod:`adapters.executors.local`: ``fn``'s value; ``Failed("ExcType:
message")`` when ``fn`` raised (never retried); ``Failed("its worker died …")`` when the scheduler
gave the task up (``KilledWorker``) because its workers kept dying. A task whose worker died but
which the scheduler ran again on another one is just its value. The scheduler counts a death
against every task its worker held; the LocalCluster gives a one-thread worker one task at a
time (``worker-saturation`` 1.0), so that a death counts against the task that was running.

Ctrl-C (or anything ``on_result`` raises) cancels the tasks that have not finished, closes
what was started here and raises in the caller, which keeps what ``on_result`` was given.

Dask is optional (the extra ``rulebot[dask]``): it is imported when a pool is opened, and
:class:`DaskMissing` says how to install it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from adapters.executors import Failed

logger = logging.getLogger(__name__)

# how long the end of a run waits for workers that the nannies are restarting (see _settle)
SETTLE_SECONDS = 30

MISSING = "the Dask executor needs the optional extra: pip install 'rulebot[dask]'"


class DaskMissing(RuntimeError):
    """``dask.distributed`` is not installed."""


class Pool:
    """A connected client (and the LocalCluster it started); :meth:`run` may be called many times."""

    def __init__(self, client: Any, distributed: Any) -> None:
        self.client, self.distributed = client, distributed

    def run(self, tasks: Iterable[Any], fn: Callable[[Any], Any], on_result: Callable[[Any, Any], None]) -> None:
        pending = list(tasks)
        if pending:
            _consume(self.client, pending, fn, on_result, self.distributed)


@contextlib.contextmanager
def opened(*, workers: int, retries: int = 2, scheduler: str | None = None) -> Iterator[Pool]:
    """A client of the cluster at ``scheduler``, or of a LocalCluster started here and closed on leaving."""
    try:
        import dask
        import distributed
    except ImportError as error:
        raise DaskMissing(MISSING) from error

    cluster: Any = None
    client: Any = None
    try:
        if scheduler is None:
            # read by the scheduler as it starts: a task fails once more than `retries` of its
            # workers died; a one-thread worker holds one task at a time (no bystander deaths)
            with dask.config.set(
                {
                    "distributed.scheduler.allowed-failures": max(0, retries),
                    "distributed.scheduler.worker-saturation": 1.0,
                    # the workers' statistical profiler samples the task's stack every 10 ms: about
                    # 15 % more CPU for a replay, which is pure Python (tests/benchmarks/bench_sweep.py)
                    "distributed.worker.profile.enabled": False,
                }
            ):
                cluster = distributed.LocalCluster(
                    n_workers=max(1, workers),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    # the scheduler's HTTP server (health, metrics) starts even without a dashboard,
                    # on 8787 unless told: a free port, so that a dashboard already there is no clash
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                )
            client = distributed.Client(cluster)
        else:
            client = distributed.Client(scheduler)
        yield Pool(client, distributed)
        if cluster is not None:
            _settle(client, max(1, workers))
    finally:
        _close(client, cluster)


def run(
    tasks: Iterable[Any],
    fn: Callable[[Any], Any],
    *,
    workers: int,
    on_result: Callable[[Any, Any], None],
    retries: int = 2,
    scheduler: str | None = None,
) -> None:
    """One batch of tasks on a cluster of its own (or the one at ``scheduler``)."""
    pending = list(tasks)
    if not pending:
        return
    with opened(workers=workers, retries=retries, scheduler=scheduler) as pool:
        pool.run(pending, fn, on_result)


def _consume(
    client: Any,
    tasks: list[Any],
    fn: Callable[[Any], Any],
    on_result: Callable[[Any, Any], None],
    distributed: Any,
) -> None:
    """Submit every task and report each as it completes; on any interruption cancel the rest."""
    futures = client.map(fn, tasks, pure=False, retries=0)
    running: dict[Any, Any] = dict(zip(futures, tasks))
    try:
        for future in distributed.as_completed(futures, loop=client.loop):
            task = running.pop(future)
            outcome = _outcome(future, distributed)
            future.release()  # its result is no longer kept (nor recomputed if its worker dies)
            on_result(task, outcome)
    except BaseException:
        if running:
            logger.warning("interrupted: %d unfinished task(s) are cancelled", len(running))
            with contextlib.suppress(Exception):  # the cluster may be gone: the original error matters
                client.cancel(list(running))
        raise


def _settle(client: Any, workers: int) -> None:
    """Wait for the workers that are being restarted: Dask cannot close a nanny while it starts its
    worker's process (``AssertionError: can only join a started process``, and the process is left)."""
    try:
        client.wait_for_workers(workers, timeout=SETTLE_SECONDS)
    except Exception as error:
        logger.warning("the Dask workers did not all come back (%s); closing the cluster anyway", error)


def _close(client: Any, cluster: Any) -> None:
    """Close what ``run`` opened. A failure to close is logged, never raised: the outcomes were
    delivered (or an interruption is on its way up, which must stay the exception raised); the
    worker processes are daemons, which end with the caller at the latest."""
    for thing in (client, cluster):
        if thing is not None:
            try:
                thing.close()
            except Exception as error:
                logger.warning("the Dask %s did not close cleanly: %r", type(thing).__name__, error)


def _outcome(future: Any, distributed: Any) -> Any:
    if future.status == "error":
        error = future.exception()
        if isinstance(error, distributed.KilledWorker):
            return Failed(f"its worker died {error.allowed_failures + 1} times")
        return Failed(f"{type(error).__name__}: {error}")  # the task's own failure: never retried
    if future.status == "cancelled":
        return Failed("it was cancelled on the cluster")
    return future.result()
