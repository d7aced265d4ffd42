"""`rulebot dry-run`: replay snapshot files through the compiled plan with the paper broker
and a simulated clock, on the columnar fast path where the input allows, and show (and
optionally write) what the rules would have done."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli import compose, render
from engine.cli.exit_codes import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OUTPUT
from engine.cli.options import (
    Window,
    check_writable,
    load_plan,
    progress,
    report_problems,
    symbols_option,
    window_option,
)
from engine.common import interrupts
from engine.common.files import whole_file

if TYPE_CHECKING:
    from engine.language.compiler import Plan
    from engine.language.diagnostics import Diagnostic


@click.command("dry-run")
@click.argument("snapshots", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--rules", "rules_dir", default="rules", show_default=True, type=click.Path(exists=True, file_okay=False))
@click.option("--profile", type=click.Choice(["paper", "live"]), help="Profile (default: the rule set's).")
@click.option(
    "--vs",
    "vs_dir",
    type=click.Path(exists=True, file_okay=False),
    help="A second rule set to run over the same snapshots, side by side.",
)
@click.option(
    "--from", "from_text", help="Start trading at this time (ISO 8601 or epoch s); earlier snapshots warm up."
)
@click.option("--to", "to_text", help="Stop after this time.")
@click.option("--symbols", "symbols_text", help="Comma-separated symbols to trade (default: all in the snapshots).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Write the HTML report here.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Write trades, decisions, metrics and the fingerprint into this folder.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--replay",
    type=click.Choice(["auto", "columns", "scalar"]),
    default="auto",
    show_default=True,
    help="columns: the fast path over dense Parquet files (in time order); "
    "scalar: snapshot by snapshot (the reference); "
    "auto: columns where the input allows.",
)
@click.option(
    "--learn",
    is_flag=True,
    help="Walk-forward: run the learners on their schedules inside the replay; what passes the promotion "
    "gate is traded from the next cycle. Compared with the same rules without learning (or with --vs). "
    "The rules folder is not changed; --out keeps the learned rules.",
)
def dry_run_command(
    snapshots: tuple[str, ...],
    rules_dir: str,
    profile: str | None,
    vs_dir: str | None,
    from_text: str | None,
    to_text: str | None,
    symbols_text: str | None,
    report_path: str | None,
    out_dir: str | None,
    fmt: str,
    replay: str,
    learn: bool,
) -> None:
    """Replay SNAPSHOTS through the compiled plan with the paper broker and a simulated clock,
    and show what the rules would have done. Ctrl-C stops cleanly and still writes what was done."""
    with interrupts.guarded() as guard:
        try:
            window_text = (from_text, to_text)
            args = (snapshots, rules_dir, profile, vs_dir, window_text, symbols_text, report_path, out_dir, fmt, replay)
            _dry_run(guard, *args, learn=learn)
        except KeyboardInterrupt:  # before the run had a result: there is nothing to write
            click.echo("rulebot dry-run: stopped by Ctrl-C before the run had a result; nothing written", err=True)
            sys.exit(EXIT_INTERRUPTED)
    if guard.arrived:  # came after the exit code was chosen, before the handler was restored
        sys.exit(EXIT_INTERRUPTED)


def _dry_run(
    guard: interrupts.Guard,
    snapshots: tuple[str, ...],
    rules_dir: str,
    profile: str | None,
    vs_dir: str | None,
    window_text: tuple[str | None, str | None],
    symbols_text: str | None,
    report_path: str | None,
    out_dir: str | None,
    fmt: str,
    replay: str,
    *,
    learn: bool = False,
) -> None:
    """The command. Ctrl-C raises until a replay's loop ends; from then on it is recorded
    (the result is printed and written whole) and honoured as exit 130 at the end."""
    from engine.replay.dryrun import differing_decisions

    plan = load_plan(rules_dir, profile)
    other = load_plan(vs_dir, profile) if vs_dir else None
    window = window_option(*window_text)
    symbols = symbols_option(symbols_text, plan)
    _check_outputs(out_dir, report_path)  # before the run: never lose a finished run to a bad path
    if learn:
        from engine.cli.walkforward import learning_dry_run

        if replay == "columns":
            raise click.UsageError(
                "--learn replays snapshot by snapshot (the learners read every signal), not --replay columns"
            )
        result = learning_dry_run(guard, plan, rules_dir, snapshots, window, symbols, out_dir)
        result.update(rule_set=f"{plan.ruleset.name} (learning)")
        if other is None:  # the baseline: the same rules, not learning
            other, vs_dir = plan, rules_dir
    else:
        result = one_dry_run(guard, plan, snapshots, window, symbols, replay)
        result.update(rule_set=plan.ruleset.name)
    if other is not None and guard.arrived:  # Ctrl-C during or after the first run: no second
        result["interrupted"] = True
    elif other is not None:
        result["vs"] = one_dry_run(guard, other, snapshots, window, symbols, replay)
        vs_name = f"{other.ruleset.name} (not learning)" if learn and other is plan else other.ruleset.name
        result["vs"].update(rule_set=vs_name, rules_dir=vs_dir)
        result["differing_decisions"] = differing_decisions(result["decisions"], result["vs"]["decisions"])
        result["interrupted"] = result["interrupted"] or result["vs"]["interrupted"]
    _refuse_empty_window(result, window, snapshots, guard)
    result.update(
        rules_dir=rules_dir,
        snapshot_files=list(snapshots),
        unseen_symbols=sorted((symbols or set()) - set(result["symbols"])),
        untraded_symbols=sorted(set(result["symbols"]) - set(plan.ruleset.names())),
    )
    click.echo(json.dumps(render.dry_run_json(result), indent=2) if fmt == "json" else render.dry_run_text(result))
    try:
        _write_dry_run(result, out_dir, report_path)
    except OSError as error:  # disk full, or the folder changed since the check
        click.echo(
            f"rulebot dry-run: cannot write {error.filename!r}: {error.strerror}; "
            "the summary above is the run's result",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED if guard.arrived else EXIT_OUTPUT)
    for line in render.written_outputs(out_dir, report_path):  # stdout stays JSON with --format json
        click.echo(line, err=fmt == "json")
    _exit_after(result, window, guard)


def _exit_after(result: dict[str, Any], window: Window, guard: interrupts.Guard) -> None:
    """130 after Ctrl-C (even one that came once the replay was over), 1 when input was bad or
    none could be read; else return (exit 0)."""
    if guard.arrived or result.get("interrupted"):
        sys.exit(EXIT_INTERRUPTED)
    if result.get("input_errors"):
        click.echo(f"rulebot dry-run: {result['input_errors']} snapshot input error(s); see above", err=True)
        sys.exit(EXIT_INVALID)
    if not result["cycles"]:
        click.echo("rulebot dry-run: the snapshot files hold no snapshot that could be read", err=True)
        sys.exit(EXIT_INVALID)


def _refuse_empty_window(
    result: dict[str, Any], window: Window, snapshots: tuple[str, ...], guard: interrupts.Guard
) -> None:
    """Exit 1 before printing or writing anything when --from/--to hold no snapshot of files
    that do hold some: an empty summary would read like a run that found nothing to trade."""
    if result["cycles"] or window == [None, None] or result.get("input_errors") or guard.arrived:
        return
    times = [t for path in snapshots for t in compose.summarize_snapshots(path).times]
    if not times:  # nothing readable at all: said as such after the (empty) summary
        return
    from engine.common.times import iso_utc

    asked = " ".join(
        f"{name} {iso_utc(t)}" for name, t in zip(("--from", "--to"), window, strict=True) if t is not None
    )
    click.echo(
        f"rulebot dry-run: no snapshot falls in {asked}: the snapshots cover "
        f"{iso_utc(min(times))} → {iso_utc(max(times))}; nothing was replayed or written",
        err=True,
    )
    sys.exit(EXIT_INVALID)


def one_dry_run(
    guard: interrupts.Guard,
    plan: Plan,
    snapshots: tuple[str, ...],
    window: Window,
    symbols: set[str] | None,
    replay: str = "auto",
) -> dict[str, Any]:
    """One replay; Ctrl-C raises (stops it) until its loop ends, whichever path it takes."""
    from engine.replay.dryrun import dry_run

    guard.live()
    if replay != "scalar":
        result, why = _fast_dry_run(plan, snapshots, window, symbols)
        if result is not None:
            return result
        if replay == "columns":
            raise click.UsageError(f"--replay columns: {why}")
        guard.live()  # the fast path deferred Ctrl-C when it found it could not run
    problems: list[Diagnostic] = []
    with progress(snapshots, f"dry-run {plan.version}") as bar:
        result, _, _ = dry_run(
            plan,
            compose.read_snapshots(snapshots, problems),
            broker=compose.paper_broker(plan),
            store=compose.memory_state(),
            start=window[0],
            end=window[1],
            symbols=symbols,
            on_cycle=lambda snapshot: bar.update(1),
        )
    report_problems(problems)
    result["input_errors"] = sum(p.is_error for p in problems)
    result["replay"] = "scalar" if replay == "scalar" else f"scalar ({why})"
    return result


def _fast_dry_run(
    plan: Plan, snapshots: tuple[str, ...], window: Window, symbols: set[str] | None
) -> tuple[dict[str, Any] | None, str]:
    """The fast path's result, or None and why the input needs the scalar path."""
    from engine.replay.dryrun import dry_run_recording
    from engine.replay.recording import NotReplayable

    if not all(path.endswith(".parquet") for path in snapshots):
        return None, "the fast path reads .parquet files"
    try:
        recording = compose.recording(tuple(snapshots))
        if symbols:
            recording = recording.only(symbols)
        with progress(snapshots, f"dry-run {plan.version}", total=len(recording)) as bar:
            result, _, _ = dry_run_recording(
                plan,
                recording,
                broker=compose.paper_broker(plan),
                store=compose.memory_state(),
                start=window[0],
                end=window[1],
                on_progress=bar.update,
            )
    except NotReplayable as why:
        return None, str(why)
    result.update(input_errors=0, replay="columns")
    return result, ""


def _check_outputs(out_dir: str | None, report_path: str | None) -> None:
    """Usage error unless the --out folder and the --report file's folder can be written to."""
    if out_dir:
        check_writable(out_dir, "--out")
    if report_path:
        check_writable(Path(report_path).parent, "--report")


def _write_dry_run(result: dict[str, Any], out_dir: str | None, report_path: str | None) -> None:
    if out_dir:
        out = Path(out_dir)
        _write_text(out / "trades.jsonl", "".join(json.dumps(t) + "\n" for t in result["trades"]))
        _write_text(out / "decisions.jsonl", "".join(json.dumps(d) + "\n" for d in result["decisions"]))
        _write_text(out / "metrics.json", json.dumps(render.dry_run_json(result), indent=2) + "\n")
        _write_text(out / "fingerprint.txt", result["fingerprint"] + "\n")
        _write_text(out / "result.json", json.dumps(result) + "\n")
    if report_path:
        from engine.report.html import render_report

        _write_text(Path(report_path), render_report(result))


def _write_text(path: Path, text: str) -> None:
    """Write a whole file or nothing (a temporary file renamed into place); an OSError names
    ``path``, not the temporary file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with whole_file(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as error:
        raise OSError(error.errno, error.strerror or str(error), str(path)) from None
