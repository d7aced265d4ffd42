"""`rulebot sweep SPEC SNAPSHOTS…`: replay every variant a sweep spec names and rank them.

The spec (engine/sweeps/spec.py) is checked against the rule set first. Its tasks — a variant
(engine/sweeps/variants.py, or chosen batch by batch by Optuna: engine/sweeps/optimiser.py)
over a window (engine/sweeps/windows.py: the whole span, or walk-forward's) — run on an
executor (adapters/executors/: ``local``, a pool of ``--workers`` processes, or ``dask``: a
LocalCluster, or the cluster at ``--scheduler``), driven by engine/cli/sweep_run.py; each is a
rule set validated and replayed by engine/cli/sweep_work.py. Every finished task is appended
to ``OUT/results.jsonl`` at once, so Ctrl-C (exit 130) keeps what was done and a rerun with
the same ``--out`` runs only the rest. ``OUT/ranking.csv``/``.parquet`` hold the ranked table
(engine/sweeps/results.py), ``OUT/report.html`` the report (engine/sweeps/report.py);
``--write-best`` is engine/cli/sweep_best.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from engine.cli import compose
from engine.cli.exit_codes import EXIT_INTERRUPTED, EXIT_INVALID
from engine.cli.options import load_plan, window_option
from engine.common import interrupts
from engine.common.files import whole_file

SHOWN = 10  # ranked rows printed
CURVES = 5  # the best variants whose equity curves the report draws


@click.command("sweep")
@click.argument("spec_path", metavar="SPEC", type=click.Path(exists=True, dir_okay=False))
@click.argument("snapshots", nargs=-1, required=True)  # files or URLs: checked by _sources
@click.option("--rules", "rules_dir", default="rules", show_default=True, type=click.Path(exists=True, file_okay=False))
@click.option("--profile", type=click.Choice(["paper", "live"]), help="Profile (default: the rule set's).")
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="local: a process pool on this machine; dask: dask.distributed (pip install 'rulebot[dask]').",
)
@click.option("--scheduler", help="An existing Dask cluster's scheduler (tcp://host:8786); without it a LocalCluster.")
@click.option("--workers", type=click.IntRange(1, 512), help="Processes (local, LocalCluster); default: every core.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Results folder (default: logs/sweeps/NAME).")
@click.option("--from", "from_text", help="Start trading at this time; earlier snapshots warm up.")
@click.option("--to", "to_text", help="Stop after this time.")
@click.option(
    "--write-best",
    is_flag=True,
    help="Write the best variant (out of sample with walk-forward) as a learned overlay authored "
    "sweep:NAME, through the learnable bounds and the promotion gate; review it with `rulebot diff`.",
)
@click.option("--logs", "logs_dir", default="logs", show_default=True, help="Where --write-best audits its write.")
def sweep(
    spec_path: str,
    snapshots: tuple[str, ...],
    rules_dir: str,
    profile: str | None,
    executor: str,
    scheduler: str | None,
    workers: int | None,
    out_dir: str | None,
    from_text: str | None,
    to_text: str | None,
    write_best: bool,
    logs_dir: str,
) -> None:
    """Replay every variant SPEC names over SNAPSHOTS (files, or object-store URLs every
    worker can read) and rank them by its metric."""
    from engine.cli.sweep_run import SweepRun, lines_by_task
    from engine.language.formats import as_text
    from engine.sweeps.spec import load_spec
    from engine.sweeps.variants import expand
    from engine.sweeps.windows import windows

    if scheduler and executor != "dask":
        raise click.BadParameter("a scheduler address is for --executor dask", param_hint="--scheduler")
    window = window_option(from_text, to_text)
    plan = load_plan(rules_dir, profile)
    documents = (plan.canonical or {}).get("base", {})
    spec, problems = load_spec(spec_path, documents)
    if spec is None:
        click.echo(as_text(problems), err=True)
        click.echo(f"{spec_path}: invalid sweep spec; nothing run", err=True)
        sys.exit(EXIT_INVALID)
    sources = _sources(snapshots)
    span = _span(spec, window, sources)
    spans = windows(spec, *span)
    out = Path(out_dir or Path("logs") / "sweeps" / spec.name)
    identity = _identity(spec_path, plan.version, plan.profile, sources, window)
    job = SweepRun(
        spec, os.path.abspath(rules_dir), plan.profile, sources, spans, lines_by_task(_resume(out, identity))
    )
    todo = "" if spec.method == "optuna" else f", {len(job.tasks(expand(spec)))} to run"
    click.echo(
        f"sweep {spec.name}: {_size(spec)} of {plan.version} ({plan.profile}) over {len(spans)} window(s); "
        f"{len(job.lines)} task(s) already in {out}{todo} on {executor}",
        err=True,
    )
    with interrupts.guarded() as guard:
        interrupted = _run(job, executor, scheduler, workers or os.cpu_count() or 1, out)
        interrupts.defer()  # the table of what finished is written whole, whenever Ctrl-C comes now
        job.lines = lines_by_task(_rows(out / "results.jsonl"))  # the file is the truth (Ctrl-C may cut a record short)
        rows = _finish(job, out, plan.version)
    if interrupted or guard.arrived:
        click.echo(f"sweep {spec.name}: stopped by Ctrl-C; {len(rows)} variant(s) kept in {out}", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if write_best:
        from engine.cli.sweep_best import write_best_variant

        sys.exit(write_best_variant(job, rows, plan, rules_dir, logs_dir, span, out))


def _sources(snapshots: tuple[str, ...]) -> tuple[str, ...]:
    """The snapshot arguments as workers read them: absolute paths, or URLs checked reachable."""
    from engine.common.errors import RulebotError

    out = []
    for source in snapshots:
        if compose.is_snapshot_url(source):
            try:
                compose.check_snapshot_urls([source])
            except RulebotError as error:
                raise click.BadParameter(f"{error.code}: {error}", param_hint="SNAPSHOTS") from None
            out.append(source)
        elif not os.path.isfile(source):
            raise click.BadParameter(f"{source}: no such file", param_hint="SNAPSHOTS")  # a path: nothing to hide
        else:
            out.append(os.path.abspath(source))
    return tuple(out)


def _span(spec: Any, window: list, sources: tuple[str, ...]) -> tuple[float | None, float | None]:
    """The span walk-forward cuts: --from/--to, else the snapshots' first and last times."""
    start, end = window
    if spec.walk_forward is None or (start is not None and end is not None):
        return start, end
    first, last = compose.snapshot_span(compose.local_snapshots(sources))
    start, end = start if start is not None else first, end if end is not None else last
    if start is None or end is None or not end > start:
        raise click.UsageError("walk-forward needs snapshots spanning some time between --from and --to")
    return start, end


