"""`rulebot sweep` throughput: variants per minute of one sweep in one process, on the local
pool with every core and on a Dask LocalCluster with the same cores (issue 21 asks for a
benchmark of variants per minute).

The sweep: a spec written to a temporary folder, a seeded random draw of VARIANTS (default
12: six rounds of two cores) distinct combinations of three values of the default rules
(``rules/``) — ``exits.tiers.stop_loss.loss_pct`` 1.0–2.5, ``exits.tiers.profit_target.
targets.0.pnl_pct`` 2.0–4.0 and ``exits.tiers.mtf_alignment.min_alignment`` 0.10–0.20, all
values the rules accept — over ``data/sample/sample.snapshots.parquet``. By default each
variant replays the whole sample (15 days of 1-minute snapshots of two symbols, about 2 s
of one core); ``--from``/``--to`` shorten it, ``--file`` replays another snapshot file
(shorter variants make the pool's start-up a larger share, so the speed-ups fall; longer
ones make it smaller).

Each case is a whole process timed by wall clock from a fresh parent (interpreter start,
imports, compiling the rules, checking the spec and writing the results included):

* ``one process``  — the baseline: the variants evaluated one after the other in a single
  fresh process (``engine.cli.sweep_work.evaluate(task)`` in a loop, the tasks built as the
  CLI builds them, the rows ranked by engine.sweeps.results); the loop's own time is printed
  beside it;
* ``local ×1``     — ``rulebot sweep … --executor local --workers 1``: one ``spawn`` worker
  process beside the CLI, kept for every variant; the difference to the baseline is what the
  CLI and the hand-over cost (skip with ``--skip-workers1``);
* ``local ×N``     — ``rulebot sweep … --executor local --workers N``, N = os.cpu_count();
* ``dask ×N``      — ``rulebot sweep … --executor dask --workers N``: a LocalCluster of N
  one-thread worker processes, started and closed inside the timing (skipped, and said so,
  when ``distributed`` is not installed).

Every CLI run writes to a fresh ``--out``. The cases alternate within each run, so a drift of
the machine touches them all alike. Figures are medians of RUNS runs; a speed-up is the
median over the runs of variants/min ÷ the baseline's in the same run, beside the ideal N×. Peak
RSS is the largest single process of the case's tree (RUSAGE_CHILDREN of the fresh parent:
the CLI itself or one of its workers), and beside it the peak of the whole tree's summed RSS
(sampled every 0.5 s from /proc; shared pages count in every process). ``CPU s/variant`` is
the user + system time of the whole tree (every process reaped) over the variants: what each
way of running costs in CPU, which other work on the machine changes far less than wall time
(the 1-minute load average at the start and end is printed: on a shared machine it matters);
from it, cores × the baseline's CPU ÷ a case's CPU estimates the speed-up the case would
reach if CPU were all that counted and the cores were free (start-up phases that run on one
core, and memory bandwidth, keep the measured figure below it).

All runs must rank alike: the (rank, variant, status, fingerprint) rows of every run's
``ranking.csv`` (the baseline's ranked rows) are compared, and whether they agree is printed.

Prints figures only; no assertion on time. A default run takes about 6 minutes on 2 cores.
Run: python tests/benchmarks/bench_sweep.py [--runs N] [--variants V] [--workers N] [--file F]
     [--from TIME] [--to TIME] [--skip-workers1] [--skip-dask]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
RULES = ROOT / "rules"
RULEBOT = [sys.executable, "-m", "engine.cli"]  # `rulebot` as the user runs it, this checkout first

SPEC = """kind: sweep
name: bench_sweep
metric: {{name: net_pnl_pct, goal: max}}
search: {{method: random, trials: {trials}, seed: 7}}
parameters:
  - {{path: exits.tiers.stop_loss.loss_pct, range: {{min: 1.0, max: 2.5, step: 0.25}}}}
  - {{path: exits.tiers.profit_target.targets.0.pnl_pct, range: {{min: 2.0, max: 4.0, step: 0.5}}}}
  - {{path: exits.tiers.mtf_alignment.min_alignment, values: [0.10, 0.15, 0.20]}}
