"""Walk-forward learning cost: `rulebot dry-run --learn` against the same replay not learning.

Each case runs in a fresh process over a window of the bundled sample (default: its first
HOURS hours of trading after a day of warm-up), with the default rules:

* ``scalar`` — the dry-run's scalar path over the window (the walk-forward's replay, without
  learning): the baseline;
* ``learn``  — the walk-forward (engine/replay/walkforward.py with the CLI's scratch rules):
  the same replay, plus a learning cycle at every due learning job and, per learned
  candidate, a compile of the rules and two promotion replays of its held-out window.

Prints, median of RUNS runs: seconds, seconds per simulated day, the ratio learn / scalar,
learning cycles, candidates (applied + rejected + refused), the learning's cost per candidate
((learn − scalar) / candidates), and each process's peak RSS. No assertion on time.
Run: python tests/benchmarks/bench_learn.py [--runs N] [--hours H]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
DAY = 86400.0

CHILD = r"""
import json, resource, sys, tempfile, time
sys.path.insert(0, sys.argv[1])
from adapters.snapshots.columnar import read_columnar
from adapters.paper.broker import PaperBroker
from engine.cli.walkforward import ScratchRules
from engine.language.compiler import compile_ruleset
from engine.replay.dryrun import dry_run
from engine.replay.memstate import MemoryState
from engine.replay.walkforward import walk_forward
import pandas  # noqa: F401 - imported up front, as the CLI does
mode, source, start, end = sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
rules = sys.argv[1] + "/rules"
plan = compile_ruleset(rules).plans["paper"]
began = time.perf_counter()
snapshots = read_columnar(source)
learning = {}
if mode == "learn":
    with tempfile.TemporaryDirectory() as scratch:
        writer = ScratchRules(rules, plan.profile, scratch)
        result, _, _ = walk_forward(plan, snapshots, broker=PaperBroker.for_plan(plan), writer=writer,
                                    broker_for=PaperBroker.for_plan, start=start, end=end)
    learning = result["learning"]
else:
    result, _, _ = dry_run(plan, snapshots, broker=PaperBroker.for_plan(plan), store=MemoryState(), start=start, end=end)
elapsed = time.perf_counter() - began
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "cycles": result["cycles"], "fingerprint": result["fingerprint"],
                  "learning_cycles": learning.get("cycles", 0),
                  "candidates": len(learning.get("changes", ())), "applied": learning.get("applied", 0),
                  "peak_mb": peak}))
"""


def measure(mode: str, start: float, end: float, runs: int) -> dict:
    figures = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT), mode, str(SAMPLE), str(start), str(end)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if len({f["fingerprint"] for f in figures}) != 1:
        print(f"WARNING: {mode}: the runs' fingerprints differ: {sorted({f['fingerprint'] for f in figures})}")
    return {
        **figures[0],
        "seconds": statistics.median(f["seconds"] for f in figures),
        "peak_mb": max(f["peak_mb"] for f in figures),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hours", type=float, default=12.0)
    args = parser.parse_args()
    from adapters.snapshots.columnar import read_recording

    first = float(read_recording(str(SAMPLE)).ts[0])
    start, end = first + DAY, first + DAY + args.hours * 3600
    days = args.hours / 24
    scalar = measure("scalar", start, end, args.runs)
    learn = measure("learn", start, end, args.runs)
    print(f"window: {args.hours:g} h of the bundled sample after a day of warm-up; median of {args.runs} runs")
    for name, m in (("scalar (not learning)", scalar), ("dry-run --learn", learn)):
        print(
            f"  {name:22} {m['seconds']:7.2f} s  {m['seconds'] / days:7.1f} s per simulated day  "
            f"{m['cycles']:,} cycles  peak RSS {m['peak_mb']:.0f} MB  {m['fingerprint'][:23]}"
        )
    candidates = learn["candidates"]
    print(f"  ratio learn / scalar: {learn['seconds'] / scalar['seconds']:.1f}×")
    print(
        f"  learning: {learn['learning_cycles']} cycles, {candidates} candidates ({learn['applied']} went live); "
        + (
            f"{(learn['seconds'] - scalar['seconds']) / candidates:.2f} s of learning per candidate"
            if candidates
            else "no candidate"
        )
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
