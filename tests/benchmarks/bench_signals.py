"""Median time per symbol-cycle of the whole signal stage (update + evaluate) with the
default rules on real BTC/ETH data (target ≤ 100 µs). Baselines in the same run: parsing
the snapshot alone, and the evaluate step alone. Run: python tests/benchmarks/bench_signals.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import realdata

from engine.language.compiler import compile_ruleset
from engine.market.snapshot import parse_snapshot
from engine.trading.signals.engine import SignalEngine

WARMUP, MEASURED, RUNS = 2000, 1000, 5


def one_run(plan, snapshots) -> tuple[float, float, float]:
    engine = SignalEngine(plan)
    symbols = list(realdata.SYMBOLS)  # the symbols with recorded data
    for snap in snapshots[:WARMUP]:
        engine.update(snap)
        for s in symbols:
            engine.evaluate(s, snap.ts)
    measured = snapshots[WARMUP : WARMUP + MEASURED]
    start = time.perf_counter()
    for snap in measured:
        engine.update(snap)
        for s in symbols:
            engine.evaluate(s, snap.ts)
    whole = time.perf_counter() - start
    start = time.perf_counter()
    for snap in measured:
        for s in symbols:
            engine.evaluate(s, snap.ts)
    evaluate_only = time.perf_counter() - start
    return whole, evaluate_only, len(measured) * len(symbols)


def main() -> None:
    if not realdata.available():
        print("real data not found beside the project (../shared/data/raw); nothing measured")
        return
    plan = compile_ruleset("rules").plans["paper"]
    dicts = realdata.snapshot_dicts(WARMUP + MEASURED)
    snapshots = [parse_snapshot(d)[0] for d in dicts]
    parse_times, wholes, evals = [], [], []
    for _ in range(RUNS):
        start = time.perf_counter()
        for d in dicts[WARMUP:]:
            parse_snapshot(d)
        parse_times.append(time.perf_counter() - start)
        whole, evaluate_only, cycles = one_run(plan, snapshots)
        wholes.append(whole / cycles * 1e6)
        evals.append(evaluate_only / cycles * 1e6)
    parse_us = statistics.median(parse_times) / cycles * 1e6
    whole_us = statistics.median(wholes)
    print(f"symbols measured: {', '.join(realdata.SYMBOLS)} ({MEASURED} cycles after {WARMUP} warm-up)")
    print(f"parse snapshot (per symbol-cycle)   median {parse_us:7.1f} µs  ({RUNS} runs)")
    print(f"evaluate only                       median {statistics.median(evals):7.1f} µs")
    print(
        f"signal stage (update + evaluate)    median {whole_us:7.1f} µs  ratio to parse {whole_us / parse_us:.1f}x  "
        f"target ≤ 100 µs: {'met' if whole_us <= 100 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
