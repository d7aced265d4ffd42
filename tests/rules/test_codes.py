"""Diagnostic codes are stable and documented: every code the engine emits is listed once."""

from __future__ import annotations

import re
from pathlib import Path

from engine.language.codes import ALL_CODES

ROOT = Path(__file__).resolve().parents[2]


def test_every_code_in_the_source_is_listed_and_every_listed_code_is_used():
    used = set()
    for path in [*ROOT.joinpath("engine").rglob("*.py"), *ROOT.joinpath("adapters").rglob("*.py")]:
        used |= set(re.findall(r"\"(RB\d{3})\"", path.read_text(encoding="utf-8")))
    assert used == set(ALL_CODES)


def test_codes_have_the_documented_shape():
    assert all(re.fullmatch(r"RB\d{3}", code) and text for code, text in ALL_CODES.items())
