"""The `rulebot` command line. Heavy modules are imported inside each command, so
`rulebot validate` starts fast (no numpy, no pandas).

Exit codes: 0 success, 1 the rules (or input) are invalid, 2 usage error,
3 internal error (a bug in rulebot; the message says where to report it).
"""

from __future__ import annotations

import sys

import click

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rulebot")
def main() -> None:
    """rulebot: a crypto-futures trading bot whose behaviour lives in YAML rule files."""


@main.command()
@click.argument("rules_dir", default="rules", type=click.Path(exists=True, file_okay=False))
@click.option("--profile", type=click.Choice(["paper", "live"]), help="Check one profile (default: all).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="Output format.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(rules_dir: str, profile: str | None, fmt: str, strict: bool) -> None:
    """Check every rule file in RULES_DIR and report every problem at once."""
    from engine.compiler import compile_ruleset
    from engine.report import FORMATS

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
        summary = (f"{rules_dir}: valid, version {result.version} "
                   f"(profiles: {', '.join(sorted(result.plans))}; {warnings} warning(s))")
    click.echo(summary, err=fmt != "text")
    sys.exit(EXIT_INVALID if failed else EXIT_OK)


@main.command()
@click.argument("kind", required=False)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Write the files into this folder.")
def schema(kind: str | None, out_dir: str | None) -> None:
    """Print (or export with --out) the JSON Schema of KIND, or of every kind.

    The export also writes vocabulary.json: the names expressions may use, per context.
    """
    from engine.schemaexport import export

    try:
        export(kind, out_dir, echo=click.echo)
    except KeyError as error:
        raise click.BadParameter(str(error.args[0]), param_hint="KIND") from None


def run() -> None:
    """Entry point that turns an unexpected exception into exit code 3, not a traceback."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as error:  # noqa: BLE001 - the last line of defence
        click.echo(f"rulebot: internal error: {type(error).__name__}: {error}\n"
                   "This is a bug in rulebot, not in your rules; please report it with the command you ran.",
                   err=True)
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    run()
