"""Hot-reload latency of a running bot: from an edited rule file written (its rename-save's
``os.replace`` done) to the new version live (target: p95 under 300 ms).

A real `rulebot run --paper` process on a tail feed of the bundled sample, with the default
rules (copied), first fed WARM snapshots (default a day: the most a reload's new plan is
warmed on, engine.bot.loop.RING_S) and waited for until it has stepped them. Then, for each
kind of edit, EDITS edits one at a time, each a rename-save of signals.yaml, the next waiting
until the previous is live:

* ``threshold``: hurst's paper ``trending_above`` 0.55 ↔ 0.56 — evaluated, not state: the new
  plan carries every live state over (engine/trading/pipeline.py ``Carry``), nothing is warmed;
* ``window``: hurst's ``params.window`` 256 ↔ 255 — its state is rebuilt: that one component
  is warmed on the day of snapshots, the rest carried over.
 The live instant is the reload record's own ``ts`` (logs/reloads.jsonl,
written by the loop right after the swap, on the wall clock of a real-time feed).

Prints median, p95 and max latency, and how it splits: ``request→live`` is the record's
``duration_s`` (compile, warm the new plan, swap between cycles); the rest is the watcher's
debounce and the file-system events. No assertion on time: it prints whether p95 < 300 ms.
Run: python tests/benchmarks/bench_reload.py [--edits N] [--warm N]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.bot.reload import compile_plan  # noqa: E402
from tests.bot.running_bot import RunningBot, sample_lines, wait_for  # noqa: E402

TARGET_S = 0.300
EDITS = {  # kind of edit -> (the line in signals.yaml, what it alternates with)
    "threshold": (
        "paper: {trending_above: 0.55, mean_reverting_below: 0.45}",
        "paper: {trending_above: 0.56, mean_reverting_below: 0.45}",
    ),
    "window": ("window: 256 ", "window: 255 "),
}


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (no interpolation: a value that was measured)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * q / 100) - 1)]


def nth(records: list[dict[str, Any]], n: int) -> dict[str, Any] | None:
    return records[n - 1] if len(records) >= n else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=100, help="edits timed per kind (at least 100 for the figure)")
    parser.add_argument("--warm", type=int, default=1440, help="snapshots the bot has stepped before the edits")
    parser.add_argument("--kind", choices=sorted(EDITS), action="append", help="the kinds of edit (default: all)")
    args = parser.parse_args()
    kinds = args.kind or list(EDITS)

    with tempfile.TemporaryDirectory(prefix="bench-reload-") as tmp:
        work = Path(tmp)
        rules = work / "rules"
        shutil.copytree(ROOT / "rules", rules)
        signals = rules / "signals.yaml"
        original = signals.read_text(encoding="utf-8")
        lines = sample_lines(work / "sample.jsonl")
        feed = work / "feed.jsonl"
        feed.write_text("".join(lines[: args.warm]), encoding="utf-8")
        bot = RunningBot(rules, feed, work / "state", work / "logs", log_level="warning")
        results: dict[str, tuple[list[float], list[float]]] = {}
        try:
            assert bot.wait_ready() == compile_plan(str(rules), None).version
            started = time.monotonic()
            last_ts = float(lines[args.warm - 1].split('"ts":', 1)[1].split(",", 1)[0])
            wait_for(
                lambda: any(r["ts"] == last_ts for r in bot.log("signal_universe.jsonl")), "the warm-up steps", bot
            )
            print(f"warm-up: {args.warm} snapshots stepped in {time.monotonic() - started:.1f} s", flush=True)
            done = 0
            for kind in kinds:
                results[kind] = _edits(bot, rules, original, EDITS[kind], args.edits, done)
                done += args.edits
            code, _, err = bot.stop()
            assert code == 0, err
            reloads = bot.log("reloads.jsonl")
            assert len(reloads) == done, f"{len(reloads)} reloads for {done} edits"
        finally:
            bot.kill()
    for kind, (latencies, request_to_live) in results.items():
        _report(kind, latencies, request_to_live)


def _edits(
    bot: RunningBot, rules: Path, original: str, edit: tuple[str, str], count: int, done: int
) -> tuple[list[float], list[float]]:
    """``count`` rename-saves alternating ``edit`` (after ``done`` reloads); each one's latency
    (file written → live) and its request→live time."""
    signals = rules / "signals.yaml"
    assert original.count(edit[0]) == 1, f"{signals}: {edit[0]!r} is not found once"
    texts = [original.replace(*edit), original]
    scratch = rules.parent / "scratch"  # versions computed away from the watched folder
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(rules, scratch)
    versions = []
    for text in texts:
        (scratch / "signals.yaml").write_text(text, encoding="utf-8")
        versions.append(compile_plan(str(scratch), None).version)
    latencies, request_to_live = [], []
    for i in range(1, count + 1):
        target = (i - 1) % 2
        temp = rules / ".signals.yaml.tmp"
        temp.write_text(texts[target], encoding="utf-8")
        os.replace(temp, signals)
        written = time.time()
        n = done + i
        record = wait_for(partial(_nth_reload, bot, n), f"reload {n}", bot)
        assert record["outcome"] == "ok" and record["new_version"] == versions[target], record
        latencies.append(record["ts"] - written)
        request_to_live.append(record["duration_s"])
    return latencies, request_to_live


def _nth_reload(bot: RunningBot, n: int) -> dict[str, Any] | None:
    return nth(bot.log("reloads.jsonl"), n)


def _report(kind: str, latencies: list[float], request_to_live: list[float]) -> None:
    ms = [x * 1000 for x in latencies]
    p95 = percentile(ms, 95)
    print(f"{kind} edits: reload latency over {len(ms)} edits (file written → new version live):")
    print(f"  median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   max {max(ms):7.1f} ms")
    rl = [x * 1000 for x in request_to_live]
    print(
        f"  of which request→live (compile, warm, swap): median {statistics.median(rl):.1f} ms, "
        f"p95 {percentile(rl, 95):.1f} ms; the rest is the watcher (debounce, events)"
    )
    print(f"  p95 < {TARGET_S * 1000:.0f} ms: {'yes' if p95 < TARGET_S * 1000 else 'NO'}")


if __name__ == "__main__":
    main()
