"""Golden tests: each mistake in validate_cases.yaml gives exactly the recorded findings."""

from __future__ import annotations

import json

import pytest

from tests.golden.harness import EXPECTED, load_cases, run_case

CASES = load_cases()
EXPECTED_FINDINGS = json.loads(EXPECTED.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_reports_exactly_the_recorded_findings(case, tmp_path):
    assert run_case(case, tmp_path) == EXPECTED_FINDINGS[case["name"]]


def test_every_case_has_a_recording_and_every_mistake_is_found():
    assert set(EXPECTED_FINDINGS) == {c["name"] for c in CASES}
    silent = [
        name for name, found in EXPECTED_FINDINGS.items() if not found and name != "yaml_scientific_notation_is_a_float"
    ]
    assert silent == []


def test_at_least_forty_distinct_codes_are_covered():
    codes = {finding[0] for found in EXPECTED_FINDINGS.values() for finding in found}
    assert len(codes) >= 40, sorted(codes)
