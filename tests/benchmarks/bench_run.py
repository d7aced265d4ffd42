"""The running bot (`rulebot run --paper`): (a) its idle CPU, (b) a replay at --speed max
against `rulebot dry-run` on the same file.

(a) **Idle CPU** (target: under 1 % of one core). A real `rulebot run --paper --feed
tail:FILE` process on an empty file: a real-time feed with no data arriving, so nothing is
due but the empty bot cycles and the schedule's waits. Once it prints its ready line, its
CPU time (user + system, all threads: /proc/PID/stat, or psutil where /proc is missing) is
read at the start and end of each window of wall time; the figure is the median of the
windows' CPU seconds / wall seconds, in % of one core.

(b) **Paper vs dry-run** (target: run ≤ 3 × dry-run). `rulebot dry-run FILE --format json`
and `rulebot run --paper --speed max --feed replay:FILE` with a fresh state and logs each
time, whole processes timed by wall clock (start-up and imports included in both),
alternated, median of RUNS each; the ratio is of the medians of this run. Both must give the
same trades: the run's fingerprint (its state's trades, as dry-run computes it) is checked
against dry-run's.

Prints figures only; no assertion on time.
Run: python tests/benchmarks/bench_run.py [--runs N] [--idle-seconds S] [--windows W] [--file F]
     [--skip-idle] [--skip-replay]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
READY = "rulebot run: live"  # engine/cli/run.py READY
READY_TIMEOUT_S = 180.0  # start-up on a busy machine: compiling the rules, importing the engine

#: `rulebot` as the user runs it (the console script is `engine.cli:run`), this checkout first on the path.
RULEBOT = [sys.executable, "-m", "engine.cli"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


# ------------------------------------------------------------------ CPU time of a process


def cpu_reader(pid: int) -> Callable[[], float]:
    """A function giving the process's CPU seconds so far (user + system, every thread)."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        tick = os.sysconf("SC_CLK_TCK")

        def from_proc() -> float:
            # the command name (field 2) may hold spaces: the fields after its ")" are fixed
            fields = stat.read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14 and 15)

        return from_proc
    import psutil  # type: ignore[import-untyped]  # where there is no /proc (macOS)

    process = psutil.Process(pid)
    return lambda: sum(process.cpu_times()[:2])


def wait_ready(process: subprocess.Popen[str], timeout_s: float) -> str:
    """The ready line on the process's stderr (the rest of stderr is drained in the
    background, so the process never blocks on a full pipe)."""
    assert process.stderr is not None
    found: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if not ready.is_set() and READY in line:
                found.append(line.strip())
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(timeout_s) or not found:
        process.kill()
        raise SystemExit(f"no ready line within {timeout_s:g} s (exit code {process.poll()})")
    return found[0]


def idle_cpu(seconds: float, windows: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-run-idle-") as tmp:
        folder = Path(tmp)
        shutil.copytree(ROOT / "rules", folder / "rules")  # the bot watches its rules folder
        (folder / "empty.jsonl").write_text("", encoding="utf-8")
        command = [
            *RULEBOT,
            "run",
            "--paper",
            "--rules",
            str(folder / "rules"),
            "--feed",
            f"tail:{folder / 'empty.jsonl'}",
            "--state",
            str(folder / "state"),
            "--logs",
            str(folder / "logs"),
        ]
        process = subprocess.Popen(
            command, cwd=folder, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        try:
            line = wait_ready(process, READY_TIMEOUT_S)
            print(f"idle: {line}")
            cpu = cpu_reader(process.pid)
            shares = []
            for i in range(windows):
                cpu0, wall0 = cpu(), time.monotonic()
                time.sleep(seconds)  # the measured window itself: the bot idles, we only wait
                used, wall = cpu() - cpu0, time.monotonic() - wall0
                shares.append(100 * used / wall)
                print(f"  window {i + 1}: {used:.3f} s CPU in {wall:.1f} s wall = {shares[-1]:.2f} % of one core")
            print(f"idle CPU: median {statistics.median(shares):.2f} % of one core (target < 1 %)")
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            print(f"  stopped by SIGTERM: exit code {code}")


# ------------------------------------------------------------------ run --paper vs dry-run


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[3:])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


def run_fingerprint(db: Path) -> tuple[int, str]:
    """The trades the run left in its state, counted and fingerprinted as dry-run does."""
    sys.path.insert(0, str(ROOT))
    from adapters.store.state import StateStore
    from engine.replay.dryrun import fingerprint

    with StateStore(db) as store:
        trades = [t.as_dict() for t in store.trades()]
    return len(trades), fingerprint(trades)


def replay(file: Path, runs: int) -> None:
    dry_times, run_times = [], []
    with tempfile.TemporaryDirectory(prefix="bench-run-replay-") as tmp:
        folder = Path(tmp)
        for i in range(runs):
            seconds, out = timed([*RULEBOT, "dry-run", str(file), "--format", "json"], ROOT)
            result = json.loads(out)
            dry = (result["metrics"]["trades"], result["fingerprint"])
            dry_times.append(seconds)
            state, logs = folder / f"state-{i}", folder / f"logs-{i}"
            seconds, _ = timed(
                [
                    *RULEBOT,
                    "run",
                    "--paper",
                    "--speed",
                    "max",
                    "--feed",
                    f"replay:{file}",
                    "--state",
                    str(state),
                    "--logs",
                    str(logs),
                ],
                ROOT,
            )
            run_times.append(seconds)
            ran = run_fingerprint(state / "bot.db")
            same = "same trades" if ran == dry else f"DIFFERENT trades: run {ran}, dry-run {dry}"
            print(
                f"  run {i + 1}: dry-run {dry_times[-1]:.1f} s, run --paper {run_times[-1]:.1f} s; {dry[0]} trades, {same}"
            )
            shutil.rmtree(state)
            shutil.rmtree(logs)
    dry, run = statistics.median(dry_times), statistics.median(run_times)
    print(f"{file.name}: dry-run median {dry:.1f} s, run --paper --speed max median {run:.1f} s over {runs} run(s)")
    print(f"ratio run / dry-run: {run / dry:.1f}x (target <= 3x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="replays of each command (median)")
    parser.add_argument("--idle-seconds", type=float, default=20.0, help="wall seconds per idle window")
    parser.add_argument("--windows", type=int, default=3, help="idle windows (median)")
    parser.add_argument("--file", type=Path, default=SAMPLE, help="the snapshot file replayed (default: the sample)")
    parser.add_argument("--skip-idle", action="store_true")
    parser.add_argument("--skip-replay", action="store_true")
    args = parser.parse_args()
    if not args.skip_idle:
        idle_cpu(args.idle_seconds, args.windows)
    if not args.skip_replay:
        replay(args.file.resolve(), args.runs)


if __name__ == "__main__":
    main()
