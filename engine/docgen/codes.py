"""Which diagnostic codes each kind's page lists, and where each code is defined."""

from __future__ import annotations

import re

from engine.docgen.locations import ROOT
from engine.docgen.schema_walk import has_expressions, has_id_lists, has_learnables, schema_of

#: Codes defined outside the kind modules, listed on the pages of the kinds they concern.
#: (The kind modules' own CODES are listed on their kind's page automatically.)
CODE_KINDS = {
    "RB211": ("schedules",),
    "RB300": (),  # derived: every kind with lists of elements that have ids
    "RB330": (),  # derived: every kind with learnable values
    "RB345": ("exits", "risk"),
    "RB380": ("requirements", "ruleset"),
    "RB381": ("venues", "ruleset"),
    "RB382": ("venues",),
    "RB383": ("risk", "exits"),
    "RB384": ("learning", "schedules"),
    "RB385": ("ruleset", "profile"),
    "RB386": ("risk", "venues"),
    "RB387": ("venues", "ruleset"),
    "RB388": ("ruleset", "signals"),
    "RB389": ("profile",),
    "RB390": ("risk", "exits"),
    "RB391": ("learning", "schedules"),
    "RB392": ("signals", "venues"),
    "RB506": ("profile", "learned"),
    "RB508": ("profile",),
    "RB520": ("profile", "learned"),
    "RB521": ("learned",),
    "RB522": ("learned",),
    "RB523": ("learned",),
    "RB524": ("learned", "learning"),
    "RB525": ("profile",),
    "RB526": ("learned",),
    "RB527": ("learned",),
    "RB528": ("learned",),
    "RB529": ("learned",),
}

# ``"RBnnn": "…"`` or ``NAME: f"…"`` at the start of a line: a code's entry in a CODES table.
_ENTRY = re.compile(r'^\s*(?:"(RB\d{3})"|([A-Z_]+))\s*:\s*(?:f?")', re.M)
# ``NAME = "RBnnn"``: a module constant naming a code.
_CONSTANT = re.compile(r'^([A-Z_]+)\s*=\s*"(RB\d{3})"', re.M)


def code_sources() -> dict[str, str]:
    """Code → repo-relative file that defines it (found in the source text; docgen's own
    tables mention codes without defining them, so its package is skipped)."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "engine").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("engine/docgen/"):
            continue
        text = path.read_text(encoding="utf-8")
        constants = dict(_CONSTANT.findall(text))
        for match in _ENTRY.finditer(text):
            code = match.group(1) or constants.get(match.group(2) or "")
            if code:
                found.setdefault(code, rel)
    return found


def codes_of(kind: str) -> list[str]:
    """Diagnostic codes a file of ``kind`` can get, beyond the generic RB1xx/RB2xx/RB5xx."""
    from engine.language.codes import ALL_CODES
    from engine.language.kinds import KINDS

    root = schema_of(kind)
    codes = set(KINDS[kind].CODES) if kind in KINDS else set()
    codes |= {code for code, kinds in CODE_KINDS.items() if kind in kinds}
    if has_id_lists(root) and kind in KINDS:
        codes.add("RB300")
    if has_learnables(root):
        codes.add("RB330")
    return sorted(c for c in codes if c in ALL_CODES)


def kinds_of_code() -> dict[str, list[str]]:
    """Code → kinds whose page lists it (expression codes: the kinds with expressions)."""
    from engine.language.expr import CODES as EXPR_CODES
    from engine.language.loader import ALL_KINDS

    found: dict[str, list[str]] = {}
    for kind in ALL_KINDS:
        codes = codes_of(kind) + (sorted(EXPR_CODES) if has_expressions(schema_of(kind)) else [])
        for code in codes:
            found.setdefault(code, []).append(kind)
    return found
