"""The sweep executors keep one contract (adapters/executors): the local process pool and Dask give the same outcomes.

Every Dask test starts a LocalCluster of two one-thread workers (or connects to one the test
started) and leaves no process behind. Workers die by SIGKILL of their own process: markers made
with O_CREAT | O_EXCL in the test's directory say which run is the first, so nothing here waits
on time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from adapters.executors import Failed
from adapters.executors import dask as dask_executor
from adapters.executors import local as local_executor
from tests.sweeps import executor_tasks

EXECUTORS = {"local": local_executor.run, "dask": dask_executor.run}


@pytest.fixture(autouse=True)
def no_process_left() -> Iterator[None]:
    """Whatever an executor started (pools, clusters, workers) is gone when it returns."""

    def children() -> set[int]:
        # multiprocessing's resource tracker lives as long as this process, by design
        return {
            p.pid for p in psutil.Process().children(recursive=True) if "resource_tracker" not in " ".join(_cmdline(p))
        }

    before = children()
    yield
    assert children() - before == set()


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:  # gone meanwhile
        return []


def collect(
    executor: str, tasks: list[Any], fn: Callable[[Any], Any], *, workers: int = 2, **options: Any
) -> dict[Any, Any]:
    outcomes: dict[Any, Any] = {}

    def on_result(task: Any, outcome: Any) -> None:
        assert task not in outcomes, f"{task!r} reported twice"
        outcomes[task] = outcome

    EXECUTORS[executor](tasks, fn, workers=workers, on_result=on_result, **options)
    assert set(outcomes) == set(tasks)
    return outcomes


def plain_loop(tasks: list[Any], fn: Callable[[Any], Any]) -> dict[Any, Any]:
    outcomes: dict[Any, Any] = {}
    for task in tasks:
        try:
            outcomes[task] = fn(task)
        except Exception as error:
            outcomes[task] = Failed(f"{type(error).__name__}: {error}")
    return outcomes


def test_both_executors_give_the_outcomes_of_a_plain_loop() -> None:
    tasks = list(range(20))
    expected = plain_loop(tasks, executor_tasks.square)
    assert collect("local", tasks, executor_tasks.square) == expected
    assert collect("dask", tasks, executor_tasks.square) == expected


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_tasks_own_exception_is_a_failed_outcome_not_retried(executor: str) -> None:
    tasks = [(x, 3) for x in range(8)]
    outcomes = collect(executor, tasks, executor_tasks.raise_on)
    assert outcomes == plain_loop(tasks, executor_tasks.raise_on)
    assert outcomes[(3, 3)] == Failed("ValueError: task 3 is bad")


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_worker_killed_mid_task_has_its_task_run_again(executor: str, tmp_path: Path) -> None:
    # two tasks kill their worker the first time they run: each death is charged to the task its
    # worker ran (a Dask worker's death to every task it held: one at a time here), never twice
    tasks = [(str(tmp_path), x, x in (4, 11)) for x in range(16)]
    outcomes = collect(executor, tasks, executor_tasks.die_once, retries=2)
    assert outcomes == {task: task[1] ** 2 for task in tasks}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["died-11", "died-4"]


@pytest.mark.parametrize(("executor", "workers"), [("local", 1), ("local", 2), ("dask", 2)])
def test_a_task_that_always_kills_its_worker_fails_after_retries(executor: str, workers: int, tmp_path: Path) -> None:
    tasks = [(str(tmp_path), x, x == 9) for x in range(10)]
    outcomes = collect(executor, tasks, executor_tasks.die_always, workers=workers, retries=2)
    killer = tasks[9]
    assert outcomes.pop(killer) == Failed("its worker died 3 times")
    assert outcomes == {task: task[1] ** 2 for task in tasks[:9]}
    assert executor_tasks.attempts(str(tmp_path), 9) == 3


def test_a_local_worker_serves_task_after_task_and_ends_with_the_pool() -> None:
    """Workers are kept between tasks and batches (what a worker loaded stays loaded), up to ``workers``."""
    pids: list[int] = []
    with local_executor.opened(workers=2) as pool:
        for _ in range(2):
            pool.run(list(range(8)), executor_tasks.pid_of, lambda task, outcome: pids.append(outcome))
    assert len(pids) == 16 and 1 <= len(set(pids)) <= 2
    # no process left: the autouse fixture


@pytest.mark.parametrize("executor", EXECUTORS)
def test_an_open_pool_runs_batch_after_batch(executor: str) -> None:
    """An optimiser's loop: the next batch is chosen from the results of the one before, on
    the same pool (a Dask cluster is started once, not per batch)."""
    opened = {"local": local_executor.opened, "dask": dask_executor.opened}[executor]
    outcomes: list[tuple[Any, Any]] = []
    with opened(workers=2) as pool:
        pool.run([1, 2, 3], executor_tasks.square, lambda task, outcome: outcomes.append((task, outcome)))
        following = [outcome + 1 for _, outcome in sorted(outcomes)]  # 2, 5, 10
        pool.run(following, executor_tasks.square, lambda task, outcome: outcomes.append((task, outcome)))
        pool.run([], executor_tasks.square, lambda task, outcome: outcomes.append((task, outcome)))
        if executor == "dask":
            assert len(pool.client.scheduler_info()["workers"]) == 2  # the cluster of the first batch
    assert sorted(outcomes) == [(1, 1), (2, 4), (2, 4), (3, 9), (5, 25), (10, 100)]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_an_interruption_in_the_caller_stops_the_run_and_is_raised(executor: str) -> None:
    given: list[Any] = []

    def on_result(task: Any, outcome: Any) -> None:
        given.append((task, outcome))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        EXECUTORS[executor](list(range(20)), executor_tasks.square, workers=2, on_result=on_result)
    assert len(given) == 1
    # no process left: the autouse fixture


def test_dask_on_an_existing_cluster_leaves_it_running() -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # not 8787, as the executor's (see there)
    ) as cluster:
        tasks = [(x, 5) for x in range(10)]
        outcomes = collect("dask", tasks, executor_tasks.raise_on, scheduler=cluster.scheduler_address)
        assert outcomes == plain_loop(tasks, executor_tasks.raise_on)
        with distributed.Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
            assert client.submit(executor_tasks.square, 7).result() == 49


def test_dask_missing_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises ImportError
    with pytest.raises(dask_executor.DaskMissing, match=r"pip install 'rulebot\[dask\]'"):
        dask_executor.run([1], executor_tasks.square, workers=1, on_result=lambda task, outcome: None)


def test_the_dask_module_imports_without_dask() -> None:
    import subprocess

    code = (
        "import sys; sys.modules['dask'] = sys.modules['distributed'] = None; "
        "import adapters.executors.dask as m; print(m.DaskMissing.__name__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "DaskMissing"
