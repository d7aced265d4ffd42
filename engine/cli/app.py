"""The `rulebot` command: the root group, the commands it carries, and the entry point.

Heavy modules are imported inside each command, so `rulebot validate` starts fast (no
numpy, no pandas). One module per command group registers nothing by itself: the list
below is every command there is.

Exit codes (engine/cli/exit_codes.py): 0 success, 1 the rules (or input) are invalid,
2 usage error, 3 internal error (a bug in rulebot; the message says where to report it),
5 a result was printed but an output file could not be written (dry-run), 6 another rulebot
process holds the state database (RB805; paper), 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import sys

import click

from engine.cli import control, dryrun, explain, paper, snapshots, status, validate
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


COMMANDS: tuple[click.Command, ...] = (
    validate.validate,
    validate.schema,
    explain.explain,
    paper.paper,
    dryrun.dry_run_command,
    snapshots.snapshots,
    control.halt,
    control.reduce,
    control.resume,
    status.status,
)
for _command in COMMANDS:
    main.add_command(_command)


def run() -> None:
    """Entry point that turns an unexpected exception into exit code 3, not a traceback."""
    import warnings

    # Rule expressions are parsed with Python's own parser; its SyntaxWarnings (e.g. for
    # `1and x`) are reported by rulebot as diagnostics, so the raw warning is noise here.
    warnings.filterwarnings("ignore", category=SyntaxWarning)
    from engine.common.errors import RulebotError, StateLocked

    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except StateLocked as error:  # not invalid input: the same command works once the holder ends
        click.echo(f"rulebot: {error.code} error: {error}", err=True)
        sys.exit(EXIT_LOCKED)
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
