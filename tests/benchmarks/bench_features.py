"""Micro-benchmark of the feature calculators: median µs per update (update + value read).

Run: .venv/bin/python tests/benchmarks/bench_features.py [--runs 7] [--n 5000]
Parameters are the ones in rules/signals.yaml and rules/exits.yaml where given, so the
"total" line is one symbol-cycle of the signal stage's feature work (budget: 100 µs for
the whole stage). Not collected by pytest (file name bench_*.py).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.trading.features import (
    CountWindow,
    Ema,
    EmaCross,
    ExchangeNetFlow,
    FearGreed,
    FundingDeviation,
    HurstExponent,
    LeadLag,
    LiquidationCascade,
    MultiTimeframeAlignment,
    OfiMomentum,
    OiPriceDivergence,
    OpenInterestVelocity,
    OrderFlowImbalance,
    TimeWindow,
    VolatilitySkewProxy,
)


def _inputs(n: int, seed: int = 1) -> dict[str, list]:
    rng = random.Random(seed)
    btc, alt, oi = 60_000.0, 3_000.0, 2e9
    cols: dict[str, list] = {k: [] for k in ("btc", "alt", "ret", "oi", "flow", "liq", "rate", "fg", "book", "ofi")}
    rate = 0.0001
    for i in range(n):
        r = rng.gauss(0, 0.001)
        btc *= math.exp(r)
        alt *= math.exp(0.8 * r + rng.gauss(0, 0.001))
        oi *= math.exp(rng.gauss(0, 0.0005))
        if i % 480 == 0:
            rate = rng.gauss(0.0001, 0.0001)
        cols["btc"].append(btc)
        cols["alt"].append(alt)
        cols["ret"].append(r)
        cols["oi"].append(oi)
        cols["flow"].append(rng.gauss(0, 1e5))
        cols["liq"].append((rng.choice([0.0, rng.expovariate(1e-4)]), rng.choice([0.0, 5e3])))
        cols["rate"].append(rate + rng.gauss(0, 1e-6))
        cols["fg"].append(rng.randint(0, 100))
        bids = [(btc - j, rng.uniform(0, 3)) for j in range(20)]
        asks = [(btc + 1 + j, rng.uniform(0, 3)) for j in range(20)]
        cols["book"].append((bids, asks))
        cols["ofi"].append(rng.uniform(-1, 1))
    return cols


def _cases():
    # name: (factory, function(calc, ts, i, cols) doing one update + value read)
    def one(key):
        def step(c, t, i, d):
            c.update(t, d[key][i])
            return c.value

        return step

    def push(key):
        def step(c, t, i, d):
            c.push(t, d[key][i])
            return c.slope

        return step

    return {
        "TimeWindow(300s) push+slope": (lambda: TimeWindow(300), push("ofi")),
        "CountWindow(100) push+slope": (lambda: CountWindow(100), push("ofi")),
        "Ema(20)": (lambda: Ema(period=20), one("btc")),
        "EmaCross(9, 21)": (lambda: EmaCross(fast=9, slow=21), one("btc")),
        "HurstExponent(256, every 5)": (lambda: HurstExponent(window=256, recompute_every=5), one("btc")),
        "HurstExponent(512, every 1)": (lambda: HurstExponent(window=512, recompute_every=1), one("btc")),
        "OrderFlowImbalance(10)": (
            lambda: OrderFlowImbalance(levels=10),
            lambda c, t, i, d: (c.update(t, *d["book"][i]), c.value)[1],
        ),
        "OfiMomentum(300s, 3)": (lambda: OfiMomentum(window_seconds=300, min_readings=3), one("ofi")),
        "LeadLag(120, 5)": (
            lambda: LeadLag(window=120, max_lag=5),
            lambda c, t, i, d: (c.update(t, d["btc"][i], d["alt"][i]), c.value)[1],
        ),
        "OpenInterestVelocity(1h)": (lambda: OpenInterestVelocity(window_seconds=3600), one("oi")),
        "OiPriceDivergence(4h, 0.3)": (
            lambda: OiPriceDivergence(window_seconds=14400, min_move_pct=0.3),
            lambda c, t, i, d: (c.update(t, d["alt"][i], d["oi"][i]), c.value)[1],
        ),
        "FundingDeviation(21)": (lambda: FundingDeviation(window=21), one("rate")),
        "LiquidationCascade(1h)": (
            lambda: LiquidationCascade(window_seconds=3600),
            lambda c, t, i, d: (c.update(t, *d["liq"][i]), c.value)[1],
        ),
        "ExchangeNetFlow(24h)": (lambda: ExchangeNetFlow(window_seconds=86400), one("flow")),
        "FearGreed": (lambda: FearGreed(), one("fg")),
        "VolatilitySkewProxy(240)": (
            lambda: VolatilitySkewProxy(window=240),
            lambda c, t, i, d: (c.update(t, ret=d["ret"][i]), c.value)[1],
        ),
        "MultiTimeframeAlignment(6 tf, 20)": (
            lambda: MultiTimeframeAlignment(timeframes=["1m", "5m", "15m", "1h", "4h", "1d"], ema_period=20),
            one("btc"),
        ),
    }


# The per-symbol cycle: the calculators one symbol needs each 60 s cycle (rule defaults).
CYCLE = [
    "EmaCross(9, 21)",
    "HurstExponent(256, every 5)",
    "OrderFlowImbalance(10)",
    "OfiMomentum(300s, 3)",
    "LeadLag(120, 5)",
    "OpenInterestVelocity(1h)",
    "OiPriceDivergence(4h, 0.3)",
    "FundingDeviation(21)",
    "LiquidationCascade(1h)",
    "ExchangeNetFlow(24h)",
    "FearGreed",
    "VolatilitySkewProxy(240)",
    "MultiTimeframeAlignment(6 tf, 20)",
]


def bench(n: int, runs: int) -> dict[str, tuple[float, float]]:
    """name -> (median µs/update over runs, p99 of single updates in one extra run).

    Single-update timings include the timer's own overhead (~0.1 µs); their maximum is
    not reported because on a shared machine it measures the OS scheduler, not the code.
    """
    data = _inputs(n)
    ts = [1_700_000_040.0 + 60.0 * i for i in range(n)]
    results = {}
    clock = time.perf_counter_ns
    for name, (factory, step) in _cases().items():
        per_run = []
        for _ in range(runs):
            calc = factory()
            start = clock()
            for i in range(n):
                step(calc, ts[i], i, data)
            per_run.append((clock() - start) / n / 1000.0)
        calc = factory()
        single = []
        for i in range(n):  # one run timed update by update: spikes
            start = clock()
            step(calc, ts[i], i, data)
            single.append((clock() - start) / 1000.0)
        single.sort()
        results[name] = (statistics.median(per_run), single[int(0.99 * (n - 1))])
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000, help="updates per run (60 s apart)")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    res = bench(args.n, args.runs)
    print(
        f"python {sys.version.split()[0]}, {args.n} updates x {args.runs} runs, "
        "median of per-run means (update + value read)"
    )
    width = max(map(len, res))
    print(f"  {'calculator':<{width}}  {'median':>8}  {'p99':>8}   (µs per update)")
    for name, (med, p99) in res.items():
        print(f"  {name:<{width}}  {med:8.2f}  {p99:8.2f}")
    total = sum(res[k][0] for k in CYCLE)
    print(f"  {'one symbol-cycle, all signal features':<{width}}  {total:8.2f}")


if __name__ == "__main__":
    main()
