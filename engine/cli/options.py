"""What several commands share: reading the rules into a plan, and checking option values
(times, symbols, writable folders) before any work is done, so a bad value is a usage
error (exit 2) and never a finished run lost to it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from engine.cli import compose
from engine.cli.exit_codes import EXIT_INVALID

if TYPE_CHECKING:
    from engine.language.compiler import Plan
    from engine.language.diagnostics import Diagnostic

Window = list[float | None]  # [start, end] of --from/--to, None where open


def load_plan(rules_dir: str, profile: str | None) -> Plan:
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


def symbols_option(text: str | None, plan: Plan) -> set[str] | None:
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


def time_option(text: str, hint: str) -> float:
    """Epoch seconds of a time option; usage error saying why it is not one."""
    from engine.common.times import parse_time

    try:
        return parse_time(text)
    except ValueError as error:
        raise click.BadParameter(
            f"{text!r} is not a time ({error}); use ISO 8601 or epoch seconds", param_hint=hint
        ) from None


def window_option(from_text: str | None, to_text: str | None) -> Window:
    """[start, end] of --from/--to (None: open); usage error for a bad time or an empty span."""
    window: Window = [
        time_option(text, name) if text else None for name, text in (("--from", from_text), ("--to", to_text))
    ]
    start, end = window
    if start is not None and end is not None and start > end:
        raise click.BadParameter(f"{to_text!r} is before --from {from_text!r}", param_hint="--to")
    return window


def _folder(name: str, help_text: str) -> Any:
    """``--NAME DIR`` into ``NAME_dir``, default ``NAME``: one name, one default, one type."""
    return click.option(
        f"--{name}", f"{name}_dir", default=name, show_default=True, type=click.Path(file_okay=False), help=help_text
    )


def rules_folder(help_text: str) -> Any:
    """The ``--rules DIR`` option of the commands that read (or, learn and rollback, write
    learned/ of) a rules folder."""
    return _folder("rules", help_text)


def state_folder(help_text: str) -> Any:
    """The ``--state DIR`` option of the commands that work on a bot's state folder (run,
    status, halt/reduce/resume, versions, learn)."""
    return _folder("state", help_text)


def check_writable(folder: str | Path, hint: str) -> None:
    """Usage error unless ``folder`` can be created and a file written in it: found before a
    command does its work, not after (a finished run is never lost to a bad path)."""
    import tempfile

    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise click.BadParameter(
            f"cannot write into {str(folder)!r}: {error.strerror or error}", param_hint=hint
        ) from None


def report_problems(problems: list[Diagnostic]) -> None:
    """The input's problems on stderr, the first 50 of them (then how many more)."""
    from engine.language.formats import as_text_capped

    if problems:
        click.echo(as_text_capped(problems), err=True)


def progress(
    paths: tuple[str, ...], label: str, *, file: IO[str] | None = None, delay: float = 2, total: int | None = None
) -> Any:
    """A progress bar of snapshots with rate and ETA, on stderr and only on a terminal (stdout,
    the summary, never changes), shown once a run has taken ``delay`` seconds. ``total``: the
    snapshot count when the caller knows it already (else the files are counted, which reads
    their ts columns again)."""
    from tqdm import tqdm

    return tqdm(
        total=compose.count_snapshots(paths) if total is None else total,
        desc=label,
        unit="cycle",
        delay=delay,
        file=file or sys.stderr,
        disable=None,
        leave=False,
    )
