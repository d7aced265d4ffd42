"""Entries named like rule files that cannot be read are reported by name, never skipped.

A directory named ``ruleset.yaml`` used to give only "no `ruleset` file" at ``DIR:0:0``;
a broken symlink or a symlink loop ``x.yaml`` was skipped without a word.
"""

from __future__ import annotations

from pathlib import Path

from engine.language.compiler import compile_ruleset


def _findings(rules: Path) -> list[tuple]:
    return [(d.code, d.file, d.line, d.col, d.message) for d in compile_ruleset(str(rules)).diagnostics]


def test_a_directory_named_like_the_ruleset_file(rules):
    (rules / "ruleset.yaml").unlink()
    (rules / "ruleset.yaml").mkdir()
    assert _findings(rules) == [("RB116", f"{rules}/ruleset.yaml", 1, 1, "cannot read file: it is a directory")]


def test_a_broken_symlink(rules):
    (rules / "x.yaml").symlink_to(rules / "gone.yaml")
    assert _findings(rules) == [
        ("RB116", f"{rules}/x.yaml", 1, 1, "cannot read file: broken symbolic link (its target does not exist)")
    ]


def test_a_symlink_loop_in_profiles(rules):
    (rules / "profiles" / "x.yaml").symlink_to(rules / "profiles" / "x.yaml")
    found = _findings(rules)
    assert [f[:4] for f in found] == [("RB116", f"{rules}/profiles/x.yaml", 1, 1)]
    assert "symbolic links" in found[0][4]


def test_a_working_symlink_is_still_read(rules):
    target = rules.parent / "elsewhere.yaml"
    (rules / "risk.yaml").rename(target)
    (rules / "risk.yaml").symlink_to(target)
    assert compile_ruleset(str(rules)).ok
