"""The running part of `rulebot sweep`: which tasks go to the executor, and what comes back.

A task is one variant over one window (engine/sweeps/windows.py). A grid or random search
hands every task not yet in the results to the pool at once; an Optuna search asks a batch of
trials, runs the tasks of the variants not replayed yet, and tells the batch its scores
(engine/sweeps/optimiser.py). Every result is appended to ``results.jsonl`` and fsynced the
moment it arrives, so Ctrl-C or a crash loses no finished task and a rerun skips them.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from engine.cli import compose
from engine.cli.sweep_work import Task, evaluate
from engine.sweeps.spec import Spec
from engine.sweeps.variants import Variant, expand
from engine.sweeps.windows import Window, merged


@dataclass
class SweepRun:
    """What one `rulebot sweep` runs: its spec, the base of every task, and the lines so far."""

    spec: Spec
    rules: str
    profile: str
    snapshots: tuple[str, ...]
    windows: tuple[Window, ...]
    lines: dict[tuple[str, Any], dict[str, Any]] = field(default_factory=dict)  # (variant, window) → line
    trials: list[str] = field(default_factory=list)  # optuna: each trial's variant, in order

    def tasks(self, variants: Iterable[Variant]) -> list[Task]:
        """The tasks of ``variants`` without a result yet, or whose run failed (each variant once)."""
        out: list[Task] = []
        seen: set[str] = set()
        for variant in variants:
            if variant.id in seen:
                continue
            seen.add(variant.id)
            out.extend(self._task(variant, w) for w in self.windows if self._missing(variant.id, w.index))
        return out

    def _task(self, variant: Variant, window: Window) -> Task:
        return Task(
            variant.id,
            variant.values,
            self.rules,
            self.profile,
            self.snapshots,
            window.start,
            window.end,
            window.index,
            window.warm_from,
        )

    def _missing(self, variant: str, window: int | None) -> bool:
        """No result yet, or its run failed (a rerun tries it again)."""
        return self.lines.get((variant, window), {}).get("status", "failed") == "failed"

    def score(self, variant: str) -> float | None:
        """The variant's in-sample metric once every window is in (None: not replayed, or no number)."""
        rows = merged([line for (v, _), line in self.lines.items() if v == variant], self.spec, len(self.windows))
        value = rows[0].get("metrics", {}).get(self.spec.metric) if rows and rows[0]["status"] == "ok" else None
        return float(value) if isinstance(value, int | float) else None

    def run(self, pool: Any, sink: IO[str]) -> None:
        """Run what is missing on ``pool``; KeyboardInterrupt passes up with every result kept."""
        from tqdm import tqdm

        optuna = self.spec.method == "optuna"
        variants = () if optuna else expand(self.spec)
        total = self.spec.trials if optuna else len(variants) * len(self.windows)
        initial = 0 if optuna else total - len(self.tasks(variants))
        unit = "trial" if optuna else "task"
        with tqdm(total=total, initial=initial, desc="sweep", unit=unit, file=sys.stderr, disable=None) as bar:

            def on_result(task: Task, outcome: Any) -> None:
                self._record(task, outcome, sink)
                if not optuna:
                    bar.update(1)

            if not optuna:
                pool.run(self.tasks(variants), evaluate, on_result)
                return
            self._optimise(pool, on_result, bar)

    def _optimise(self, pool: Any, on_result: Any, bar: Any) -> None:
        from engine.sweeps.optimiser import OptunaSearch

        search = OptunaSearch(self.spec)
        while not search.done:
            batch = search.ask()
            pool.run(self.tasks(variant for _, variant in batch), evaluate, on_result)
            search.tell(batch, {variant.id: self.score(variant.id) for _, variant in batch})
            bar.update(len(batch))
        self.trials = search.chosen

    def _record(self, task: Task, outcome: Any, sink: IO[str]) -> None:
        """Append the task's line (its outcome, or why it failed) and fsync it."""
        failed = compose.failure_of(outcome)
        line = outcome if failed is None else {"status": "failed", "errors": [failed]}
        line = {**line, "variant": task.variant, "window": task.window, "values": dict(task.values)}
        sink.write(json.dumps(line, sort_keys=True) + "\n")
        sink.flush()
        os.fsync(sink.fileno())
        self.lines[(task.variant, task.window)] = line


def lines_by_task(lines: Sequence[dict[str, Any]]) -> dict[tuple[str, Any], dict[str, Any]]:
    """The results file's lines keyed by (variant, window); a later line of a task wins."""
    return {(line["variant"], line.get("window")): line for line in lines}
