"""Text that cannot be printed or hashed never crashes `validate`; long values are quoted short.

A quoted YAML ``"\\ud800"`` escape used to reach the version hash and the printed message
as a lone surrogate (UnicodeEncodeError, exit 3, no location). Schema messages used to
quote a 100,000-character value or a 400-digit number in full.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.language.compiler import compile_ruleset
from engine.language.diagnostics import Diagnostic
from engine.language.formats import FORMATS
from tests.rules.conftest import edit_once

ROOT = Path(__file__).resolve().parents[2]


def _findings(rules: Path) -> list[tuple]:
    return [(d.code, os.path.relpath(d.file, rules), d.line, d.col) for d in compile_ruleset(str(rules)).diagnostics]


SURROGATES = [  # where the escape goes, and where the finding must point
    ("ruleset.yaml", "name: seed-predictive-flow", 'name: "\\ud800"', (8, 7)),
    (
        "ruleset.yaml",
        "description: >-\n  The multi-factor predictive flow system of seed/000 (Trading Bot Complete "
        "Workflow\n  Documentation, 2025-12-16), every number transcribed as a rule value.",
        'description: "a\\ud800b"',
        (9, 14),
    ),
    ("requirements.yaml", "reason: SIGNAL_NEUTRAL}", 'reason: "SIG\\ud800"}', (11, 75)),
    ("signals.yaml", 'when: "is_leader"  ', 'when: "is_leader \\ud800"  ', (74, 15)),
]


@pytest.mark.parametrize("file,find,replace,where", SURROGATES)
def test_a_surrogate_escape_is_a_located_rb113(rules, file, find, replace, where):
    edit_once(rules / file, find, replace)
    assert _findings(rules) == [("RB113", file, *where)]


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_validate_prints_every_format_and_exits_1(rules, fmt):
    edit_once(rules / "ruleset.yaml", "name: seed-predictive-flow", 'name: "\\ud800"')
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "validate", str(rules), "--format", fmt],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 1, done.stderr
    assert b"RB113" in done.stdout and b"ruleset.yaml" in done.stdout


def test_a_diagnostic_quoting_unencodable_text_still_prints():
    found = Diagnostic(
        "RB206", 'bad "\ud800" here', file="rules/x\udcff.yaml", line=1, col=1, path="/k\ud800", suggestion="fix \udfff"
    )
    for render in FORMATS.values():
        render([found]).encode("utf-8")  # would raise UnicodeEncodeError before
    assert found.message == 'bad "\\ud800" here' and found.file == "rules/x\\udcff.yaml"
    assert json.loads(FORMATS["json"]([found]))[0]["path"] == "/k\\ud800"


def test_text_too_long_is_quoted_short(rules):
    edit_once(rules / "ruleset.yaml", "name: seed-predictive-flow", "name: " + "x" * 100_000)
    result = compile_ruleset(str(rules))
    assert sorted(d.code for d in result.diagnostics) == ["RB206", "RB210"]
    too_long = next(d for d in result.diagnostics if d.code == "RB210")
    assert "at most 200 characters, found 100000" in too_long.message
    assert len(too_long.message) < 150


def test_learn_bounds_message_is_quoted_short(rules):
    huge = "9" * 305 + "s"  # a finite duration, far outside the bounds
    edit_once(rules / "exits.yaml", "default: {value: 2h,", f"default: {{value: {huge},")
    result = compile_ruleset(str(rules))
    assert [d.code for d in result.diagnostics] == ["RB330"]
    assert "is outside min" in result.diagnostics[0].message
    assert len(result.diagnostics[0].message) < 150


def test_list_length_message_counts_instead_of_printing_the_list(rules):
    text = (rules / "gates.yaml").read_text(encoding="utf-8")
    start = text.index("chain:\n") + len("chain:\n")
    entry = "  - {id: state, kind: trading_state}\n"
    (rules / "gates.yaml").write_text(text[:start] + entry * 40 + text[start:], encoding="utf-8")
    too_many = [d for d in compile_ruleset(str(rules)).diagnostics if d.code == "RB207"]
    assert [d.message for d in too_many] == [f"list has {40 + _chain_length()} entries; at most 32 allowed"]


def _chain_length() -> int:
    from engine.language.yamlstrict import load_yaml_file

    return len(load_yaml_file(ROOT / "rules" / "gates.yaml")[0].data["chain"])


def test_unknown_key_message_cuts_a_huge_key(rules):
    edit_once(
        rules / "risk.yaml", "sizing:\n", "sizing:\n  " + "k" * 1000 + ": 1\n"
    )  # PyYAML caps plain keys near 1024
    unknown = [d for d in compile_ruleset(str(rules)).diagnostics if d.code == "RB201"]
    assert len(unknown) == 1 and len(unknown[0].message) < 300
