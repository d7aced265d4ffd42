"""`rulebot record`: a venue's market data recorded as snapshots, without trading.

The live feed of `rulebot run --paper --feed live` (adapters/feeds/live.py, built by
engine/cli/compose.py ``live_feed``) at the rules' bot cycle, each snapshot appended to
``OUT/<YYYY-MM-DD>.jsonl.gz`` (one file per UTC day) as it is made; `rulebot dry-run OUT/*`
replays them. Ctrl-C and SIGTERM stop it between two snapshots: every line written is whole
(a kill -9 mid-write leaves one torn last line, which the readers skip with a warning).

Exit codes: 0 recorded until asked to stop (--duration, --cycles, SIGTERM); 1 the venue
refused for good (a fatal error: keys, permissions) or nothing could be recorded; 130 Ctrl-C.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from typing import Any

import click

from engine.cli import compose
from engine.cli.exit_codes import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK
from engine.cli.options import check_writable, load_plan, report_problems
from engine.common import interrupts

logger = logging.getLogger(__name__)

STARTED = "rulebot record: recording"  # the line on stderr once recording runs (tests and scripts wait for it)


def _duration(text: str | None) -> float | None:
    if text is None:
        return None
    from engine.language.durations import parse_duration

    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise click.BadParameter(f"{text!r}: {error}", param_hint="--duration") from None
    if not seconds > 0:
        raise click.BadParameter(f"{text!r}: a duration above 0 (30s, 15m, 6h, 2d)", param_hint="--duration")
    return seconds


@click.command()
@click.option("--venue", required=True, help="The exchange id of rules/venues.yaml to read (kraken_futures, blofin).")
@click.option(
    "--symbols",
    "symbols_text",
    metavar="SYM[,SYM…]",
    help="The rulebot symbols to record (default: every symbol of the rule set the venue lists).",
)
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False), help="The folder the snapshots go into."
)
@click.option("--base-url", metavar="URL", help="The venue's API at this URL instead of the rules' (a local fake).")
@click.option("--duration", "duration_text", metavar="DURATION", help="Stop after this long (30s, 15m, 6h, 2d).")
@click.option("--cycles", type=click.IntRange(min=1), help="Stop after this many snapshots.")
@click.option(
    "--intel-cache",
    default="state/intel-cache",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the market-intelligence answers are cached (read when its key is in the environment).",
)
@click.option("--rules", "rules_dir", default="rules", show_default=True, type=click.Path(exists=True, file_okay=False))
def record(
    venue: str,
    symbols_text: str | None,
    out_dir: str,
    base_url: str | None,
    duration_text: str | None,
    cycles: int | None,
    intel_cache: str,
    rules_dir: str,
) -> None:
    """Record a venue's market data into OUT as snapshots, one per bot cycle of the rules,
    without trading; until --duration or --cycles, SIGTERM or Ctrl-C (which keeps every line
    written whole). `rulebot dry-run OUT/*` replays the recording."""
    if duration_text is not None and cycles is not None:
        raise click.UsageError("give --duration or --cycles, not both")
    duration = _duration(duration_text)
    plan = load_plan(rules_dir, None)
    symbols = None
    if symbols_text is not None:
        symbols = [s.strip() for s in symbols_text.split(",") if s.strip()]
        if not symbols:
            raise click.BadParameter(f"{symbols_text!r} names no symbol", param_hint="--symbols")
    check_writable(out_dir, "--out")
    try:
        feed = compose.live_feed(
            plan, venue, record_dir=out_dir, symbols=symbols, base_url=base_url, intel_cache=intel_cache
        )
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--venue/--symbols") from None
    try:
        code = _record(feed, out_dir, duration, cycles)
    finally:
        feed.close()
    if code != EXIT_OK:
        sys.exit(code)


def _record(feed: Any, out_dir: str, duration: float | None, cycles: int | None) -> int:
    """Take snapshots until told to stop; the summary, then the exit code."""
    wake = threading.Event()
    stopped_by: list[str] = []

    def stop(why: str) -> None:
        if not stopped_by:
            stopped_by.append(why)
        wake.set()

    deadline = None if duration is None else time.time() + duration
    with interrupts.guarded() as guard:
        interrupts.defer()  # Ctrl-C only asks to stop: the snapshot being written is finished first
        guard.on_arrival = lambda: stop("Ctrl-C")
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop("SIGTERM"))
        try:
            click.echo(
                f"{STARTED} {', '.join(feed.symbols)} from {feed.venue} every {feed.every_s:g} s into {out_dir}/",
                err=True,
            )
            while not wake.is_set() and not feed.ended and (cycles is None or feed.cycles < cycles):
                left = None if deadline is None else deadline - time.time()
                if left is not None and left <= 0:
                    break
                feed.next(wake, 60.0 if left is None else min(left, 60.0))
        finally:
            guard.on_arrival = None
            signal.signal(signal.SIGTERM, previous)
        interrupted = guard.arrived
    report_problems(feed.problems)
    if feed.problems_dropped:
        click.echo(f"… and {feed.problems_dropped:,} more problem(s), each logged as it came", err=True)
    written = feed.recorder.written if feed.recorder is not None else 0
    how = f"stopped by {stopped_by[0]}" if stopped_by else "the venue refused for good" if feed.ended else "done"
    click.echo(f"record: {written} snapshot(s) of {', '.join(feed.symbols)} from {feed.venue} into {out_dir}/; {how}")
    if interrupted:
        return EXIT_INTERRUPTED
    if feed.fatal is not None or not written:
        return EXIT_INVALID
    return EXIT_OK
