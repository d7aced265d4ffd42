"""The `rulebot` command line. Heavy modules are imported inside each command, so
`rulebot validate` starts fast (no numpy, no pandas).

Exit codes: 0 success, 1 the rules (or input) are invalid, 2 usage error,
3 internal error (a bug in rulebot; the message says where to report it), 5 a result was
printed but an output file could not be written (dry-run), 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import functools
import json
import math
import sys
from typing import ClassVar

import click

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL, EXIT_OUTPUT = 0, 1, 2, 3, 5


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rulebot")
def main() -> None:
    """rulebot: a crypto-futures trading bot whose behaviour lives in YAML rule files."""


@main.command()
@click.argument("rules_dir", default="rules", type=click.Path(exists=True, file_okay=False))
@click.option("--profile", type=click.Choice(["paper", "live"]), help="Check one profile (default: all).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(rules_dir: str, profile: str | None, fmt: str, strict: bool) -> None:
    """Check every rule file in RULES_DIR and report every problem at once."""
    from engine.language.compiler import compile_ruleset
    from engine.language.formats import FORMATS

    result = compile_ruleset(rules_dir, [profile] if profile else None)
    rendered = FORMATS[fmt](result.diagnostics)
    if rendered:
        click.echo(rendered)
    failed = not result.ok or (strict and result.warnings())
    errors = sum(d.is_error for d in result.diagnostics)
    warnings = len(result.diagnostics) - errors
    if failed:
        summary = f"{rules_dir}: invalid: {errors} error(s), {warnings} warning(s)"
    else:
        summary = (
            f"{rules_dir}: valid, version {result.version} "
            f"(profiles: {', '.join(sorted(result.plans))}; {warnings} warning(s))"
        )
    click.echo(summary, err=fmt != "text")
    sys.exit(EXIT_INVALID if failed else EXIT_OK)


@main.command()
@click.argument("kind", required=False)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Write the files into this folder.")
def schema(kind: str | None, out_dir: str | None) -> None:
    """Print (or export with --out) the JSON Schema of KIND, or of every kind.

    The export also writes vocabulary.json: the names expressions may use, per context.
    """
    from engine.language.schemagen.export import export

    if out_dir:
        _check_writable(out_dir, "--out")
    try:
        export(kind, out_dir, echo=click.echo)
    except KeyError as error:
        raise click.BadParameter(str(error.args[0]), param_hint="KIND") from None


@main.command()
@click.argument("snapshots", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--at", "at_text", help="Time to explain (ISO 8601 or epoch seconds); default: the last snapshot.")
@click.option("--symbol", "symbols", multiple=True, help="Symbol to explain (repeatable); default: all.")
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
    "--equity",
    type=click.FloatRange(min=0, min_open=True),
    help="Account equity for sizing (default: the profile's paper starting balance).",
)
def explain(snapshots, at_text, symbols, rules_dir, profile, fmt, log_path, equity) -> None:
    """Replay SNAPSHOTS up to a time and show the decision: each component's inputs, threshold,
    direction, confidence and weighted contribution, the votes and conviction, then the gate
    chain (each multiplier, the first blocker), the requirements and the final size.

    The account is flat (no open positions) with the given equity."""
    from adapters.store.jsonl import JsonlLog
    from engine.report.explain import render_decision, render_json, render_text, replay
    from engine.trading.portfolio import Portfolio

    plan = _load_plan(rules_dir, profile)
    if equity is not None and not math.isfinite(equity):
        raise click.BadParameter(f"{equity} is not an amount of USD", param_hint="--equity")
    until = _time_option(at_text, "--at") if at_text else None
    unknown = [s for s in symbols if s not in plan.ruleset.names()]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)} not in the rule set ({', '.join(plan.ruleset.names())})", param_hint="--symbol"
        )
    if log_path:
        from pathlib import Path

        _check_writable(Path(log_path).parent, "--log")
    problems: list = []
    engine, last = replay(plan, _snapshots(snapshots, problems), until)
    _report_problems(problems)
    if last is None:
        click.echo("rulebot explain: no valid snapshot at or before the requested time", err=True)
        sys.exit(EXIT_INVALID)
    now = until if until is not None else last
    equity = equity if equity is not None else plan.paper_broker.get("starting_balance_usd", 10_000.0)
    portfolio = Portfolio(equity_usd=equity, available_margin_usd=equity)
    decisions = [engine.decide(s, portfolio, now) for s in (symbols or plan.ruleset.names())]
    if log_path:
        with JsonlLog(log_path) as log:
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


@main.command()
@click.argument("snapshots", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--rules", "rules_dir", default="rules", show_default=True, type=click.Path(exists=True, file_okay=False))
@click.option("--profile", type=click.Choice(["paper", "live"]), help="Profile (default: the rule set's).")
@click.option(
    "--state",
    "state_path",
    default="state/paper.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite state database; a run resumes from it after a crash.",
)
@click.option(
    "--logs",
    "logs_dir",
    default="logs",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder of the JSON-lines logs.",
)
def paper(snapshots, rules_dir, profile, state_path, logs_dir) -> None:
    """Trade SNAPSHOTS as a live feed with the paper broker, keeping state in SQLite.

    Killed at any moment and started again with the same arguments, it resumes after the
    last committed snapshot and ends with exactly the trades of an uninterrupted run."""
    from adapters.store.jsonl import JsonlLog
    from adapters.store.state import StateStore
    from engine.trading.runner import Runner

    plan = _load_plan(rules_dir, profile)
    _check_writable(logs_dir, "--logs")
    with StateStore(state_path) as store, _Logs(logs_dir, JsonlLog) as logs:
        runner = Runner(plan, _paper_broker(plan, store), store, sinks=logs.sinks())  # resumes, or refuses first
        store.record_rule_version(plan.version, "human", message=f"rulebot paper ({plan.profile})")
        problems: list = []
        read = 0
        for read, snapshot in enumerate(_snapshots(snapshots, problems), start=1):  # noqa: B007 - the count is read after the loop
            if runner.cursor is not None and snapshot.ts <= runner.cursor:
                runner.warm(snapshot)
            else:
                runner.step(snapshot)
        _report_problems(problems)
        trades = store.trades()
        net = sum(t.net_pnl for t in trades)
        click.echo(
            f"paper: {len(trades)} trade(s), net P&L {net:+,.2f} USD, "
            f"{len(store.open_positions())} position(s) open; state {state_path}, logs {logs_dir}/"
        )
    if any(p.is_error for p in problems):
        sys.exit(EXIT_INVALID)
    if not read:
        click.echo("rulebot paper: the snapshot files hold no snapshot that could be read", err=True)
        sys.exit(EXIT_INVALID)


@main.command("dry-run")
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
def dry_run_command(
    snapshots, rules_dir, profile, vs_dir, from_text, to_text, symbols_text, report_path, out_dir, fmt, replay
) -> None:
    """Replay SNAPSHOTS through the compiled plan with the paper broker and a simulated clock,
    and show what the rules would have done. Ctrl-C stops cleanly and still writes what was done."""
    from engine.replay.dryrun import differing_decisions

    plan = _load_plan(rules_dir, profile)
    other = _load_plan(vs_dir, profile) if vs_dir else None
    window = _window(from_text, to_text)
    symbols = _symbols_option(symbols_text, plan)
    _check_outputs(out_dir, report_path)  # before the run: never lose a finished run to a bad path
    result = _one_dry_run(plan, snapshots, window, symbols, replay)
    if other is not None:
        result["vs"] = _one_dry_run(other, snapshots, window, symbols, replay)
        result["differing_decisions"] = differing_decisions(result["decisions"], result["vs"]["decisions"])
    result.update(
        rules_dir=rules_dir,
        snapshot_files=list(snapshots),
        windowed=window != [None, None],
        unseen_symbols=sorted((symbols or set()) - set(result["symbols"])),
        untraded_symbols=sorted(set(result["symbols"]) - set(plan.ruleset.names())),
    )
    click.echo(json.dumps(_summary_json(result), indent=2) if fmt == "json" else _summary_text(result))
    try:
        _write_dry_run(result, out_dir, report_path)
    except OSError as error:  # disk full, or the folder changed since the check
        click.echo(
            f"rulebot dry-run: cannot write {error.filename!r}: {error.strerror}; "
            "the summary above is the run's result",
            err=True,
        )
        sys.exit(EXIT_OUTPUT)
    _exit_after(result, window)


def _symbols_option(text: str | None, plan) -> set[str] | None:
    """--symbols as a set (None: every symbol); usage error for a name the rule set does not
    trade, or a list that names none ("," alone would otherwise mean all of them)."""
    if text is None:
        return None
    symbols = {s.strip() for s in text.split(",") if s.strip()}
    if not symbols:
        raise click.BadParameter(f"{text!r} names no symbol", param_hint="--symbols")
    unknown = sorted(symbols - set(plan.ruleset.names()))
    if unknown:
        raise click.BadParameter(f"{', '.join(unknown)} not in the rule set", param_hint="--symbols")
    return symbols


def _time_option(text: str, hint: str) -> float:
    """Epoch seconds of a time option; usage error saying why it is not one."""
    from engine.report.explain import parse_time

    try:
        return parse_time(text)
    except ValueError as error:
        raise click.BadParameter(
            f"{text!r} is not a time ({error}); use ISO 8601 or epoch seconds", param_hint=hint
        ) from None


def _window(from_text: str | None, to_text: str | None) -> list:
    """[start, end] of --from/--to (None: open); usage error for a bad time or an empty span."""
    window = [_time_option(text, name) if text else None for name, text in (("--from", from_text), ("--to", to_text))]
    if None not in window and window[0] > window[1]:
        raise click.BadParameter(f"{to_text!r} is before --from {from_text!r}", param_hint="--to")
    return window


def _exit_after(result: dict, window: list) -> None:
    """130 after Ctrl-C, 1 when input was bad or none could be read; else return (exit 0)."""
    if result.get("interrupted"):
        sys.exit(130)
    if result.get("input_errors"):
        click.echo(f"rulebot dry-run: {result['input_errors']} snapshot input error(s); see above", err=True)
        sys.exit(EXIT_INVALID)
    if not result["cycles"] and window == [None, None]:
        click.echo("rulebot dry-run: the snapshot files hold no snapshot that could be read", err=True)
        sys.exit(EXIT_INVALID)


def _one_dry_run(plan, snapshots, window, symbols, replay: str = "auto") -> dict:
    from adapters.paper.broker import PaperBroker
    from engine.replay.dryrun import dry_run
    from engine.replay.memstate import MemoryState

    if replay != "scalar":
        result, why = _fast_dry_run(plan, snapshots, window, symbols)
        if result is not None:
            return result
        if replay == "columns":
            raise click.UsageError(f"--replay columns: {why}")
    problems: list = []
    with _progress(snapshots, f"dry-run {plan.version}") as bar:
        result, _, _ = dry_run(
            plan,
            _snapshots(snapshots, problems),
            broker=PaperBroker.for_plan(plan),
            store=MemoryState(),
            start=window[0],
            end=window[1],
            symbols=symbols,
            on_cycle=lambda snapshot: bar.update(1),
        )
    _report_problems(problems)
    result["input_errors"] = sum(p.is_error for p in problems)
    result["replay"] = "scalar" if replay == "scalar" else f"scalar ({why})"
    return result


def _fast_dry_run(plan, snapshots, window, symbols) -> tuple[dict | None, str]:
    """The fast path's result, or None and why the input needs the scalar path."""
    from adapters.paper.broker import PaperBroker
    from engine.replay.dryrun import dry_run_recording
    from engine.replay.memstate import MemoryState
    from engine.replay.recording import NotReplayable

    if not all(path.endswith(".parquet") for path in snapshots):
        return None, "the fast path reads .parquet files"
    try:
        recording = _recording(tuple(snapshots))
        if symbols:
            recording = recording.only(symbols)
        with _progress(snapshots, f"dry-run {plan.version}") as bar:
            result, _, _ = dry_run_recording(
                plan,
                recording,
                broker=PaperBroker.for_plan(plan),
                store=MemoryState(),
                start=window[0],
                end=window[1],
                on_progress=bar.update,
            )
    except NotReplayable as why:
        return None, str(why)
    result.update(input_errors=0, replay="columns")
    return result, ""


