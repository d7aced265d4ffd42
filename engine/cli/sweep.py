"""`rulebot sweep SPEC SNAPSHOTS…`: replay every variant a sweep spec names and rank them.

The spec (engine/sweeps/spec.py) is checked against the rule set first; its variants
(engine/sweeps/variants.py) run on an executor (adapters/executors/: ``local``, a process pool
of ``--workers`` processes, or ``dask``: a LocalCluster, or the cluster at ``--scheduler``),
each one a rule set validated and replayed by engine/cli/sweep_work.py. Every finished
variant is appended to ``OUT/results.jsonl`` at once, so Ctrl-C (exit 130) keeps what was
done and a rerun with the same ``--out`` runs only the rest; ``OUT/ranking.csv`` and
``OUT/ranking.parquet`` hold the ranked table (engine/sweeps/results.py).
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

SHOWN = 10  # ranked rows printed


@click.command("sweep")
@click.argument("spec_path", metavar="SPEC", type=click.Path(exists=True, dir_okay=False))
@click.argument("snapshots", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
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
) -> None:
    """Replay every variant SPEC names over SNAPSHOTS and rank them by its metric."""
    from engine.cli.sweep_work import Task
    from engine.language.compiler import compile_ruleset
    from engine.language.formats import as_text
    from engine.sweeps.spec import load_spec
    from engine.sweeps.variants import expand

    if scheduler and executor != "dask":
        raise click.BadParameter("a scheduler address is for --executor dask", param_hint="--scheduler")
    window = window_option(from_text, to_text)
    plan = load_plan(rules_dir, profile)
    documents = (compile_ruleset(rules_dir, [plan.profile]).canonical or {}).get("base", {})
    spec, problems = load_spec(spec_path, documents)
    if spec is None:
        click.echo(as_text(problems), err=True)
        click.echo(f"{spec_path}: invalid sweep spec; nothing run", err=True)
        sys.exit(EXIT_INVALID)
    variants = expand(spec)
    out = Path(out_dir or Path("logs") / "sweeps" / spec.name)
    identity = _identity(spec_path, plan.version, plan.profile, snapshots, window)
    done = _resume(out, identity)
    snapshot_paths = tuple(os.path.abspath(p) for p in snapshots)
    tasks = [
        Task(v.id, v.values, os.path.abspath(rules_dir), plan.profile, snapshot_paths, window[0], window[1])
        for v in variants
        if v.id not in done
    ]
    click.echo(
        f"sweep {spec.name}: {len(variants)} variant(s) of {plan.version} ({plan.profile}); "
        f"{len(done)} already in {out}, {len(tasks)} to run on {executor}",
        err=True,
    )
    with interrupts.guarded() as guard:
        interrupted = _run(tasks, executor, scheduler, workers or os.cpu_count() or 1, out, len(variants), len(done))
        interrupts.defer()  # the table of what finished is written whole, whenever Ctrl-C comes now
        rows = _rows(out / "results.jsonl")
        _finish(rows, spec, out)
    if interrupted or guard.arrived:
        click.echo(f"sweep {spec.name}: stopped by Ctrl-C; {len(rows)} of {len(variants)} kept in {out}", err=True)
        sys.exit(EXIT_INTERRUPTED)


def _identity(spec_path: str, version: str, profile: str, snapshots: tuple[str, ...], window: list) -> dict[str, Any]:
    """What a results folder belongs to: a rerun resumes it only when all of this is the same."""
    digest = hashlib.sha256(Path(spec_path).read_bytes()).hexdigest()[:16]
    return {
        "spec_sha256": digest,
        "rules_version": version,
        "profile": profile,
        "snapshots": [os.path.abspath(p) for p in snapshots],
        "window": window,
    }


def _resume(out: Path, identity: dict[str, Any]) -> set[str]:
    """The variants ``out`` already holds (none when new); usage error when it holds another sweep's."""
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
    return {row["variant"] for row in _rows(out / "results.jsonl")}


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


def _run(tasks: list, executor: str, scheduler: str | None, workers: int, out: Path, total: int, before: int) -> bool:
    """Run the tasks, appending each result as it comes; True when Ctrl-C stopped it."""
    from tqdm import tqdm

    from engine.cli.sweep_work import evaluate

    run = compose.sweep_executor(executor, scheduler)
    bar = tqdm(total=total, initial=before, desc="sweep", unit="variant", file=sys.stderr, disable=None)
    with open(out / "results.jsonl", "a", encoding="utf-8") as sink:

        def on_result(task: Any, outcome: Any) -> None:
            failed = compose.failure_of(outcome)
            row = outcome if failed is None else {"status": "failed", "errors": [failed]}
            row = {**row, "variant": task.variant, "values": dict(task.values)}
            row.pop("equity", None)
            sink.write(json.dumps(row, sort_keys=True) + "\n")
            sink.flush()
            os.fsync(sink.fileno())
            bar.update(1)

        try:
            run(tasks, evaluate, workers=workers, on_result=on_result)
        except KeyboardInterrupt:
            return True
        finally:
            bar.close()
    return False


def _finish(rows: list[dict[str, Any]], spec: Any, out: Path) -> None:
    """Rank, write the table (CSV and Parquet) and print the best rows."""
    import pandas as pd

    from engine.sweeps.results import ranked, table

    records = table(ranked(rows, spec), spec)
    frame = pd.DataFrame.from_records(records)
    if "rank" in frame:
        frame["rank"] = frame["rank"].astype("Int64")  # no rank for a variant that did not replay
    frame.to_csv(out / "ranking.csv", index=False)
    frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object}).to_parquet(
        out / "ranking.parquet", index=False
    )
    replayed = [r for r in records if r["status"] == "ok"]
    invalid = sum(r["status"] == "invalid" for r in records)
    failed = sum(r["status"] == "failed" for r in records)
    click.echo(
        f"sweep {spec.name}: {len(replayed)} replayed, {invalid} invalid, {failed} failed; "
        f"ranked by {spec.metric} ({spec.goal}); {out}/ranking.csv"
    )
    for record in replayed[:SHOWN]:
        values = ", ".join(f"{p.path}={record[p.path]}" for p in spec.parameters)
        click.echo(f"  {record['rank']:>3}. {record['variant']}  {spec.metric}={record[spec.metric]:.6g}  {values}")
