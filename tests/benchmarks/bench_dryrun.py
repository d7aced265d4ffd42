"""Dry-run throughput: symbol-cycles per second and peak memory (target ≥ 100,000/s and
< 500 MB) for (a) the bundled sample and (b) ~14 months of 5-minute BTC+ETH perpetual
candles from ../shared/data/raw (harthor-marketlab, read in place, never copied).

Each case runs in a fresh process (peak RSS is per process); the figure is the median of
RUNS runs, with the time to only read the snapshots (the floor) as the baseline ratio.
Run: python tests/benchmarks/bench_dryrun.py [--runs N] [--skip-long]
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
FUTURES = ROOT.parent / "shared" / "data" / "raw" / "harthor-marketlab" / "user_data" / "data" / "binance" / "futures"

CHILD = r'''
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from adapters.paper import PaperBroker
from engine.compiler import compile_ruleset
from engine.dryrun import dry_run
from engine.memstate import MemoryState
mode, source = sys.argv[2], sys.argv[3]
plan = compile_ruleset(sys.argv[1] + "/rules").plans["paper"]
start = time.perf_counter()                       # reading the snapshots is part of the run
if source.endswith(".parquet"):
    from adapters.columnar import read_columnar
    snapshots = list(read_columnar(source))
else:
    sys.path.insert(0, sys.argv[1] + "/tests/benchmarks")
    from bench_dryrun import five_minute_snapshots
    snapshots = five_minute_snapshots(source)
symbol_cycles = sum(len(s.symbols) for s in snapshots)
if mode == "run":
    result, _, _ = dry_run(plan, iter(snapshots), broker=PaperBroker.for_plan(plan), store=MemoryState())
    trades = result["metrics"]["trades"]
else:
    trades = 0                                    # the floor: reading (and building) the snapshots
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "symbol_cycles": symbol_cycles, "trades": trades,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def five_minute_snapshots(folder: str) -> list:
    """One snapshot per 5-minute bar for BTC and ETH (the bar stands in for the candle list)."""
    import pandas as pd

    from engine.snapshot import parse_snapshot

    frames = {name: pd.read_feather(Path(folder) / f"{coin}_USDT_USDT-5m-futures.feather")
              for name, coin in (("BTCUSDT", "BTC"), ("ETHUSDT", "ETH"))}
    rows = {name: {int(t.timestamp()): (o, h, low, c, v) for t, o, h, low, c, v in
                   zip(f["date"], f["open"], f["high"], f["low"], f["close"], f["volume"])} for name, f in frames.items()}
    out = []
    for ts in sorted(set(rows["BTCUSDT"]) & set(rows["ETHUSDT"])):
        symbols = {name: {"price": r[ts][3], "candles": [[ts, *r[ts]]]} for name, r in rows.items()}
        out.append(parse_snapshot({"ts": ts + 300, "symbols": symbols})[0])
    return out


def measure(mode: str, source: str, runs: int) -> dict:
    figures = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), mode, source], capture_output=True, text=True,
                              check=True)
        figures.append(json.loads(done.stdout.strip().splitlines()[-1]))
    seconds = statistics.median(f["seconds"] for f in figures)
    return {"rate": figures[0]["symbol_cycles"] / seconds, "peak_mb": max(f["peak_mb"] for f in figures),
            "symbol_cycles": figures[0]["symbol_cycles"], "trades": figures[0]["trades"], "seconds": seconds}


def report(label: str, source: str, runs: int) -> None:
    floor, run = measure("read", source, runs), measure("run", source, runs)
    met = run["rate"] >= 100_000 and run["peak_mb"] < 500
    print(f"{label}: {run['symbol_cycles']:,} symbol-cycles, {run['trades']} trades")
    print(f"  dry-run   median {run['seconds']:8.2f} s  {run['rate']:10,.0f} symbol-cycles/s  "
          f"peak {run['peak_mb']:6.0f} MB  ({runs} runs)")
    print(f"  read only median {floor['seconds']:8.2f} s  {floor['rate']:10,.0f} symbol-cycles/s  "
          f"peak {floor['peak_mb']:6.0f} MB   ratio dry-run/read {run['seconds'] / floor['seconds']:.1f}x")
    print(f"  target ≥ 100,000/s and < 500 MB: {'met' if met else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-long", action="store_true")
    args = parser.parse_args()
    report("(a) bundled sample", str(SAMPLE), args.runs)
    if not args.skip_long and FUTURES.is_dir():
        report("(b) 14 months of 5-minute BTC+ETH", str(FUTURES), max(1, args.runs))


if __name__ == "__main__":
    main()
