"""`rulebot snapshots build` memory: peak RSS and time for growing windows of the same
sources, so it shows whether memory grows with the window (it should not: the snapshots are
made a chunk at a time and written a row group at a time).

Sources: harthor-marketlab 5-minute BTC+ETH perpetual candles and hourly funding from
../shared/data/raw (read in place, never copied). Windows: 1, 6 and 12 months.

* ``streamed`` — what the command does (build_from_spec → streamed writer);
* ``in memory`` — the baseline in the same run: every snapshot listed, then written at once
  (write_columnar), as the command did before it streamed.

Each case runs in a fresh process (peak RSS is per process). Figures are medians of RUNS
runs; the ratio compares the two in the same run.
Run: python tests/benchmarks/bench_build.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT.parent / "shared" / "data" / "raw"
FUTURES = "harthor-marketlab/user_data/data/binance/futures"
WINDOWS = {"1 month": "2025-12-01T00:00:00Z", "6 months": "2025-07-01T00:00:00Z", "12 months": "2025-01-01T00:00:00Z"}

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from adapters.snapshots.history.build import build_from_spec, build_metadata
from adapters.snapshots.history.spec import load_spec
from engine.cli.snapshots import build_command
from adapters.snapshots.columnar import write_columnar
mode, spec_path, out = sys.argv[2], sys.argv[3], Path(sys.argv[4])
start = time.perf_counter()
if mode == "streamed":
    lines = []
    assert build_command(spec_path, out, lines.append) == 0, lines
else:
    spec, _ = load_spec(spec_path)
    snapshots, report = build_from_spec(spec)
    snapshots = list(snapshots)
    write_columnar(snapshots, out, build=build_metadata(spec))
elapsed = time.perf_counter() - start
with open("/proc/self/status") as status:   # VmHWM: this process's own peak
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
print(json.dumps({"seconds": elapsed, "peak_mb": peak}))
"""


def spec_text(start: str) -> str:
    symbols = "".join(
        f"  {name}:\n"
        f"    candles: {{file: {FUTURES}/{coin}_USDT_USDT-5m-futures.feather}}\n"
        f"    funding: {{file: {FUTURES}/{coin}_USDT_USDT-1h-funding_rate.feather, value: open, interval: 0s, "
        f"lag: 1m}}\n"
        for name, coin in (("BTCUSDT", "BTC"), ("ETHUSDT", "ETH"))
    )
    return f'version: 1\nbase_dir: {RAW}\nfrom: "{start}"\nto: "2026-01-01T00:00:00Z"\nsymbols:\n{symbols}'


def measure(mode: str, spec: Path, out: Path, runs: int) -> dict:
    figures = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT), mode, str(spec), str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {
        "seconds": statistics.median(f["seconds"] for f in figures),
        "peak_mb": statistics.median(f["peak_mb"] for f in figures),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (RAW / FUTURES).is_dir():
        sys.exit(f"{RAW / FUTURES} is not there: ../shared must be beside the project")
    with tempfile.TemporaryDirectory() as tmp:
        for label, start in WINDOWS.items():
            spec = Path(tmp) / "build.yaml"
            spec.write_text(spec_text(start))
            out = Path(tmp) / "out.snapshots.parquet"
            streamed = measure("streamed", spec, out, args.runs)
            listed = measure("in-memory", spec, out, args.runs)
            print(
                f"{label:>9}: streamed  {streamed['seconds']:6.2f} s  peak {streamed['peak_mb']:5.0f} MB | "
                f"in memory {listed['seconds']:6.2f} s  peak {listed['peak_mb']:5.0f} MB | "
                f"peak ratio {listed['peak_mb'] / streamed['peak_mb']:.2f}x  ({args.runs} runs, medians)"
            )


if __name__ == "__main__":
    main()
