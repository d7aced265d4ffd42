"""engine.common.errors: every error rulebot raises on purpose is a RulebotError with a
documented code, keeps the builtin base its callers catch, and is listed in the docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.snapshots.columnar import ColumnarError
from adapters.store.state import StateError
from engine.common.errors import (
    BuildSourceError,
    ResumeError,
    RulebotError,
    RuleNumericError,
    RuleRuntimeError,
    RuleSetInvalid,
    StateLocked,
)
from engine.language.codes import ALL_CODES
from engine.language.diagnostics import Diagnostic
from engine.language.expr.compiled import MissingInputError
from engine.language.paths import PathError, resolve
from engine.replay.recording import NotReplayable

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {
    RulebotError: "RB900",
    RuleSetInvalid: "RB500",
    RuleRuntimeError: "RB600",
    RuleNumericError: "RB601",
    MissingInputError: "RB600",
    ResumeError: "RB804",
    StateLocked: "RB805",
    StateError: "RB800",
    PathError: "RB520",
    NotReplayable: "RB720",
    ColumnarError: "RB710",
    BuildSourceError: "RB715",
}


def _tree(cls: type) -> set[type]:
    return {cls}.union(*(_tree(sub) for sub in cls.__subclasses__()))


def test_every_class_has_its_documented_code():
    assert {cls: cls.code for cls in EXPECTED} == EXPECTED
    assert all(cls.code in ALL_CODES for cls in _tree(RulebotError))


def test_callers_of_the_builtin_bases_still_catch_them():
    with pytest.raises(LookupError) as caught:
        resolve({"risk": {"leverage": 3}}, "risk.leverag")
    assert isinstance(caught.value, PathError) and caught.value.suggestion == "did you mean 'leverage'?"
    assert issubclass(NotReplayable, ValueError)


def test_the_snapshot_build_source_error_is_in_the_tree():
    from adapters.snapshots.history.sources import SourceError

    assert issubclass(SourceError, BuildSourceError) and SourceError("x").code == "RB715"


def test_rule_set_invalid_sorts_its_findings_and_summarises_the_first():
    late = Diagnostic("RB201", "wrong type", file="b.yaml", line=3, col=1)
    early = Diagnostic("RB104", "duplicate key", file="a.yaml", line=9, col=5)
    error = RuleSetInvalid([late, early])
    assert error.diagnostics == [early, late]
    assert str(error) == "2 problem(s); first: a.yaml:9:5: RB104 duplicate key"
    assert str(RuleSetInvalid([])) == "0 problem(s)"


def test_a_state_error_says_which_kind_of_refusal():
    assert StateError("newer schema", code="RB801").code == "RB801"
    assert StateError("locked").code == "RB800"


def test_the_architecture_page_lists_every_error_with_its_code():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Errors\n") :]
    section = section[: section.find("\n## ", 1)] if "\n## " in section[1:] else section
    for cls in _tree(RulebotError):
        row = re.search(rf"^\| `{cls.__name__}` \|.*$", section, re.M)
        assert row, f"{cls.__name__} is not in docs/architecture.md#errors"
        assert f"`{cls.code}`" in row.group(0), cls.__name__
