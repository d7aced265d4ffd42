"""`rulebot sweep`: the spec checked against the rule set with located errors, the variants
a spec expands to, and whole sweeps run as real processes — the same ranking and
fingerprints on one worker and on a pool, invalid variants reported with their findings, a
rerun that resumes, and a worker killed mid-sweep that changes nothing."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
from pathlib import Path

import pytest

from engine.language.compiler import compile_ruleset
from engine.sweeps.spec import load_spec
from engine.sweeps.variants import expand
from tests.sweeps.cli import RULES, run_sweep, start_sweep

GRID = """kind: sweep
name: stops
metric: {name: net_pnl_pct, goal: max}
search: {method: grid}
parameters:
  - {path: exits.tiers.stop_loss.loss_pct, values: [1.0, 2.5]}
  - {path: exits.tiers.profit_target.targets.0.pnl_pct, range: {min: 1.0, max: 3.0, step: 1.0}}
"""


@pytest.fixture(scope="module")
def documents():
    return compile_ruleset(str(RULES)).canonical["base"]


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_grid_expands_in_order_with_stable_ids(tmp_path, documents):
    spec, problems = load_spec(_spec(tmp_path, GRID), documents)
    assert not problems
    variants = expand(spec)
    assert [v.id for v in variants] == ["g0", "g1", "g2", "g3", "g4", "g5"]
    assert variants[4].as_dict() == {
        "exits.tiers.stop_loss.loss_pct": 2.5,
        "exits.tiers.profit_target.targets.0.pnl_pct": 2,
    }


def test_a_random_search_draws_distinct_variants_the_same_way_each_time(tmp_path, documents):
    text = GRID.replace("search: {method: grid}", "search: {method: random, trials: 4, seed: 3}")
    spec, _ = load_spec(_spec(tmp_path, text), documents)
    first, again = expand(spec), expand(spec)
    assert first == again and len({v.id for v in first}) == 4


@pytest.mark.parametrize(
    "change,code,where",
    [
        (("exits.tiers.stop_loss.loss_pct", "exits.tiers.stop_los.loss_pct"), "RB550", "did you mean 'stop_loss'"),
        (("min: 1.0, max: 3.0", "min: 3.0, max: 1.0"), "RB551", "above max"),
        (("values: [1.0, 2.5]", "range: {min: 1, max: 1000, step: 0.01}"), "RB551", "values from"),
        (("exits.tiers.profit_target.targets.0.pnl_pct", "exits.tiers.stop_loss.loss_pct"), "RB553", "twice"),
        (("net_pnl_pct", "net_pnl"), "RB204", "net_pnl_pct"),
    ],
)
def test_spec_problems_are_located(tmp_path, documents, change, code, where):
    old, new = change
    assert old in GRID
    spec, problems = load_spec(_spec(tmp_path, GRID.replace(old, new, 1)), documents)
    assert spec is None
    found = [f"{Path(d.file).name}:{d.line}:{d.col} {d.code} {d.message} {d.suggestion}" for d in problems]
    assert any(line.startswith("sweep.yaml:") and code in line and where in line for line in found), found


def _sweep(spec: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_sweep(spec, out, *extra)


def _ranking(out: Path) -> list[tuple[str, str, str, str]]:
    with open(out / "ranking.csv", encoding="utf-8") as f:
        return [(r["rank"], r["variant"], r["status"], r["fingerprint"]) for r in csv.DictReader(f)]


@pytest.mark.slow
def test_a_pool_ranks_as_one_process_does_and_a_rerun_resumes(tmp_path):
    spec = _spec(tmp_path, GRID)
    one, pool = tmp_path / "one", tmp_path / "pool"
    done = _sweep(spec, one, "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert _sweep(spec, pool, "--workers", "2").returncode == 0
    ranking = _ranking(one)
    assert ranking == _ranking(pool)
    statuses = {status for _, _, status, _ in ranking}
    assert "ok" in statuses and "invalid" in statuses  # a +1 % target pre-empts ladder rungs: RB342
    invalid = [r for r in ranking if r[2] == "invalid"]
    assert all(not rank for rank, *_ in invalid)
    again = _sweep(spec, pool, "--workers", "2")
    assert again.returncode == 0 and "6 task(s) already in" in again.stderr and "0 to run" in again.stderr
    assert _ranking(pool) == ranking
    other = _spec(tmp_path, GRID.replace("values: [1.0, 2.5]", "values: [1.0, 2.0]"))
    refused = _sweep(other, pool)
    assert refused.returncode == 2 and "holds another sweep" in refused.stderr


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_changes_nothing(tmp_path):
    spec = _spec(tmp_path, GRID)
    expected = tmp_path / "expected"
    assert _sweep(spec, expected, "--workers", "1").returncode == 0
    out = tmp_path / "killed"
    process = start_sweep(spec, out, "--workers", "2")
    killed = _kill_a_worker(process.pid)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    assert killed, "no worker was there to kill"
    assert _ranking(out) == _ranking(expected)


def _kill_a_worker(parent: int) -> bool:
    """SIGKILL one of the sweep's pool processes once one exists (no timing: it waits for one)."""
    while True:
        children = _children(parent)
        if children:
            os.kill(children[-1], signal.SIGKILL)
            return True
        if not Path(f"/proc/{parent}").exists():
            return False


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return sorted(found)


