"""`rulebot explain`: one decision taken apart, from a replay of snapshot files."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine.cli import compose
from engine.cli.exit_codes import EXIT_INVALID
from engine.cli.options import check_writable, load_plan, report_problems, time_option

if TYPE_CHECKING:
    from engine.language.diagnostics import Diagnostic
    from engine.report.explain import Replayed


@click.command()
@click.argument("snapshots", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--at", "at_text", help="Time to explain (ISO 8601 or epoch seconds); default: the last snapshot.")
@click.option(
    "--symbol",
    "symbols",
    multiple=True,
    help="Symbol to explain (repeatable); default: every symbol of the rule set the snapshots hold.",
)
@click.option("--rules", "rules_dir", default="rules", show_default=True, type=click.Path(exists=True, file_okay=False))
@click.option("--profile", type=click.Choice(["paper", "live"]), help="Profile (default: the rule set's).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False),
    help="Also append the signal records to this JSON-lines file (e.g. logs/predictive_signals.jsonl).",
)
@click.option(
    "--replay",
    type=click.Choice(["auto", "columns", "scalar"]),
    default="auto",
    show_default=True,
    help="columns: compute the features as columns (dense .parquet files; fast); scalar: snapshot by "
    "snapshot; auto: columns where the files allow it. Both give the same explanation.",
)
@click.option(
    "--equity",
    type=click.FloatRange(min=0, min_open=True),
    help="Account equity for sizing (default: the profile's paper starting balance).",
)
def explain(
    snapshots: tuple[str, ...],
    at_text: str | None,
    symbols: tuple[str, ...],
    rules_dir: str,
    profile: str | None,
    fmt: str,
    log_path: str | None,
    replay: str,
    equity: float | None,
) -> None:
    """Replay SNAPSHOTS up to a time and show the decision: each component's inputs, threshold,
    direction, confidence and weighted contribution, the votes and conviction, then the gate
    chain (each multiplier, the first blocker), the requirements and the final size.

    The account is flat (no open positions) with the given equity. Dense .parquet files are
    replayed as columns, as dry-run's fast path does; others snapshot by snapshot (stderr says
    why), with the same result."""
    from engine.report.explain import render_decision, render_json, render_text
    from engine.trading.portfolio import Portfolio

    plan = load_plan(rules_dir, profile)
    if equity is not None and not math.isfinite(equity):
        raise click.BadParameter(f"{equity} is not an amount of USD", param_hint="--equity")
    until = time_option(at_text, "--at") if at_text else None
    unknown = [s for s in symbols if s not in plan.ruleset.names()]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)} not in the rule set ({', '.join(plan.ruleset.names())})", param_hint="--symbol"
        )
    if log_path:
        check_writable(Path(log_path).parent, "--log")
    problems: list[Diagnostic] = []
    replayed = _replay(plan, snapshots, until, replay, problems)
    report_problems(problems)
    if replayed.last is None:
        click.echo("rulebot explain: no valid snapshot at or before the requested time", err=True)
        sys.exit(EXIT_INVALID)
    absent = [s for s in symbols if s not in replayed.present]
    if absent:
        held = ", ".join(replayed.present) or "none of the rule set's symbols"
        raise click.BadParameter(f"{', '.join(absent)} not in the snapshots (they hold {held})", param_hint="--symbol")
    if not replayed.present:
        click.echo(
            f"rulebot explain: the snapshots hold none of the rule set's symbols ({', '.join(plan.ruleset.names())})",
            err=True,
        )
        sys.exit(EXIT_INVALID)
    now = until if until is not None else replayed.last
    equity = equity if equity is not None else plan.paper_broker.get("starting_balance_usd", 10_000.0)
    portfolio = Portfolio(equity_usd=equity, available_margin_usd=equity, data_alarm=replayed.data_alarm)
    # what the sanity layer refused in the last snapshot is what the decision rests on
    decisions = [
        replayed.pipeline.decide(s, portfolio, now, replayed.refused.get(s, ())) for s in (symbols or replayed.present)
    ]
    if log_path:
        with compose.append_log(log_path) as log:
            for decision in decisions:
                log.write(decision.signal.as_dict())
    if fmt == "json":
        click.echo(render_json(decisions))
    else:
        click.echo("\n\n".join(render_text(d.signal) + "\n" + render_decision(d) for d in decisions))
    errors = sum(p.is_error for p in problems)
    if errors:  # the decision is shown, but it rests on a partial reading: as dry-run
        click.echo(f"rulebot explain: {errors} snapshot input error(s); see above", err=True)
        sys.exit(EXIT_INVALID)


def _replay(plan, snapshots: tuple[str, ...], until: float | None, mode: str, problems: list[Diagnostic]) -> Replayed:
    """The column replay where the files allow it (and ``mode`` is not scalar), else the
    scalar one, saying why on stderr; ``--replay columns`` refuses instead of falling back."""
    from engine.replay.recording import NotReplayable
    from engine.report.explain import replay, replay_recording

    if mode != "scalar":
        try:
            if not all(path.endswith(".parquet") for path in snapshots):
                raise NotReplayable("the column replay reads .parquet files")
            return replay_recording(plan, compose.recording(tuple(snapshots)), until)
        except NotReplayable as why:
            if mode == "columns":
                raise click.UsageError(f"--replay columns: {why}") from why
            click.echo(f"rulebot explain: replayed snapshot by snapshot ({why.code}: {why})", err=True)
    return replay(plan, compose.read_snapshots(snapshots, problems), until)