@functools.lru_cache(maxsize=1)
def _recording(paths: tuple[str, ...]):
    """The files as columns, read once per command (``--vs`` replays them twice; immutable)."""
    from adapters.snapshots.columnar import read_recording

    return read_recording(*paths)


def _progress(paths, label):
    """A progress bar with rate and ETA on stderr, shown only for runs longer than 2 s."""
    from tqdm import tqdm

    return tqdm(total=_count(paths), desc=label, unit="cycle", delay=2, file=sys.stderr, disable=None, leave=False)


def _count(paths) -> int | None:
    try:
        from adapters.snapshots.columnar import count_snapshots
    except ImportError:
        return None
    counts = [count_snapshots(p) for p in paths]
    return None if None in counts else sum(counts)


def _check_outputs(out_dir: str | None, report_path: str | None) -> None:
    """Usage error unless the --out folder and the --report file's folder can be written to."""
    from pathlib import Path

    if out_dir:
        _check_writable(out_dir, "--out")
    if report_path:
        _check_writable(Path(report_path).parent, "--report")


def _check_writable(folder, hint: str) -> None:
    """Usage error unless ``folder`` can be created and a file written in it: found before a
    command does its work, not after (a finished run is never lost to a bad path)."""
    import tempfile
    from pathlib import Path

    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise click.BadParameter(
            f"cannot write into {str(folder)!r}: {error.strerror or error}", param_hint=hint
        ) from None


