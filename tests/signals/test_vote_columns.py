"""vote_columns gives, for every cycle at once, exactly the Vote the scalar vote() gives:
direction, aligned count, conviction and a bit-identical confidence — on the bundled sample
and on random component answers with both voting rules and both confidence bases."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.snapshots.columnar import read_recording
from engine.language.compiler import compile_ruleset
from engine.replay.columns.signals import ColumnSignals, vote_columns
from engine.trading.signals.answer import Answer
from engine.trading.signals.vote import vote

ROOT = Path(__file__).resolve().parents[2]
NAMES = {1: "LONG", -1: "SHORT", 0: "NEUTRAL"}


@pytest.fixture(scope="module")
def plan():
    return compile_ruleset(str(ROOT / "rules")).plans["paper"]


def _assert_vote(columns, i: int, expected) -> None:
    assert NAMES[int(columns.direction[i])] == expected.direction
    assert columns.conviction[i] == expected.conviction
    if expected.direction != "NEUTRAL":
        assert int(columns.aligned_count[i]) == expected.aligned_count
        assert float(columns.confidence[i]) == expected.confidence  # bit-identical, not approximately


def test_the_sample_votes_match_the_scalar_records_cycle_by_cycle(plan):
    recording = read_recording(ROOT / "data" / "sample" / "sample.snapshots.parquet")
    signals = ColumnSignals(plan, recording)
    checked = 0
    for i in range(0, len(recording), 7):
        signals.cursor = i
        for symbol in signals.symbols:
            _assert_vote(signals.votes[symbol], i, signals.evaluate(symbol, float(recording.ts[i])).vote)
            checked += 1
    assert checked > 6000


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_random_answers_vote_as_the_scalar_vote(plan, data):
    spec = plan.signals
    spec = dataclasses.replace(
        spec,
        direction_by=data.draw(st.sampled_from(["votes", "weight"])),
        confidence_basis=data.draw(st.sampled_from(["aligned_weight", "total_weight"])),
    )
    k, n = len(spec.components), data.draw(st.integers(1, 12))
    directions = np.array(
        data.draw(st.lists(st.lists(st.sampled_from([1, -1, 0]), min_size=n, max_size=n), min_size=k, max_size=k)),
        dtype=np.int8,
    )
    confidences = np.array(
        data.draw(st.lists(st.lists(st.floats(0, 1), min_size=n, max_size=n), min_size=k, max_size=k))
    )
    columns = vote_columns(spec, directions, confidences)
    for i in range(n):
        answers = [
            (c, Answer(NAMES[int(directions[j, i])], float(confidences[j, i]), (), MappingProxyType({})))
            for j, c in enumerate(spec.components)
        ]
        _assert_vote(columns, i, vote(spec, answers))
