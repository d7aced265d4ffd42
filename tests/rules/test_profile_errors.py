"""A profile file that fails its own checks is reported for what is wrong with it only: it
exists, so "no such profile" (RB385, RB389) would send its author looking for a missing file."""

from __future__ import annotations

from engine.language.compiler import compile_ruleset
from tests.rules.conftest import edit_once


def test_a_bad_value_in_the_default_profile_names_only_that_value(rules):
    edit_once(rules / "profiles" / "paper.yaml", "slippage_bps: 2 ", "slippage_bps: -5 ")
    result = compile_ruleset(str(rules))
    assert not result.ok
    codes = {d.code for d in result.diagnostics}
    assert "RB385" not in codes and "RB389" not in codes
    [finding] = [d for d in result.diagnostics if d.is_error]
    assert finding.file.endswith("profiles/paper.yaml") and finding.code.startswith("RB2")
    assert "slippage_bps" in finding.path


def test_naming_a_profile_that_failed_to_load_reports_its_problem_not_its_absence(rules):
    edit_once(rules / "profiles" / "paper.yaml", "mode: paper", "mode: papr")
    result = compile_ruleset(str(rules), ["paper"])
    assert [d.file.endswith("profiles/paper.yaml") for d in result.diagnostics] == [True]
    assert result.diagnostics[0].path == "/mode"


def test_a_profile_file_that_is_really_missing_is_still_reported(rules):
    (rules / "profiles" / "paper.yaml").unlink()
    codes = [d.code for d in compile_ruleset(str(rules)).diagnostics]
    assert codes == ["RB385"]
    assert {d.code for d in compile_ruleset(str(rules), ["paper"]).diagnostics} == {"RB385", "RB389"}