def _write_dry_run(result: dict, out_dir: str | None, report_path: str | None) -> None:
    from pathlib import Path

    if out_dir:
        out = Path(out_dir)
        _write_text(out / "trades.jsonl", "".join(json.dumps(t) + "\n" for t in result["trades"]))
        _write_text(out / "decisions.jsonl", "".join(json.dumps(d) + "\n" for d in result["decisions"]))
        _write_text(out / "metrics.json", json.dumps(_summary_json(result), indent=2) + "\n")
        _write_text(out / "fingerprint.txt", result["fingerprint"] + "\n")
        _write_text(out / "result.json", json.dumps(result) + "\n")
    if report_path:
        from engine.report.html import render_report

        _write_text(Path(report_path), render_report(result))


def _write_text(path, text: str) -> None:
    """Write a whole file or nothing (a temporary file renamed into place); an OSError names
    ``path``, not the temporary file."""
    import os

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as error:
        raise OSError(error.errno, error.strerror or str(error), str(path)) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _summary_json(result: dict) -> dict:
    keys = (
        "version",
        "profile",
        "start",
        "end",
        "cycles",
        "symbols",
        "fingerprint",
        "metrics",
        "interrupted",
        "open_positions",
        "jobs",
        "replay",
        "suspect_prices",
        "unseen_symbols",
        "untraded_symbols",
    )
    out = {k: result.get(k) for k in keys}
    if result.get("vs"):
        out["vs"] = {k: result["vs"].get(k) for k in keys}
        out["differing_decisions"] = len(result.get("differing_decisions", []))
    return out


