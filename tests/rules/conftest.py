"""Shared fixture of the rule tests: a private copy of the default rules to edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def rules(tmp_path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target


def edit_once(path: Path, find: str, replace: str) -> None:
    """Replace ``find``, which must occur exactly once (an edit that silently misses would
    test the unedited rules)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(find) == 1, find
    path.write_text(text.replace(find, replace), encoding="utf-8")
