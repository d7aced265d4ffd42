"""`rulebot sweep --write-best`: the best variant becomes a learned overlay, as a learner's would.

The best variant is the first by out-of-sample rank with walk-forward, else by rank. Its values
are one write-back (engine/versions/writeback.py) whose learner is ``sweep:<spec name>`` (the
author `rulebot versions` and `rulebot diff` show), learned on the sweep's span, on the version
the sweep varied. It takes the learners' path (engine/cli/learning_apply.py): written first
into a scratch copy (the learnable ``min``/``max``/``max_step`` bounds, refused with RB528
otherwise), then through the promotion gate — a shadow replay of the held-out end of the span,
the candidate against the rules as they are — and only then into ``rules/learned/``, audited
in ``logs/learning_audit.jsonl``. The rules as they were are kept in ``OUT/base-rules`` so
``rulebot diff OUT/base-rules RULES`` shows the change and who made it.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import click

from engine.cli import compose
from engine.cli.exit_codes import EXIT_INVALID, EXIT_OK
from engine.language.kinds.overlays import SWEEP_PREFIX

BASE_RULES = "base-rules"  # OUT/: the rules before the write, for `rulebot diff`


def write_best_variant(
    job: Any, rows: Sequence[Mapping[str, Any]], plan: Any, rules_dir: str, logs_dir: str, span: tuple, out: Path
) -> int:
    """Write the best variant back (module docstring); the exit code: 0 written, 1 not."""
    spec = job.spec
    best = best_row(rows, walk_forward=spec.walk_forward is not None)
    if best is None:
        click.echo(f"--write-best: no variant of {spec.name} was replayed; nothing written", err=True)
        return EXIT_INVALID
    as_they_are = next((r for r in rows if r.get("status") == "ok" and _is_current(r, plan)), None)
    field = "oos_metrics" if spec.walk_forward is not None else "metrics"
    if as_they_are is not None and _metric(as_they_are, field, spec.metric) == _metric(best, field, spec.metric):
        click.echo(
            f"--write-best: the rules as they are ({as_they_are['variant']}) do as well as the best variant "
            f"({best['variant']}); nothing to write"
        )
        return EXIT_OK
    request, problem = _request(job, best, rows, plan, span)
    if request is None:
        click.echo(f"--write-best: {best['variant']}: {problem}; nothing written", err=True)
        return EXIT_INVALID
    candidate, why = _candidate(request, plan, rules_dir, logs_dir)
    if candidate is None:
        click.echo(f"--write-best: {best['variant']} refused ({why}); nothing written", err=True)
        return EXIT_INVALID
    gate = _gate(plan, candidate, job.snapshots, request.window_from, request.window_to)
    if not gate.promoted:
        compose.audit_rejection(logs_dir, time.time(), request, gate.as_dict())
        click.echo(f"--write-best: {best['variant']} rejected by the promotion gate: {gate.reason}", err=True)
        return EXIT_INVALID
    base = out / BASE_RULES
    shutil.rmtree(base, ignore_errors=True)
    shutil.copytree(rules_dir, base, ignore=shutil.ignore_patterns(".*"))
    written = compose.write_learned(rules_dir, request, logs_dir, time.time)
    if not written.applied:
        click.echo(f"--write-best: {best['variant']} refused ({written.code}: {written.reason})", err=True)
        return EXIT_INVALID
    click.echo(
        f"--write-best: {best['variant']} written as {rules_dir}/learned/{written.file} ({written.version}, "
        f"promotion gate: {gate.reason}); review: rulebot diff {base} {rules_dir}"
    )
    return EXIT_OK


def _candidate(request: Any, plan: Any, rules_dir: str, logs_dir: str) -> tuple[Any, str | None]:
    """(the candidate's plan, None): the write made on a scratch copy of the rules, with every
    check of the write-back; or (None, why) when it refuses, audited against the real rules
    as a learner's refusal is."""
    from engine.language.compiler import compile_ruleset

    with tempfile.TemporaryDirectory(prefix="rulebot-sweep-best-") as scratch:
        shadow = os.path.join(scratch, "rules")
        shutil.copytree(rules_dir, shadow, ignore=shutil.ignore_patterns(".*"))
        staged = compose.write_learned(shadow, request, scratch, time.time)
        if staged.applied:
            return compile_ruleset(shadow).plans[plan.profile], None
    real = compose.write_learned(rules_dir, request, logs_dir, time.time)
    return None, f"{real.code}: {real.reason}" if not real.applied else f"{staged.code}: {staged.reason}"


def best_row(rows: Sequence[Mapping[str, Any]], *, walk_forward: bool) -> Mapping[str, Any] | None:
    """The replayed row ranked first: out of sample with walk-forward, else in sample."""
    key = "oos_rank" if walk_forward else "rank"
    ranked = [r for r in rows if r.get("status") == "ok" and isinstance(r.get(key), int)]
    return min(ranked, key=lambda r: r[key]) if ranked else None


def _is_current(row: Mapping[str, Any], plan: Any) -> bool:
    """Whether the row's values are the plan's own (learnable values only: another is never written)."""
    values = plan.learnable_values
    return all(path in values and values[path] == learned_number(value) for path, value in row["values"].items())


def _metric(row: Mapping[str, Any], field: str, metric: str) -> Any:
    return (row.get(field) or {}).get(metric)


def learned_number(value: Any) -> float | None:
    """A sweep value as the write-back takes it: a number, or a duration (``2h``) in seconds
    (the learned file spells it back as its rule file does); None for anything else."""
    from engine.language.durations import spelled_seconds

    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    seconds = spelled_seconds(value)
    return seconds if seconds is not None and math.isfinite(seconds) else None


def _request(job: Any, best: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], plan: Any, span: tuple) -> tuple:
    """(the write request, None) or (None, why the variant cannot be written)."""
    from engine.versions.writeback import WriteRequest

    spec = job.spec
    numbers = {path: learned_number(value) for path, value in best["values"].items()}
    words = [path for path, value in numbers.items() if value is None]
    if words:
        return None, f"{', '.join(words)} is not a number or a duration, and only those are learnable"
    values = {path: float(value) for path, value in numbers.items() if value is not None}
    start, end = span
    if start is None or end is None:
        first, last = compose.snapshot_span(compose.local_snapshots(job.snapshots))
        start, end = start if start is not None else first, end if end is not None else last
    if start is None or end is None:
        return None, "the snapshots hold no time span to learn on"
    metrics = {spec.metric: best["metrics"][spec.metric]}
    if best.get("oos_metrics"):
        metrics[f"oos_{spec.metric}"] = best["oos_metrics"][spec.metric]
    replayed = sum(r.get("status") == "ok" for r in rows)
    reason = f"best of {replayed} variants of sweep {spec.name} by {spec.metric} ({spec.goal}): {best['variant']}"
    return WriteRequest(
        learner=f"{SWEEP_PREFIX}{spec.name}",
        base_version=plan.version,
        values=MappingProxyType(values),
        window_from=float(start),
        window_to=float(end),
        counts=MappingProxyType({"variants": replayed}),
        metrics=MappingProxyType({k: float(v) for k, v in metrics.items()}),
        message=reason,
        reasons=MappingProxyType(dict.fromkeys(values, reason)),
    ), None


def _gate(plan: Any, candidate: Any, sources: tuple[str, ...], start: float, end: float) -> Any:
    """The promotion gate over the held-out end of the sweep's span."""
    from engine.learners.promotion import held_out, promote

    snapshots = compose.read_snapshots(compose.local_snapshots(sources), [])
    window = held_out(snapshots, start, end, plan.learning)
    return promote(plan, candidate, window, plan.learning, broker_for=compose.paper_broker)
