"""A stored version's content written back as rule files compiles to the same version id:
for the default rules and for a rule set with a learned overlay."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.language.compiler import compile_ruleset
from engine.versions.content import files_of, materialise
from engine.versions.errors import VersionError

from .helpers import ROOT, with_learned


def test_the_default_rules_round_trip(tmp_path):
    result = compile_ruleset(str(ROOT / "rules"))
    folder = materialise(result.canonical, tmp_path / "v")
    again = compile_ruleset(str(folder))
    assert again.ok and again.version == result.version and again.canonical == result.canonical


def test_a_rule_set_with_a_learned_overlay_round_trips(tmp_path):
    rules = with_learned(tmp_path / "rules")
    result = compile_ruleset(str(rules))
    assert result.ok and len(result.canonical["learned"]) == 1
    folder = materialise(result.canonical, tmp_path / "v")
    assert sorted(p.name for p in (folder / "learned").iterdir()) == ["0001-signal_weights.yaml"]
    assert compile_ruleset(str(folder)).version == result.version


def test_a_non_empty_folder_or_bad_content_is_refused(tmp_path):
    shutil.copytree(ROOT / "rules", tmp_path / "full")
    with pytest.raises(VersionError) as err:
        materialise(compile_ruleset(str(ROOT / "rules")).canonical, tmp_path / "full")
    assert err.value.code == "RB833"
    with pytest.raises(VersionError, match="not a rule set"):
        files_of({"base": []})
    assert not Path(tmp_path / "nothing").exists()
