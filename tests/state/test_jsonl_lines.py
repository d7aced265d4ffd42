"""adapters/store/jsonl.py ``lines``: a record nested as the last value of another is made
once and spliced in; every line must be exactly the text ``line`` makes of its record."""

from __future__ import annotations

import math

import pytest

from adapters.store.jsonl import line, lines


def test_nested_records_give_the_same_text_as_line() -> None:
    signal = {"ts": 1.5, "reasons": ["é", "x"], "inputs": {"rsi": None}, "n": 3}
    decision = {"outcome": "NO_TRADE", "checks": [{"id": "a"}], "signal": signal}
    only = {"signal": signal}
    records = [decision, signal, only, {"k": 1}, {}, {"outer": decision}, [1, 2], "text"]
    assert lines(records) == [line(record) for record in records]


def test_a_shared_dict_not_logged_alone_is_serialised_in_place() -> None:
    inner = {"a": 1}
    records = [{"x": inner}, {"y": inner}]
    assert lines(records) == ['{"x":{"a":1}}', '{"y":{"a":1}}']


def test_non_finite_numbers_are_refused_nested_or_not() -> None:
    signal = {"confidence": math.nan}
    with pytest.raises(ValueError):
        lines([{"signal": signal}, signal])
