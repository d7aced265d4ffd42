"""The report's "Signal coverage" section: per signal component, the share of cycles its
inputs were present in and the share it voted in, per rule set and per symbol, with a
warning for each component that never voted (engine.trading.signals.coverage).

Rendered here from its own template (templates/coverage.html.j2) and placed on the page as
one ready-made block, so the section is self-standing. Malformed data never raises: a
result without usable coverage gives a note.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from engine.trading.signals.coverage import coverage_warnings


def coverage_section(result: dict) -> Markup:
    """The section's HTML for a dry-run ``result`` (and its ``vs`` run, if any)."""
    vs = result.get("vs") if isinstance(result.get("vs"), dict) else None
    runs = [_run(result, "A", vs is not None)] + ([_run(vs, "B", True)] if vs is not None else [])
    return Markup(_template().render(runs=runs))


def _run(result: dict, key: str, compared: bool) -> dict[str, Any]:
    coverage: Any = result.get("coverage")
    version = result.get("version") if isinstance(result.get("version"), str) else "(unknown version)"
    title = f"{key}: {version}" if compared else version
    try:
        symbols = [str(s) for s in coverage["symbols"]]
        rows = [_row(name, c, symbols) for name, c in coverage["components"].items()]
        cycles = int(coverage["cycles"])
        warnings = coverage_warnings(coverage)
    except (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError):
        return {"key": key, "title": title, "rows": [], "symbols": [], "cycles": "", "warnings": []}
    if not cycles:
        rows = []
    return {"key": key, "title": title, "rows": rows, "symbols": symbols, "cycles": f"{cycles:,}", "warnings": warnings}


def _row(name: str, c: dict, symbols: list[str]) -> dict[str, Any]:
    voted = int(c["voted_long"]) + int(c["voted_short"])
    return {
        "component": str(name),
        "inputs": ", ".join(str(i) for i in c["inputs"]),
        "present": _share(c["inputs_present"], c["cycles"]),
        "voted": _share(voted, c["cycles"]),
        "sides": f"{int(c['voted_long']):,} / {int(c['voted_short']):,}",
        "never": voted == 0,
        "by_symbol": [_cell(c["by_symbol"][s]) for s in symbols],
    }


def _cell(c: dict) -> str:
    voted = int(c["voted_long"]) + int(c["voted_short"])
    return f"{_share(c['inputs_present'], c['cycles'])} · {_share(voted, c['cycles'])}"


def _share(part: Any, whole: Any) -> str:
    part, whole = int(part), int(whole)
    return f"{100.0 * part / whole:.1f} %" if whole else "—"


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    source = resources.files("engine.report").joinpath("templates/coverage.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(source)
