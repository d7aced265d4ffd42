"""Parsing snapshots: every field optional, bad fields dropped and reported, never a crash."""

from __future__ import annotations

import pytest

from engine.snapshot import parse_snapshot, snapshot_to_json


def test_minimal_snapshot_has_everything_missing():
    snap, problems = parse_snapshot({"ts": 10})
    assert problems == [] and snap.ts == 10 and dict(snap.symbols) == {} and snap.fear_greed is None


def test_fields_default_their_time_to_the_snapshot_and_keep_their_own():
    snap, _ = parse_snapshot({"ts": 100, "symbols": {"BTCUSDT": {"price": 5.0, "funding_rate": 0.001,
                                                                 "funding_rate_ts": 40}}})
    assert dict(snap.symbols["BTCUSDT"].times) == {"price": 100, "funding_rate": 40}


@pytest.mark.parametrize("obj, code", [([], "RB701"), ({"ts": "soon"}, "RB702"), ({"ts": float("nan")}, "RB702"),
                                       ({"v": 2, "ts": 1}, "RB705")])
def test_unusable_snapshots_are_rejected_with_a_code(obj, code):
    snap, problems = parse_snapshot(obj, "f.jsonl", 7)
    assert snap is None and [(p.code, p.file, p.line) for p in problems] == [(code, "f.jsonl", 7)]


@pytest.mark.parametrize("field, value", [("price", -1), ("price", "1"), ("price", True), ("liq_long_usd", -5),
                                          ("open_interest_usd", 0), ("funding_rate", float("inf"))])
def test_bad_values_are_dropped_and_reported(field, value):
    snap, problems = parse_snapshot({"ts": 1, "symbols": {"BTCUSDT": {field: value}}})
    assert field not in snap.symbols["BTCUSDT"].values
    assert [p.code for p in problems] == ["RB703"]


def test_bad_candles_and_books_are_dropped():
    snap, problems = parse_snapshot({"ts": 120, "symbols": {"BTCUSDT": {
        "candles": [[0, 10, 9, 8, 9.5, 1], [60, 10, 11, 9, 10.5, 1]],        # first: high below open
        "book": {"bids": [[1, -2]], "asks": []}}}})
    sym = snap.symbols["BTCUSDT"]
    assert [c.ts for c in sym.candles] == [60] and sym.book is None
    assert [p.code for p in problems] == ["RB703", "RB703"]


def test_unknown_fields_are_warnings():
    _, problems = parse_snapshot({"ts": 1, "extra": 1, "symbols": {"BTCUSDT": {"prce": 1}}})
    assert [(p.code, p.severity.value) for p in problems] == [("RB704", "warning"), ("RB704", "warning")]


def test_round_trip_through_json():
    obj = {"v": 1, "ts": 120.0, "fear_greed": 40.0, "fear_greed_ts": 0.0, "symbols": {"ETHUSDT": {
        "price": 2.0, "bid": 1.9, "ask": 2.1, "book": {"bids": [[1.9, 3.0]], "asks": [[2.1, 4.0]]},
        "candles": [[60.0, 1.0, 2.5, 0.5, 2.0, 7.0]], "funding_rate": -0.0001, "funding_rate_ts": 0.0}}}
    snap, problems = parse_snapshot(obj)
    assert problems == []
    again, _ = parse_snapshot(snapshot_to_json(snap))
    assert again == snap


def test_snapshot_schema_accepts_what_the_parser_writes_and_names_the_same_inputs():
    from jsonschema import Draft202012Validator

    from engine import schema
    from engine.snapshot import INPUT_NAMES
    from schemas.build import INPUTS

    assert sorted(INPUTS) == sorted(INPUT_NAMES)
    obj = {"v": 1, "ts": 120.0, "fear_greed": 40.0, "symbols": {"ETHUSDT": {
        "price": 2.0, "book": {"bids": [[1.9, 3.0]], "asks": [[2.1, 4.0]]}, "candles": [[60.0, 1.0, 2.5, 0.5, 2.0, 7.0]],
        "funding_rate": -0.0001, "funding_rate_ts": 0.0, "liq_long_usd": 5.0, "liquidations_ts": 100.0}}}
    snap, problems = parse_snapshot(obj)
    validator = Draft202012Validator(schema.load_schema("snapshot"))
    assert problems == [] and list(validator.iter_errors(snapshot_to_json(snap))) == []
    assert list(validator.iter_errors({"ts": 1, "symbols": {"BTCUSDT": {"prce": 1}}}))
