"""Sweep executors: where the variants of `rulebot sweep` run.

Every executor has ``opened(*, workers, retries, …)``, a context manager giving a pool whose
``run(tasks, fn, on_result)`` may be called many times (an optimiser asks for a batch of
variants at a time; a cluster is started once), and the one-batch shortcut ``run(tasks, fn, *,
workers, on_result, retries)``. A run calls ``fn(task)`` for every task somewhere else, and
``on_result(task, outcome)`` in the caller's process as each finishes (in completion order: the caller ranks, so order never matters).
``outcome`` is ``fn``'s value, or an :class:`Failed` when ``fn`` raised or its worker died
more than ``retries`` times. A worker that dies mid-task has its task run again. ``fn`` must
be importable by the workers (a module-level function); tasks carry paths, not data.

* :mod:`adapters.executors.local` — a process pool on this machine (the default);
* :mod:`adapters.executors.dask` — ``dask.distributed``: a LocalCluster, or an existing cluster's
  scheduler (the optional extra ``rulebot[dask]``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Failed:
    """A task that did not give a value: why (the exception, or the worker's death)."""

    reason: str