def test_validate_checks_a_sweep_spec_against_the_rules(tmp_path):
    from tests.test_cli import run

    good = _spec(tmp_path, GRID)
    assert run("validate", str(RULES), "--sweep", str(good)).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(GRID.replace("stop_loss.loss_pct", "stop_los.loss_pct", 1), encoding="utf-8")
    done = run("validate", str(RULES), "--sweep", str(bad))
    assert done.returncode == 1
    assert "bad.yaml:6:" in done.stdout and "RB550" in done.stdout and "did you mean 'stop_loss'" in done.stdout


@pytest.mark.slow
def test_a_dask_local_cluster_ranks_as_the_local_pool_does(tmp_path):
    pytest.importorskip("distributed")
    spec = _spec(tmp_path, GRID)
    local, dask = tmp_path / "local", tmp_path / "dask"
    assert _sweep(spec, local, "--workers", "2").returncode == 0
    done = _sweep(spec, dask, "--executor", "dask", "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert _ranking(dask) == _ranking(local)
    assert "on dask" in done.stderr


@pytest.mark.slow
def test_ctrl_c_keeps_what_finished_and_a_rerun_completes_it(tmp_path):
    spec = _spec(tmp_path, GRID)
    expected, out = tmp_path / "expected", tmp_path / "stopped"
    assert _sweep(spec, expected, "--workers", "1").returncode == 0
    process = start_sweep(spec, out, "--workers", "1")
    results = out / "results.jsonl"
    while process.poll() is None and not (results.exists() and results.read_text(encoding="utf-8").count("\n")):
        pass  # until the first variant is written: Ctrl-C then lands mid-sweep
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=600)
    kept = _ranking(out)
    if process.returncode == 130:
        assert "stopped by Ctrl-C" in stderr and 1 <= len(kept) < 6
    else:  # the last variant finished before the signal arrived
        assert process.returncode == 0 and len(kept) == 6
    assert _sweep(spec, out, "--workers", "1").returncode == 0
    assert _ranking(out) == _ranking(expected)


def test_a_torn_last_result_line_is_cut_and_not_counted(tmp_path):
    from engine.cli.sweep import _rows

    path = tmp_path / "results.jsonl"
    for torn in ('{"variant": "g2", "sta', '{"variant": "g2"}'):
        path.write_text('{"variant": "g0"}\n{"variant": "g1"}\n' + torn, encoding="utf-8")
        assert [r["variant"] for r in _rows(path)] == ["g0", "g1"]
        assert path.read_text(encoding="utf-8") == '{"variant": "g0"}\n{"variant": "g1"}\n'