def _summary_text(result: dict) -> str:
    from engine.market.price_moves import suspect_warnings
    from engine.report.explain import iso

    runs = [result] + ([result["vs"]] if result.get("vs") else [])
    rows = [("", *[r["version"] for r in runs])]

    def add(label, fn):
        rows.append((label, *[fn(r) for r in runs]))

    add("window", lambda r: f"{iso(r['start'])} → {iso(r['end'])}" if r["start"] is not None else "—")
    add("cycles", lambda r: f"{r['cycles']:,}")
    add("trades", lambda r: f"{r['metrics']['trades']:,}")
    add("win rate", lambda r: f"{r['metrics']['win_rate'] * 100:.1f} %")
    add("net P&L", lambda r: f"{r['metrics']['net_pnl_usd']:+,.2f} USD ({r['metrics']['net_pnl_pct']:+.2f} %)")
    add("max drawdown", lambda r: f"{r['metrics']['max_drawdown_pct']:.2f} %")
    add("Sharpe", lambda r: "—" if r["metrics"]["sharpe"] is None else f"{r['metrics']['sharpe']:.2f}")
    add("exposure", lambda r: f"{r['metrics']['exposure_pct']:.1f} % of cycles")
    add("fees paid", lambda r: f"{r['metrics']['fees_usd']:,.2f} USD")
    add("funding paid", lambda r: f"{r['metrics']['funding_usd']:+,.2f} USD")
    reasons = sorted({k for r in runs for k in r["metrics"]["exit_reasons"]})
    for reason in reasons:
        add(f"exits {reason}", lambda r, reason=reason: str(r["metrics"]["exit_reasons"].get(reason, 0)))
    components = sorted({k for r in runs for k in r["metrics"]["attribution"]})
    for component in components:
        add(f"P&L {component}", lambda r, c=component: f"{r['metrics']['attribution'].get(c, 0.0):+,.2f}")
    add("fingerprint", lambda r: r["fingerprint"][:23])
    add("replay", lambda r: r.get("replay", "scalar"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    if result.get("vs"):
        lines.append(f"decisions that differ: {len(result.get('differing_decisions', [])):,}")
    lines += [f"warning: {text}" for text in suspect_warnings(result.get("suspect_prices") or {})]
    if result.get("untraded_symbols"):
        lines.append(
            f"note: {', '.join(result['untraded_symbols'])} in the snapshots but not in the rule set: not traded"
        )
    if result.get("unseen_symbols"):
        lines.append(f"warning: --symbols {', '.join(result['unseen_symbols'])}: not in the snapshots replayed")
    if not result["cycles"]:
        lines.append(
            "no snapshot falls in the window: nothing was replayed"
            if result.get("windowed", True)
            else "no snapshot could be read: nothing was replayed"
        )
    if result.get("interrupted"):
        lines.append("interrupted: the figures cover the cycles done before Ctrl-C")
    return "\n".join(lines)


@main.group()
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
def snapshots_build(spec, out_path) -> None:
    """Turn historical files (candles, funding, open interest, liquidations, fear & greed) named
    in SPEC into snapshots, each value visible only from the time it was published."""
    from adapters.snapshots.history import build_command

    sys.exit(build_command(spec, out_path, lambda line: click.echo(line, err=True)))


@snapshots.command("convert")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output file: .snapshots.parquet (columnar) or .jsonl / .jsonl.gz.",
)
def snapshots_convert(files, out_path) -> None:
    """Write the snapshots of FILES (any format, in time order) as one file: JSON-lines
    recordings become one columnar file, which the dry-run replays on its fast path."""
    from adapters.snapshots.history import convert_command

    sys.exit(convert_command(files, out_path, lambda line: click.echo(line, err=True)))


@snapshots.command("info")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def snapshots_info(files) -> None:
    """Symbols, time range, gaps and which inputs are present, per snapshot file."""
    from adapters.snapshots.history import info_command

    sys.exit(info_command(files, click.echo))


def _paper_broker(plan, store):
    """The paper broker, restored from the state database when a run resumes."""
    import json

    from adapters.paper.broker import PaperBroker
    from engine.language.diagnostics import ResumeError
    from engine.trading.runner import CURSOR

    saved = store.blob("broker")
    if saved is None:
        return PaperBroker.for_plan(plan)
    try:
        state = json.loads(saved)
        broker = PaperBroker.from_state(plan.venues.exchange(plan.venues.execution_venue), state)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise ResumeError(f"the saved paper-broker state cannot be resumed ({type(error).__name__}: {error})") from None
    cursor = store.cursor(CURSOR)
    if state["now"] != cursor:  # saved in one transaction with the cursor: apart, one of them was edited
        raise ResumeError(
            f"the saved paper-broker state cannot be resumed: it is at {state['now']!r}, the run's cursor at {cursor!r}"
        )
    return broker


class _Logs:
    """The JSON-lines logs of a run (logs/*.jsonl), opened together, closed together."""

    NAMES: ClassVar[dict[str, str]] = {
        "signals": "predictive_signals",
        "universe": "signal_universe",
        "exits": "exit_decisions",
        "trades": "executed_trades",
        "post_trade": "post_trade",
    }

    def __init__(self, folder: str, log_type):
        self.folder, self.log_type, self.open = folder, log_type, {}

    def __enter__(self):
        from pathlib import Path

        self.open = {key: self.log_type(Path(self.folder) / f"{name}.jsonl") for key, name in self.NAMES.items()}
        return self

    def sinks(self):
        from engine.trading.runner import Sinks

        writers = {key: log.write for key, log in self.open.items()}
        for key in ("signals", "universe"):  # these two hand over objects
            writers[key] = (lambda write: lambda obj: write(obj.as_dict()))(writers[key])
        return Sinks(**writers)

    def __exit__(self, *exc) -> None:
        for log in self.open.values():
            log.close()


def _load_plan(rules_dir: str, profile: str | None):
    """The compiled plan, or exit 1 with the rule problems printed."""
    from engine.language.compiler import compile_ruleset
    from engine.language.formats import as_text

    result = compile_ruleset(rules_dir, [profile] if profile else None)
    if not result.ok:
        click.echo(as_text(result.diagnostics), err=True)
        click.echo(f"{rules_dir}: invalid; fix the rules first (rulebot validate {rules_dir})", err=True)
        sys.exit(EXIT_INVALID)
    name = profile or next(iter(result.plans.values())).ruleset.default_profile
    return result.plans[name]


def _report_problems(problems: list) -> None:
    """The input's problems on stderr, the first 50 of them (then how many more)."""
    from engine.language.formats import as_text_capped

    if problems:
        click.echo(as_text_capped(problems), err=True)


def _snapshots(paths, problems: list):
    """Every valid snapshot of the files, in order (adapters.snapshots.columnar.read_many); problems
    are collected, not raised."""
    from adapters.snapshots.columnar import read_many

    return read_many(paths, problems)


def run() -> None:
    """Entry point that turns an unexpected exception into exit code 3, not a traceback."""
    import warnings

    # Rule expressions are parsed with Python's own parser; its SyntaxWarnings (e.g. for
    # `1and x`) are reported by rulebot as diagnostics, so the raw warning is noise here.
    warnings.filterwarnings("ignore", category=SyntaxWarning)
    from engine.language.diagnostics import RulebotError

    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except RulebotError as error:  # bad input or state, said plainly: exit 1
        click.echo(f"rulebot: {getattr(error, 'code', 'RB900')} error: {error}", err=True)
        sys.exit(EXIT_INVALID)
    except Exception as error:
        click.echo(
            f"rulebot: internal error: {type(error).__name__}: {error}\n"
            "This is a bug in rulebot, not in your rules; please report it with the command you ran.",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    run()
