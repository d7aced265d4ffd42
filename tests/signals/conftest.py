"""Fixtures for the signal-stage tests (helpers live in tests/signals/helpers.py)."""

from __future__ import annotations

import shutil

import pytest

from engine.language.compiler import compile_ruleset
from tests.signals.helpers import RULES


class RulesCopy:
    """A writable copy of rules/ whose edits are exact text replacements."""

    def __init__(self, root):
        self.root = root

    def edit(self, file: str, find: str, replace: str) -> RulesCopy:
        path = self.root / file
        text = path.read_text(encoding="utf-8")
        assert text.count(find) == 1, f"{find!r} must occur once in {file}"
        path.write_text(text.replace(find, replace), encoding="utf-8")
        return self

    def compile(self):
        result = compile_ruleset(str(self.root))
        assert result.ok, [str(d) for d in result.diagnostics]
        return result.plans


@pytest.fixture()
def rules_copy(tmp_path) -> RulesCopy:
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    return RulesCopy(target)
