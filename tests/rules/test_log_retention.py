"""learning.logs.keep: how long `rulebot paper` keeps its closed log days. The logs are what
the learners read, so a retention shorter than their look-back (trade_lookback, the signal
resolution horizons) is an error (RB395), as is one that is not whole days (a day is closed
whole)."""

from __future__ import annotations

from pathlib import Path

from engine.language.compiler import compile_ruleset
from tests.rules.conftest import edit_once

ROOT = Path(__file__).resolve().parents[2]
KEEP = "  keep: 30d"


def _found(rules: Path) -> list[tuple[str, int, str]]:
    result = compile_ruleset(str(rules))
    return [(d.code, d.line, d.message) for d in result.diagnostics if d.is_error]


def _line(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_the_default_rules_keep_thirty_days():
    result = compile_ruleset(str(ROOT / "rules"))
    assert result.ok
    assert result.plans["paper"].learning.logs_keep_s == 30 * 86400


def test_without_a_logs_section_the_default_applies(rules):
    path = rules / "learning.yaml"
    edit_once(path, "logs:\n" + KEEP + "   ", "#")
    result = compile_ruleset(str(rules))
    assert result.ok, [str(d) for d in result.diagnostics]
    assert result.plans["paper"].learning.logs_keep_s == 30 * 86400


def test_keeping_less_than_the_learners_read_is_an_error_at_its_value(rules):
    path = rules / "learning.yaml"
    edit_once(path, KEEP, "  keep: 3d")  # trade_lookback is 168h
    (found,) = _found(rules)
    assert found[:2] == ("RB395", _line(path, "keep: 3d"))
    assert "shorter than what the learners read (trade_lookback 168h)" in found[2]


def test_keeping_exactly_the_look_back_is_allowed(rules):
    path = rules / "learning.yaml"
    edit_once(path, KEEP, "  keep: 7d")
    assert _found(rules) == []


def test_a_retention_off_whole_days_is_an_error(rules):
    path = rules / "learning.yaml"
    edit_once(path, KEEP, "  keep: 200h")
    (found,) = _found(rules)
    assert found[0] == "RB395" and "kept whole days" in found[2]