def _size(spec: Any) -> str:
    if spec.method == "optuna":
        return f"{spec.trials} Optuna trial(s) in batches of {spec.batch} over {spec.size():,} variants"
    count = spec.size() if spec.method == "grid" else min(spec.trials, spec.size())
    return f"{count} variant(s)"


def _identity(spec_path: str, version: str, profile: str, snapshots: tuple[str, ...], window: list) -> dict[str, Any]:
    """What a results folder belongs to: a rerun resumes it only when all of this is the same."""
    digest = hashlib.sha256(Path(spec_path).read_bytes()).hexdigest()[:16]
    return {
        "spec_sha256": digest,
        "rules_version": version,
        "profile": profile,
        "snapshots": [compose.shown_snapshot(p) for p in snapshots],  # a URL without its credentials
        "window": window,
    }


def _resume(out: Path, identity: dict[str, Any]) -> list[dict[str, Any]]:
    """The result lines ``out`` already holds (none when new); usage error when it holds another sweep's."""
    out.mkdir(parents=True, exist_ok=True)
    marker = out / "sweep.json"
    if marker.exists():
        try:
            saved = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise click.UsageError(f"{marker} cannot be read ({error}); use another --out") from None
        if saved != identity:
            changed = ", ".join(k for k in identity if saved.get(k) != identity[k])
            raise click.UsageError(f"{out} holds another sweep's results ({changed} differ); use another --out")
    else:
        marker.write_text(json.dumps(identity, indent=2) + "\n", encoding="utf-8")
    return _rows(out / "results.jsonl")


