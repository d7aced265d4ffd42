"""One sweep variant, run where an executor puts it (a pool process, a Dask worker).

:func:`evaluate` makes the variant's rule set — the base rule files with the variant's values
added to the profile's overrides, in a temporary folder — validates and compiles it like any
rule set (an invalid variant is answered with its findings, not run), and replays it over the
snapshots exactly as `rulebot dry-run` does (the fast path where the files allow it). It
reads the snapshots from their paths: a worker needs the same files at the same paths, never
data shipped through a scheduler. Pure of the process it runs in: the same task gives the
same answer anywhere (tests/sweeps compare a pool's with one process's and with Dask's).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CURVE_POINTS = 150  # an equity curve's points kept per result line


@dataclass(frozen=True, slots=True)
class Task:
    """What a worker needs to run one variant (picklable: plain values only)."""

    variant: str  # the variant's id
    values: tuple[tuple[str, Any], ...]  # (parameter path, value)
    rules: str  # the base rule set's folder
    profile: str  # the profile compiled
    snapshots: tuple[str, ...]  # snapshot files (paths, or object-store URLs fetched into the worker's cache)
    start: float | None = None  # first traded time
    end: float | None = None  # last traded time
    window: int | None = None  # the walk-forward window (engine/sweeps/windows.py); None: the whole span
    warm_from: float | None = None  # first snapshot read: those before ``start`` only warm the features


def evaluate(task: Task) -> dict[str, Any]:
    """The variant's row: ``status`` ok (with version, fingerprint, metrics) or invalid (with
    its findings)."""
    from engine.language.compiler import compile_ruleset
    from engine.replay.dryrun import sampled

    with tempfile.TemporaryDirectory(prefix="rulebot-sweep-") as tmp:
        rules = materialize(task, Path(tmp) / "rules")
        compiled = compile_ruleset(str(rules), [task.profile])
        if not compiled.ok:
            errors = [f"{d.code} {d.message}" for d in compiled.diagnostics if d.is_error]
            return {"variant": task.variant, "status": "invalid", "errors": errors}
        result = replay(compiled.plans[task.profile], task)
    metrics = {k: v for k, v in result["metrics"].items() if isinstance(v, int | float)}
    return {
        "variant": task.variant,
        "status": "ok",
        "version": result["version"],
        "fingerprint": result["fingerprint"],
        "metrics": metrics,
        "equity": sampled(result["equity"], CURVE_POINTS),
    }


def materialize(task: Task, folder: Path) -> Path:
    """The base rule files with the variant's values as overrides of its profile."""
    shutil.copytree(task.rules, folder)  # learned overlays stay: a variant is the rule set plus its values
    profile = folder / "profiles" / f"{task.profile}.yaml"
    document = yaml.safe_load(profile.read_text(encoding="utf-8"))
    overrides = dict(document.get("overrides") or {})
    overrides.update(dict(task.values))
    document["overrides"] = overrides
    profile.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return folder


def replay(plan: Any, task: Task) -> dict[str, Any]:
    """`rulebot dry-run`'s replay of the task's snapshots: columns where the files allow it."""
    from engine.cli import compose
    from engine.replay.dryrun import dry_run, dry_run_recording
    from engine.replay.recording import NotReplayable

    paths = compose.local_snapshots(task.snapshots)
    if all(path.endswith(".parquet") for path in paths):
        try:
            recording = compose.recording(paths)
            if task.warm_from is not None:
                recording = recording.since(task.warm_from)
            result, _, _ = dry_run_recording(
                plan,
                recording,
                broker=compose.paper_broker(plan),
                store=compose.memory_state(),
                start=task.start,
                end=task.end,
            )
            return result
        except NotReplayable:
            pass
    snapshots = compose.read_snapshots(paths, [])
    if task.warm_from is not None:
        snapshots = (s for s in snapshots if s.ts >= task.warm_from)
    result, _, _ = dry_run(
        plan,
        snapshots,
        broker=compose.paper_broker(plan),
        store=compose.memory_state(),
        start=task.start,
        end=task.end,
    )
    return result
