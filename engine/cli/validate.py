"""`rulebot validate` and `rulebot schema`: check a rule set, export the rule-file schemas."""

from __future__ import annotations

import sys

import click

from engine.cli import render
from engine.cli.exit_codes import EXIT_INVALID, EXIT_OK
from engine.cli.options import check_writable


@click.command()
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
@click.option(
    "--sweep",
    "sweep_specs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Also check this `rulebot sweep` spec against the rule set (repeatable).",
)
def validate(rules_dir: str, profile: str | None, fmt: str, strict: bool, sweep_specs: tuple[str, ...]) -> None:
    """Check every rule file in RULES_DIR (and every --sweep spec against it) and report
    every problem at once."""
    from engine.language.compiler import compile_ruleset
    from engine.language.formats import FORMATS
    from engine.sweeps.spec import load_spec

    result = compile_ruleset(rules_dir, [profile] if profile else None)
    documents = (result.canonical or {}).get("base", {})
    swept = {path: load_spec(path, documents)[1] if result.ok else [] for path in sweep_specs}
    rendered = FORMATS[fmt]([*result.diagnostics, *(d for found in swept.values() for d in found)])
    if rendered:
        click.echo(rendered)
    failed = not result.ok or bool(strict and result.warnings())
    click.echo(render.validate_verdict(result, rules_dir, failed), err=fmt != "text")
    for path, found in swept.items():
        verdict = f"{len(found)} error(s)" if found else "valid" if result.ok else "not checked (the rules are invalid)"
        click.echo(f"{path}: sweep spec {verdict}", err=fmt != "text")
    sys.exit(EXIT_INVALID if failed or any(swept.values()) else EXIT_OK)


@click.command()
@click.argument("kind", required=False)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Write the files into this folder.")
def schema(kind: str | None, out_dir: str | None) -> None:
    """Print (or export with --out) the JSON Schema of KIND, or of every kind.

    The export also writes vocabulary.json: the names expressions may use, per context.
    """
    from engine.language.schemagen.export import export

    if out_dir:
        check_writable(out_dir, "--out")
    try:
        export(kind, out_dir, echo=click.echo)
    except KeyError as error:
        raise click.BadParameter(str(error.args[0]), param_hint="KIND") from None
