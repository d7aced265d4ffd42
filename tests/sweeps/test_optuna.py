"""`search: {method: optuna}`: seeded, batch by batch, the same trials whatever runs them; a
trial on a variant already replayed is not run again; the budget is kept; a rerun resumes."""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from engine.sweeps.optimiser import OptunaSearch
from engine.sweeps.spec import Parameter, Spec
from tests.sweeps.cli import run_sweep


def _spec(trials: int = 40, batch: int = 4, seed: int = 1, goal: str = "max") -> Spec:
    axis = tuple(round(0.1 * k, 1) for k in range(21))  # 0.0 … 2.0
    return Spec(
        name="opt",
        metric="net_pnl_pct",
        goal=goal,
        method="optuna",
        trials=trials,
        seed=seed,
        parameters=(Parameter("a.x", axis), Parameter("a.y", axis)),
        source=Path("opt.yaml"),
        batch=batch,
    )


def _objective(values: dict) -> float:
    """A smooth hill with its top at x = 1.3, y = 0.4 (value 0)."""
    return -((values["a.x"] - 1.3) ** 2) - (values["a.y"] - 0.4) ** 2


def _search(spec: Spec, score=_objective) -> tuple[list[str], dict[str, float | None]]:
    search, seen = OptunaSearch(spec), {}
    while not search.done:
        batch = search.ask()
        assert len(batch) <= spec.batch
        for _, variant in batch:
            seen.setdefault(variant.id, score(variant.as_dict()))
        search.tell(batch, seen)
    return search.chosen, seen


def test_the_same_spec_asks_the_same_trials_and_keeps_its_budget():
    chosen, _ = _search(_spec())
    again, _ = _search(_spec())
    assert chosen == again and len(chosen) == 40
    assert chosen != _search(_spec(seed=2))[0]


def test_the_sampler_climbs_towards_the_best_variant():
    """40 trials of a 441-variant grid: TPE ends much nearer the top than its random start."""
    chosen, seen = _search(_spec())
    best = max(seen.values())
    first_batches = max(seen[v] for v in chosen[:8])
    assert best > first_batches and best >= -0.05  # within ~0.2 of the top on a 0.1 grid


def test_a_minimised_metric_and_failed_variants_are_told_so():
    failures = {"count": 0}

    def score(values: dict) -> float | None:
        if values["a.x"] > 1.5:
            failures["count"] += 1
            return None  # an invalid variant: told failed, never ranked
        return -_objective(values)

    chosen, seen = _search(_spec(trials=24, goal="min"), score)
    assert failures["count"] >= 1 and len(chosen) == 24
    finite = [v for v in seen.values() if v is not None]
    assert min(finite) < sorted(finite)[len(finite) // 2]


SPEC = """kind: sweep
name: opt
metric: {name: net_pnl_pct, goal: max}
search: {method: optuna, trials: 8, seed: 5, batch: 3}
parameters:
  - {path: exits.tiers.stop_loss.loss_pct, values: [1.0, 1.5, 2.0, 2.5, 3.0]}
  - {path: exits.tiers.profit_target.targets.0.pnl_pct, values: [2.0, 2.5, 3.0]}
"""


def _sweep(spec: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_sweep(spec, out, *extra)


def _table(out: Path) -> list[tuple[str, ...]]:
    with open(out / "ranking.csv", encoding="utf-8") as f:
        return [(r["rank"], r["variant"], r["status"], r["fingerprint"], r["net_pnl_pct"]) for r in csv.DictReader(f)]


@pytest.mark.slow
def test_an_optuna_sweep_is_the_same_on_one_worker_a_pool_a_cluster_and_after_a_crash(tmp_path):
    spec = tmp_path / "opt.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    one, pool = tmp_path / "one", tmp_path / "pool"
    done = _sweep(spec, one, "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "8 trial(s)" in done.stdout
    assert _sweep(spec, pool, "--workers", "2").returncode == 0
    expected = _table(one)
    assert expected == _table(pool)
    if importlib.util.find_spec("distributed") is not None:  # the extra rulebot[dask]: in the test extra
        cluster = tmp_path / "dask"
        done = _sweep(spec, cluster, "--executor", "dask", "--workers", "2")
        assert done.returncode == 0, done.stderr
        assert _table(cluster) == expected
    lines = (pool / "results.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    assert 3 <= len(lines) <= 8  # distinct variants of 8 trials
    # a crash after the first lines: the rest is gone, the last one torn
    (pool / "results.jsonl").write_text("".join(lines[:2]) + lines[2][:20], encoding="utf-8")
    again = _sweep(spec, pool, "--workers", "2")
    assert again.returncode == 0, again.stderr
    assert "2 task(s) already in" in again.stderr
    assert _table(pool) == expected
    rewritten = [json.loads(x) for x in (pool / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(x["variant"] for x in rewritten) == sorted(json.loads(x)["variant"] for x in lines)
