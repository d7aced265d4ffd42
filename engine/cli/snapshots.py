"""`rulebot snapshots build/convert/from-freqtrade/info`: make snapshot files from market
history, from other snapshot files or from a freqtrade data folder, and say what a snapshot
file holds.

Each command is a function of its arguments and an ``echo`` (tests call them directly) that
returns the exit code: 0 done, 1 bad input (spec, source or snapshot file: which and why),
with nothing written. The adapters do the work and return data (engine/cli/compose.py);
the words are engine/cli/render_snapshots.py's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli import compose
from engine.cli import render_snapshots as words
from engine.cli.exit_codes import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, EXIT_USAGE
from engine.cli.options import rules_folder
from engine.common import interrupts

if TYPE_CHECKING:
    from engine.cli.compose import Span
    from engine.language.diagnostics import Diagnostic
    from engine.market.snapshot import Snapshot

Echo = Callable[[str], Any]


def build_command(spec_path: str | os.PathLike[str], out_path: str | os.PathLike[str], echo: Echo) -> int:
    """`rulebot snapshots build SPEC --out FILE`: 0 when written, 1 for bad input."""
    from engine.common.times import readable_utc

    out = Path(out_path)
    if not compose.is_snapshot_output(out):
        echo(words.bad_output(out))
        return EXIT_INVALID
    spec, problems = compose.load_build_spec(spec_path)
    if spec is None:
        _echo_lines(words.problem_lines(problems), echo)
        echo(f"{spec_path}: invalid build spec; nothing written")
        return EXIT_INVALID
    snapshots, report = compose.build_snapshots(spec)
    _echo_lines([words.read_line(read) for read in report.reads], echo)
    _echo_lines(words.problem_lines(report.problems), echo)
    if report.failed:
        echo(f"{spec_path}: cannot build from these sources; nothing written")
        return EXIT_INVALID

    def keep(span: Span) -> bool:
        if not span.count:
            echo(
                f"{spec_path}: error: no candle closes between {readable_utc(spec.start)} and "
                f"{readable_utc(spec.end)}; nothing written"
            )
        return bool(span.count)

    return _write(snapshots, out, compose.build_metadata(spec), keep, echo)


def convert_command(paths: Iterable[str | os.PathLike[str]], out_path: str | os.PathLike[str], echo: Echo) -> int:
    """`rulebot snapshots convert FILES… --out FILE`: the snapshots of FILES (any format, in the
    order given) as one file, e.g. JSON-lines recordings as one columnar file for the dry-run
    fast path. Streamed: memory holds a row group, not the recording. 0 when written
    (warnings allowed: a torn last line, a snapshot out of order); 1 when an input has an
    error, and then nothing is written."""
    from engine.language.formats import as_text_capped

    names, out = [os.fspath(p) for p in paths], Path(out_path)
    if not compose.is_snapshot_output(out):
        echo(words.bad_output(out))
        return EXIT_INVALID
    problems: list[Diagnostic] = []

    def keep(span: Span) -> bool:
        if problems:
            echo(as_text_capped(problems))
        if span.count and not any(p.is_error for p in problems):
            return True
        echo(
            f"{out}: not written: " + ("the input has errors (above)" if span.count else "the input holds no snapshot")
        )
        return False

    provenance = {"converted_from": [Path(p).name for p in names]}
    return _write(compose.read_snapshots(names, problems), out, provenance, keep, echo)


def from_freqtrade_command(
    datadir: str | os.PathLike[str],
    pairs: str | Sequence[str],
    timeframe: str,
    out_path: str | os.PathLike[str],
    echo: Echo,
    symbols: str | Sequence[str] | None = None,
) -> int:
    """`rulebot snapshots from-freqtrade DATADIR --pairs P,… --timeframe TF --out FILE`: one
    snapshot per candle every pair has, at its close, with the mark of its hour and the last
    funding rate by its open. 0 when written (warnings allowed: rows dropped, a pair without
    funding or mark file); 1 for bad input (a missing or unreadable file, no common candle),
    2 for bad arguments; nothing is written unless 0."""
    try:
        request = compose.freqtrade_request(datadir, pairs, timeframe, symbols)
    except ValueError as error:
        echo(words.bad_argument(getattr(error, "option", ""), str(error)))
        return EXIT_USAGE
    out = Path(out_path)
    if not compose.is_snapshot_output(out) or not out.name.endswith(words.FREQTRADE_SUFFIX):
        echo(words.bad_freqtrade_output(out))
        return EXIT_INVALID
    snapshots, report, provenance = compose.freqtrade_snapshots(request)
    _echo_lines(words.freqtrade_read_lines(report.reads), echo)
    shown = len(report.problems)
    _echo_lines(words.problem_lines(report.problems), echo)
    if report.failed:
        echo(words.freqtrade_failed(request.datadir))
        return EXIT_INVALID
    echo(words.freqtrade_common(report, request.timeframe, len(request.pairs)))

    def keep(span: Span) -> bool:
        _echo_lines(words.problem_lines(report.problems[shown:]), echo)  # from the snapshots themselves
        if report.failed or not span.count:
            echo(f"{out}: not written: " + ("the snapshots have errors (above)" if span.count else "no snapshot made"))
            return False
        return True

    return _write(snapshots, out, provenance, keep, echo)


def _write(
    snapshots: Iterable[Snapshot], out: Path, build: dict[str, Any], keep: Callable[[Span], bool], echo: Echo
) -> int:
    """Stream the snapshots into ``out``; ``keep`` decides (and says why not) once all went through."""
    try:
        result = compose.write_snapshots(snapshots, out, build, keep)
    except OSError as error:
        echo(words.cannot_write(out, error))
        return EXIT_INVALID
    if not result.kept:
        return EXIT_INVALID
    echo(words.written(out, result))
    return EXIT_OK


def info_command(paths: Iterable[str | os.PathLike[str]], echo: Echo, rules_dir: str | None = None) -> int:
    """`rulebot snapshots info FILES...`: 0 when every file read cleanly, 1 otherwise. With
    ``rules_dir``, each file also says how often each signal component of those rules has its
    inputs; rules that cannot be loaded are named, and the rest is shown as before."""
    code = EXIT_OK
    signals = _signal_inputs(rules_dir) if rules_dir is not None else None
    for i, path in enumerate(paths):
        if i:
            echo("")
        summary = compose.summarize_snapshots(path)
        _echo_lines(words.problem_lines(summary.problems), echo)
        if summary.unshown:
            echo(f"{path}: … {summary.unshown:,} more problem(s)")
        _echo_lines(words.describe(Path(path), compose.snapshot_file_format(Path(path)), summary), echo)
        if signals is not None:
            _echo_lines(words.signal_input_lines(signals, summary), echo)
        if summary.errors:
            echo(f"  problems:  {summary.errors:,} error(s), {summary.warnings:,} warning(s)")
            code = EXIT_INVALID
    return code


def _signal_inputs(rules_dir: str) -> words.SignalInputs:
    """The signal components of the rules in ``rules_dir`` and their inputs, or why they could
    not be loaded (info then shows the rest as before)."""
    from engine.language.compiler import compile_ruleset
    from engine.trading.signals.coverage import layout

    if not Path(rules_dir).is_dir():
        return words.SignalInputs(rules_dir, problem="no such folder")
    try:
        result = compile_ruleset(rules_dir)
    except Exception as error:  # info must still describe the file
        return words.SignalInputs(rules_dir, problem=f"{type(error).__name__}: {error}")
    if not result.ok:
        errors = sum(d.is_error for d in result.diagnostics)
        return words.SignalInputs(rules_dir, problem=f"invalid, {errors} error(s): rulebot validate {rules_dir}")
    plan = next(iter(result.plans.values()))  # components and inputs are the same in every profile
    return words.SignalInputs(
        rules_dir, version=plan.version, components=layout(plan.signals.components), leader=plan.ruleset.leader
    )


def _echo_lines(lines: Iterable[str], echo: Echo) -> None:
    for line in lines:
        echo(line)


# ------------------------------------------------------------------ the click commands


@click.group()
def snapshots() -> None:
    """Build and inspect snapshot files."""


@snapshots.command("build")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output file: .snapshots.parquet (columnar) or .jsonl / .jsonl.gz.",
)
def snapshots_build(spec: str, out_path: str) -> None:
    """Turn historical files (candles, funding, open interest, liquidations, fear & greed) named
    in SPEC into snapshots, each value visible only from the time it was published."""
    _interruptible("build", lambda: build_command(spec, out_path, _to_stderr), out_path)


@snapshots.command("convert")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output file: .snapshots.parquet (columnar) or .jsonl / .jsonl.gz.",
)
def snapshots_convert(files: tuple[str, ...], out_path: str) -> None:
    """Write the snapshots of FILES (any format, in time order) as one file: JSON-lines
    recordings become one columnar file, which the dry-run replays on its fast path."""
    _interruptible("convert", lambda: convert_command(files, out_path, _to_stderr), out_path)


@snapshots.command("from-freqtrade")
@click.argument("datadir", type=click.Path(file_okay=True, dir_okay=True))
@click.option("--pairs", required=True, help="freqtrade futures pairs, comma-separated: BTC/USDT:USDT,ETH/USDT:USDT.")
@click.option(
    "--timeframe",
    required=True,
    metavar="TF",
    help="The candle timeframe to read: 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h or 1d.",
)
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output file: NAME.snapshots.parquet (columnar).",
)
@click.option(
    "--symbols",
    default=None,
    help="The rulebot symbol of each pair, comma-separated, in the order of --pairs (default: BTCUSDT for BTC/USDT:USDT).",
)
def snapshots_from_freqtrade(datadir: str, pairs: str, timeframe: str, out_path: str, symbols: str | None) -> None:
    """Turn the candles, funding rates and mark prices that `freqtrade download-data
    --trading-mode futures` wrote into DATADIR (user_data/data/<exchange>/futures) into
    snapshots: one per candle every pair has, at its close, so a freqtrade strategy's candles
    replay in rulebot."""
    try:
        compose.freqtrade_request(datadir, pairs, timeframe, symbols)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=f"'{getattr(error, 'option', '--pairs')}'") from None
    _interruptible(
        "from-freqtrade",
        lambda: from_freqtrade_command(datadir, pairs, timeframe, out_path, _to_stderr, symbols),
        out_path,
    )


@snapshots.command("info")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@rules_folder("Rule set whose signal components are checked against the inputs present.")
def snapshots_info(files: tuple[str, ...], rules_dir: str) -> None:
    """Symbols, time range, gaps and which inputs are present, per snapshot file, and how often
    each signal component of the rules has all of its inputs."""
    sys.exit(info_command(files, click.echo, rules_dir))


def _interruptible(name: str, command: Callable[[], int], out_path: str) -> None:
    """Exit with the command's code, or 130 after Ctrl-C: before the output is whole nothing
    is written (its temporary file is removed); once it is, it is renamed into place first."""
    with interrupts.guarded() as guard:
        try:
            code = command()
        except KeyboardInterrupt:
            _to_stderr(f"rulebot snapshots {name}: stopped by Ctrl-C; {out_path} not written")
            sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_INTERRUPTED if guard.arrived else code)


def _to_stderr(line: str) -> None:
    click.echo(line, err=True)
