"""Golden outputs of `rulebot diff` (a real process) on two known versions: text and JSON,
with and without --replay. Regenerate with `python tests/versions/golden/regen.py`."""

from __future__ import annotations

import pytest

from .golden.harness import CASES, HERE, run


@pytest.mark.parametrize("name", sorted(CASES))
def test_diff_output_is_the_golden_one(name, tmp_path):
    done = run(name, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (HERE / name).read_text(encoding="utf-8")