"""
GRID_SIZE = 7 * 5 * 3  # the combinations SPEC draws from

# The baseline: what `rulebot sweep` does, with its executor replaced by a plain loop in this process.
# argv: root, rules, spec, snapshots, from ("" for none), to ("" for none)
ONE_PROCESS = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from engine.cli.options import load_plan, window_option
from engine.cli.sweep_work import Task, evaluate
from engine.language.compiler import compile_ruleset
from engine.sweeps.results import ranked
from engine.sweeps.spec import load_spec
from engine.sweeps.variants import expand
rules, spec_path, snapshots = sys.argv[2], sys.argv[3], sys.argv[4]
window = window_option(sys.argv[5] or None, sys.argv[6] or None)
plan = load_plan(rules, None)
documents = (compile_ruleset(rules, [plan.profile]).canonical or {}).get("base", {})
spec, problems = load_spec(spec_path, documents)
assert spec is not None, problems
tasks = [Task(v.id, v.values, rules, plan.profile, (snapshots,), window[0], window[1]) for v in expand(spec)]
start = time.perf_counter()
rows = []
for task in tasks:
    try:
        row = evaluate(task)
    except Exception as error:  # as the executors report a task's own failure
        row = {"status": "failed", "errors": [f"{type(error).__name__}: {error}"]}
    row.pop("equity", None)
    rows.append({**row, "variant": task.variant, "values": dict(task.values)})
loop = time.perf_counter() - start
ranking = [[str(r.get("rank") or ""), r["variant"], r["status"], r.get("fingerprint") or ""] for r in ranked(rows, spec)]
print(json.dumps({"loop_seconds": loop, "ranking": ranking}))
"""

# A fresh parent: runs one command, times it, samples its tree's RSS; its RUSAGE_CHILDREN peak is
# the largest process of that tree (the only children it ever had). argv: root, command (JSON)
PARENT = r"""
import json, os, resource, subprocess, sys, threading, time
root, command = sys.argv[1], json.loads(sys.argv[2])
page = os.sysconf("SC_PAGE_SIZE")

def tree_rss(top):
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    tree, grew = {top}, True
    while grew:
        more = {p for p, q in parents.items() if q in tree} - tree
        tree |= more
        grew = bool(more)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            pass
    return total

env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
start = time.perf_counter()
process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
peak, stop = [0], threading.Event()

def sample():
    while not stop.wait(0.5):
        peak[0] = max(peak[0], tree_rss(process.pid))

sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
out, err = process.communicate()
elapsed = time.perf_counter() - start
stop.set()
sampler.join()
usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # every process of the tree, once reaped
print(json.dumps({"seconds": elapsed, "returncode": process.returncode, "stdout": out, "stderr": err[-4000:],
                  "peak_mb": usage.ru_maxrss / 1024, "tree_mb": peak[0] / 2**20,  # ru_maxrss: kB on Linux
                  "cpu_seconds": usage.ru_utime + usage.ru_stime}))
"""


def write_spec(folder: Path, variants: int) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(SPEC.format(trials=variants), encoding="utf-8")
    return path


def window_args(start: str | None, end: str | None) -> list[str]:
    return [*(["--from", start] if start else []), *(["--to", end] if end else [])]


def in_parent(command: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PARENT, str(ROOT), json.dumps(command)], capture_output=True, text=True, check=True
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if figures["returncode"] != 0:
        raise SystemExit(f"{' '.join(command[2:6])} … failed ({figures['returncode']}):\n{figures['stderr']}")
    return figures


def ranking_of(out: Path) -> list[list[str]]:
    with open(out / "ranking.csv", encoding="utf-8") as f:
        return [[r["rank"], r["variant"], r["status"], r["fingerprint"]] for r in csv.DictReader(f)]


