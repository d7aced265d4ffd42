"""Cold-process time of `rulebot validate rules/` (target: ≤ 0.5 s on the 2-core machine).

Prints the median of several runs, and the ratio against a bare interpreter start
measured in the same run (the floor no CLI can beat). Run: python tests/benchmarks/bench_validate_cold.py
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = 9


def _median_seconds(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    rulebot = shutil.which("rulebot") or str(Path(sys.executable).parent / "rulebot")
    baseline = _median_seconds([sys.executable, "-c", "pass"])
    validate = _median_seconds([rulebot, "validate", "rules/"])
    print(f"bare interpreter start   median {baseline * 1000:7.1f} ms  ({RUNS} runs)")
    print(
        f"rulebot validate rules/  median {validate * 1000:7.1f} ms  ({RUNS} runs)  "
        f"ratio {validate / baseline:.1f}x  target ≤ 500 ms: {'met' if validate <= 0.5 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