def _rows(path: Path) -> list[dict[str, Any]]:
    """The results written so far. A torn last line (a crash or Ctrl-C mid-write) is cut off
    the file, so what a rerun appends follows a whole line."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    rows, kept = [], 0
    for line in text.splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        try:
            rows.append(json.loads(line))
        except ValueError:
            break
        kept += len(line.encode("utf-8"))
    if kept < len(text.encode("utf-8")):
        with open(path, "r+b") as torn:
            torn.truncate(kept)
    return rows


def _run(job: Any, executor: str, scheduler: str | None, workers: int, out: Path) -> bool:
    """Run what is missing, appending each result as it comes; True when Ctrl-C stopped it."""
    try:
        with (
            compose.sweep_pool(executor, scheduler, workers) as pool,
            open(out / "results.jsonl", "a", encoding="utf-8") as sink,
        ):
            job.run(pool, sink)
    except KeyboardInterrupt:
        return True
    return False


def _finish(job: Any, out: Path, version: str) -> list[dict[str, Any]]:
    """Merge the windows, rank, write the table (CSV, Parquet) and the HTML report, print the
    best rows; the ranked rows."""
    from engine.sweeps.results import ranked
    from engine.sweeps.windows import merged

    spec = job.spec
    rows = ranked(merged(job.lines.values(), spec, len(job.windows)), spec)
    records = _write_tables(rows, spec, out)
    warning = _write_report(job, rows, out, version)
    replayed = [r for r in records if r["status"] == "ok"]
    invalid = sum(r["status"] == "invalid" for r in records)
    failed = sum(r["status"] == "failed" for r in records)
    trials = f"{len(job.trials)} trial(s), " if job.trials else ""
    click.echo(
        f"sweep {spec.name}: {trials}{len(replayed)} replayed, {invalid} invalid, {failed} failed; "
        f"ranked by {spec.metric} ({spec.goal}); {out}/ranking.csv, {out}/report.html"
    )
    oos = f"oos_{spec.metric}"
    for record in replayed[:SHOWN]:
        values = ", ".join(f"{p.path}={record[p.path]}" for p in spec.parameters)
        outside = f"  {oos}={record[oos]:.6g} (#{record['oos_rank']})" if oos in record else ""
        click.echo(
            f"  {record['rank']:>3}. {record['variant']}  {spec.metric}={record[spec.metric]:.6g}{outside}  {values}"
        )
    _print_walk_forward(rows, spec)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    return rows


def _write_tables(rows: list[dict[str, Any]], spec: Any, out: Path) -> list[dict[str, Any]]:
    """ranking.csv and ranking.parquet; the flat records."""
    import pandas as pd

    from engine.sweeps.results import table

    records = table(rows, spec)
    frame = pd.DataFrame.from_records(records)
    for column in ("rank", "oos_rank"):
        if column in frame:
            frame[column] = frame[column].astype("Int64")  # no rank for a variant that did not replay
    with whole_file(out / "ranking.csv") as tmp:
        frame.to_csv(tmp, index=False)
    with whole_file(out / "ranking.parquet") as tmp:
        frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object}).to_parquet(tmp, index=False)
    return records


def _write_report(job: Any, rows: list[dict[str, Any]], out: Path, version: str) -> str | None:
    """report.html (engine/sweeps/report.py); the overfitting warning it gives, if any."""
    from engine.sweeps.report import SweepReport, overfitting, render_sweep_report

    spec = job.spec
    walk = spec.walk_forward is not None
    shown = [
        {
            "variant": r["variant"],
            "status": r["status"],
            "rank": r.get("rank"),
            "values": r.get("values", {}),
            "metric": (r.get("metrics") or {}).get(spec.metric),
            "oos_rank": r.get("oos_rank"),
            "oos_metric": (r.get("oos_metrics") or {}).get(spec.metric) if walk else None,
            "metrics": r.get("metrics", {}),
            "fingerprint": r.get("fingerprint"),
            "problems": "; ".join(r.get("errors", ())) or None,
        }
        for r in rows
    ]
    best = sorted((r for r in rows if r["status"] == "ok"), key=lambda r: r["oos_rank" if walk else "rank"])
    report = SweepReport(
        name=spec.name,
        metric=spec.metric,
        goal=spec.goal,
        method=spec.method,
        parameters=tuple(p.path for p in spec.parameters),
        rows=tuple(shown),
        curves={r["variant"]: r.get("equity", []) for r in best[:CURVES]},
        windows=tuple(
            {"fit_from": a.start, "fit_to": a.end, "score_from": b.start, "score_to": b.end}
            for a, b in zip(job.windows, job.windows[1:])
        )
        if walk
        else (),
        rules_version=version,
        snapshots=tuple(compose.shown_snapshot(s) for s in job.snapshots),
    )
    with whole_file(out / "report.html") as tmp:
        tmp.write_text(render_sweep_report(report), encoding="utf-8")
    return overfitting(shown) if walk else None


def _print_walk_forward(rows: list[dict[str, Any]], spec: Any) -> None:
    """Each walk-forward step: the variant best in its fit window and what it did next."""
    from engine.sweeps.windows import selections

    for pick in selections(rows, spec):
        score = "no result" if pick.score is None else f"{pick.score:.6g}"
        click.echo(f"  step {pick.step}: {pick.variant} best in sample ({pick.fit:.6g}), out of sample {score}")