def one_run(
    case: str, spec: Path, file: Path, out: Path, workers: int, start: str | None, end: str | None
) -> dict[str, Any]:
    """One timed run of a case: its figures and its ranking rows."""
    if case == "one":
        command = [sys.executable, "-c", ONE_PROCESS, str(ROOT), str(RULES), str(spec), str(file)]
        figures = in_parent([*command, start or "", end or ""])
        child = json.loads(figures["stdout"].strip().splitlines()[-1])
        return {**figures, "ranking": child["ranking"], "loop_seconds": child["loop_seconds"]}
    executor = "dask" if case == "dask" else "local"
    command = [
        *RULEBOT,
        "sweep",
        str(spec),
        str(file),
        "--rules",
        str(RULES),
        "--executor",
        executor,
        "--workers",
        str(workers),
        "--out",
        str(out),
        *window_args(start, end),
    ]
    figures = in_parent(command)
    return {**figures, "ranking": ranking_of(out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each case (median)")
    parser.add_argument("--variants", type=int, default=12, help=f"variants in the sweep (at most {GRID_SIZE})")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="the pool's and the cluster's size")
    parser.add_argument("--file", type=Path, default=SAMPLE, help="the snapshot file (default: the sample)")
    parser.add_argument("--from", dest="start", help="start trading at this time (default: the file's start)")
    parser.add_argument("--to", dest="end", help="stop after this time (default: the file's end)")
    parser.add_argument("--skip-workers1", action="store_true", help="skip `--executor local --workers 1`")
    parser.add_argument("--skip-dask", action="store_true", help="skip the Dask LocalCluster")
    args = parser.parse_args()
    args.file = args.file.resolve()
    if not 1 <= args.variants <= GRID_SIZE:
        parser.error(f"--variants must be 1..{GRID_SIZE}")
    n = args.workers
    labels = {
        "one": "one process (in-process loop)",
        "local1": "local --workers 1",
        "localN": f"local --workers {n}",
        "dask": f"dask LocalCluster --workers {n}",
    }
    cores = {"one": 1, "local1": 1, "localN": n, "dask": n}
    cases = ["one", *([] if args.skip_workers1 else ["local1"]), "localN"]
    if args.skip_dask:
        print("dask: skipped (--skip-dask)")
    elif importlib.util.find_spec("distributed") is None:
        print("dask: skipped (distributed is not installed: pip install 'rulebot[dask]')")
    else:
        cases.append("dask")
    window = f"{args.start or 'the file start'} → {args.end or 'the file end'}"
    print(
        f"rulebot sweep: {args.variants} variants of rules/ over {args.file.name} ({window}); "
        f"{os.cpu_count()} cores (os.cpu_count()), N = {n}; {args.runs} run(s) of each case"
    )
    results: dict[str, list[dict[str, Any]]] = {case: [] for case in cases}
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        folder = Path(tmp)
        spec = write_spec(folder, args.variants)
        for i in range(args.runs):
            for case in cases:
                done = one_run(case, spec, args.file, folder / f"{case}-{i}", cores[case], args.start, args.end)
                results[case].append(done)
                print(f"  run {i + 1}: {labels[case]:<34} {done['seconds']:7.1f} s", flush=True)
    total = time.perf_counter() - began

    def rate(seconds: float) -> float:
        return args.variants / seconds * 60

    medians = {case: statistics.median(r["seconds"] for r in runs) for case, runs in results.items()}
    cpu = {case: statistics.median(r["cpu_seconds"] for r in runs) for case, runs in results.items()}
    # the speed-up of each run against the baseline of the same run, then their median
    speedups = {
        case: statistics.median(one["seconds"] / r["seconds"] for one, r in zip(results["one"], runs))
        for case, runs in results.items()
    }
    print()
    print(
        f"  {'case':<34} {'median s':>8} {'variants/min':>12} {'× one process':>13} {'ideal':>5} "
        f"{'CPU s/variant':>13} {'peak RSS largest':>16} {'tree':>7}"
    )
    for case, runs in results.items():
        print(
            f"  {labels[case]:<34} {medians[case]:8.1f} {rate(medians[case]):12.1f} {speedups[case]:12.2f}× "
            f"{cores[case]:4d}× {cpu[case] / args.variants:13.2f} {max(r['peak_mb'] for r in runs):13.0f} MB "
            f"{max(r['tree_mb'] for r in runs):4.0f} MB"
        )
    estimates = [f"{labels[c]} {cores[c] * cpu['one'] / cpu[c]:.2f}×" for c in results if c != "one"]
    print(f"  CPU-bound estimate of the speed-up (cores × one process's CPU ÷ the case's CPU): {', '.join(estimates)}")
    loop = statistics.median(r["loop_seconds"] for r in results["one"])
    print(
        f"  one process: the evaluate() loop alone {loop:.1f} s ({loop / args.variants:.2f} s a variant, "
        f"{rate(loop):.1f} variants/min); the rest of its {medians['one']:.1f} s is start-up, compiling, the spec"
    )
    rankings = [(case, i, r["ranking"]) for case, runs in results.items() for i, r in enumerate(runs)]
    reference = rankings[0][2]
    differ = [f"{labels[case]} run {i + 1}" for case, i, ranking in rankings if ranking != reference]
    counts = sorted({row[2] for row in reference})
    statuses = ", ".join(f"{sum(row[2] == status for row in reference)} {status}" for status in counts)
    agree = f"identical in all {len(rankings)} runs" if not differ else f"DIFFERENT in {', '.join(differ)}"
    print(f"  rankings (rank, variant, status, fingerprint): {agree}; {len(reference)} variants: {statuses}")
    print(
        f"  wall time of the benchmark: {total:.0f} s; 1-minute load average {load_before:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end (on {os.cpu_count()} cores: other work skews every figure)"
    )


if __name__ == "__main__":
    main()
