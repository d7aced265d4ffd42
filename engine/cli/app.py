"""The `rulebot` command: the root group, the commands it carries, and the entry point.

A command's module is imported only when that command runs (or when help lists them), and
heavy modules only inside each command, so `rulebot validate` starts fast (no numpy, no
pandas) and `rulebot explain` does not pay for the report, paper or the snapshot builder.
One module per command group registers nothing by itself: COMMANDS below is every
command there is.

Exit codes (engine/cli/exit_codes.py): 0 success, 1 the rules (or input) are invalid,
2 usage error, 3 internal error (a bug in rulebot; the message says where to report it),
5 a result was printed but an output file could not be written (dry-run), 6 another rulebot
process holds the state database (RB805; run, paper), 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, MutableMapping

import click

from engine.cli.exit_codes import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_USAGE,
)

__all__ = [
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_OUTPUT",
    "EXIT_USAGE",
    "main",
    "run",
]

#: Every command: its name and where it lives ("module:attribute"), imported on first use.
COMMANDS: dict[str, str] = {
    "validate": "engine.cli.validate:validate",
    "schema": "engine.cli.validate:schema",
    "explain": "engine.cli.explain:explain",
    "paper": "engine.cli.paper:paper",
    "dry-run": "engine.cli.dryrun:dry_run_command",
    "snapshots": "engine.cli.snapshots:snapshots",
    "halt": "engine.cli.control:halt",
    "reduce": "engine.cli.control:reduce",
    "resume": "engine.cli.control:resume",
    "status": "engine.cli.status:status",
    "run": "engine.cli.run:run",
    "learn": "engine.cli.learn:learn",
    "versions": "engine.cli.versions:versions",
    "diff": "engine.cli.diff:diff",
    "rollback": "engine.cli.versions:rollback",
    "record": "engine.cli.record:record",
    "venue": "engine.cli.venue:venue",
    "sweep": "engine.cli.sweep:sweep",
}


class LazyCommands(MutableMapping[str, click.Command]):
    """A click group's command table that imports a command's module on first access.

    click looks commands up in ``group.commands`` (and lists its keys for help), so the
    names are known at once while `rulebot explain` imports only engine/cli/explain.py."""

    def __init__(self, where: dict[str, str]) -> None:
        self._where = dict(where)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, _, attribute = self._where[name].partition(":")  # KeyError: no such command
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command) or command.name != name:
                raise TypeError(f"{self._where[name]} is not the click command {name!r}")
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._where.pop(name, None)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._where and name not in self._loaded:
            raise KeyError(name)
        self._where.pop(name, None)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter({**self._where, **self._loaded})

    def __len__(self) -> int:
        return len(self._where.keys() | self._loaded.keys())


@click.group(
    commands=LazyCommands(COMMANDS),
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="rulebot")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How log records look on stderr: text lines or JSON lines.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    help="The least severe log records shown on stderr.",
)
def main(log_format: str, log_level: str) -> None:
    """rulebot: a crypto-futures trading bot whose behaviour lives in YAML rule files."""
    from engine.cli import logs

    logs.configure(log_format, log_level)


def run() -> None:
    """Entry point that turns an unexpected exception into exit code 3, not a traceback."""
    import warnings

    # Rule expressions are parsed with Python's own parser; its SyntaxWarnings (e.g. for
    # `1and x`) are reported by rulebot as diagnostics, so the raw warning is noise here.
    warnings.filterwarnings("ignore", category=SyntaxWarning)
    from engine.common.errors import RulebotError, StateLocked
    from engine.common.redaction import redact

    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except StateLocked as error:  # not invalid input: the same command works once the holder ends
        click.echo(f"rulebot: {error.code} error: {error}", err=True)
        sys.exit(EXIT_LOCKED)
    except RulebotError as error:  # bad input or state, said plainly: exit 1
        click.echo(f"rulebot: {getattr(error, 'code', 'RB900')} error: {redact(str(error))}", err=True)
        sys.exit(EXIT_INVALID)
    except Exception as error:
        click.echo(
            f"rulebot: internal error: {type(error).__name__}: {redact(str(error))}\n"
            "This is a bug in rulebot, not in your rules; please report it with the command you ran.",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
