"""`rulebot explain` on the bundled sample: wall time of the real CLI process (target ≤ 0.5 s),
on the column replay (the default for a dense .parquet file) and on the scalar replay
(`--replay scalar`, snapshot by snapshot), and what the column replay's time is made of.

Each figure is the median of RUNS fresh processes, timed from outside (start-up and imports
included, as a user waits for them); ratios compare figures of the same run. The processes
run with compiled bytecode, as an installed rulebot does: PYTHONDONTWRITEBYTECODE is dropped
and the bytecode goes to a temporary PYTHONPYCACHEPREFIX, filled by one warm-up run (without
it every process would compile the engine's sources again, about 0.2 s):

* ``columns`` — `rulebot explain SAMPLE` (the instant: the last snapshot, the most to replay);
* ``--at``    — the docs' example (docs/signals.md): one symbol at 2025-05-19T18:05:00Z, whose
  columns are computed up to that instant only;
* ``scalar``  — the first with `--replay scalar`;
* ``start-up`` — `python -c pass`: the interpreter alone;
* the stages, timed inside one process: importing what explain imports (numpy, pyarrow, the
  rule compiler, jsonschema, the column replay; not pandas, which the column reader avoids),
  compiling the rules, reading the file as columns, the signal and correlation columns, the
  decisions and their text. Start-up, the imports and the compile are paid by every command
  and are the floor under any explain, however fast its replay.

Run: python tests/benchmarks/bench_explain.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPATH": str(ROOT)}
AT = ["--at", "2025-05-19T18:05:00Z", "--symbol", "ETHUSDT"]

STAGES = r"""
import json, sys, time
t = time.perf_counter()
sys.path.insert(0, sys.argv[1])
import numpy, pyarrow, jsonschema
import engine.cli.app, engine.cli.explain, engine.replay.columns.signals, engine.replay.columns.correlation
from adapters.snapshots.columnar import read_recording
from engine.language.compiler import compile_ruleset
from engine.report.explain import render_decision, render_text, replay_recording
from engine.trading.portfolio import Portfolio
times = {"import what explain imports": time.perf_counter() - t}
t = time.perf_counter()
plan = compile_ruleset(sys.argv[1] + "/rules").plans["paper"]
times["compile the rules"], t = time.perf_counter() - t, time.perf_counter()
recording = read_recording(sys.argv[2])
times["read the file as columns"], t = time.perf_counter() - t, time.perf_counter()
replayed = replay_recording(plan, recording, None)
times["signal and correlation columns"], t = time.perf_counter() - t, time.perf_counter()
portfolio = Portfolio(equity_usd=10_000.0, available_margin_usd=10_000.0)
for symbol in replayed.present:
    decision = replayed.pipeline.decide(symbol, portfolio, replayed.last)
    render_text(decision.signal) + render_decision(decision)
times["decide and render"] = time.perf_counter() - t
print(json.dumps(times))
"""


def wall(args: list[str], runs: int) -> float:
    """Median wall time of ``runs`` fresh processes (each must exit 0)."""
    figures = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, cwd=ROOT, env=ENV, capture_output=True, check=True)
        figures.append(time.perf_counter() - start)
    return statistics.median(figures)


def stages(runs: int) -> dict[str, float]:
    figures = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", STAGES, str(ROOT), str(SAMPLE)], env=ENV, capture_output=True, text=True, check=True
        )
        figures.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {name: statistics.median(f[name] for f in figures) for name in figures[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="bench-explain-pyc-") as cache:
        ENV["PYTHONPYCACHEPREFIX"] = cache
        measure(runs)


def measure(runs: int) -> None:
    cli = [sys.executable, "-m", "engine.cli", "explain", str(SAMPLE)]
    wall(cli, 1)  # the warm-up: compiles the bytecode every later process reads
    columns = wall(cli, runs)
    at = wall([*cli, *AT], runs)
    scalar = wall([*cli, "--replay", "scalar"], runs)
    startup = wall([sys.executable, "-c", "pass"], runs)
    print(f"rulebot explain {SAMPLE.relative_to(ROOT)} (the last snapshot; medians of {runs} processes)")
    print(f"  columns  {columns:6.2f} s   (target 0.50 s)")
    print(f"  --at     {at:6.2f} s   {' '.join(AT)} (the docs' example)")
    print(f"  scalar   {scalar:6.2f} s   columns are {scalar / columns:.1f}x faster")
    print(f"  start-up {startup:6.2f} s   the interpreter alone")
    print("  the column replay's process, stage by stage:")
    parts = stages(runs)
    for name, seconds in parts.items():
        print(f"    {name:<32} {seconds:6.3f} s")
    floor = startup + parts["import what explain imports"] + parts["compile the rules"]
    print(f"  floor (start-up, imports, compile) {floor:.2f} s: {floor / columns:.0%} of the columns figure")


if __name__ == "__main__":
    main()
