"""Parsing snapshots: every field optional, bad fields dropped and reported, never a crash."""

from __future__ import annotations

import pytest

from engine.market.snapshot import parse_snapshot, snapshot_to_json

T = 1_748_131_200  # 2025-05-25 00:00 UTC: times must be those of market data (2009-2100)


def test_minimal_snapshot_has_everything_missing():
    snap, problems = parse_snapshot({"ts": T})
    assert problems == [] and snap.ts == T and dict(snap.symbols) == {} and snap.fear_greed is None


def test_fields_default_their_time_to_the_snapshot_and_keep_their_own():
    snap, _ = parse_snapshot(
        {"ts": T + 100, "symbols": {"BTCUSDT": {"price": 5.0, "funding_rate": 0.001, "funding_rate_ts": T + 40}}}
    )
    assert dict(snap.symbols["BTCUSDT"].times) == {"price": T + 100, "funding_rate": T + 40}


@pytest.mark.parametrize(
    "obj, code",
    [([], "RB701"), ({"ts": "soon"}, "RB702"), ({"ts": float("nan")}, "RB702"), ({"v": 2, "ts": T}, "RB705")],
)
def test_unusable_snapshots_are_rejected_with_a_code(obj, code):
    snap, problems = parse_snapshot(obj, "f.jsonl", 7)
    assert snap is None and [(p.code, p.file, p.line) for p in problems] == [(code, "f.jsonl", 7)]


@pytest.mark.parametrize(
    "field, value",
    [
        ("price", -1),
        ("price", "1"),
        ("price", True),
        ("liq_long_usd", -5),
        ("open_interest_usd", 0),
        ("funding_rate", float("inf")),
    ],
)
def test_bad_values_are_dropped_and_reported(field, value):
    snap, problems = parse_snapshot({"ts": T, "symbols": {"BTCUSDT": {field: value}}})
    assert field not in snap.symbols["BTCUSDT"].values
    assert [p.code for p in problems] == ["RB703"]


def test_bad_candles_and_books_are_dropped():
    snap, problems = parse_snapshot(
        {
            "ts": T + 120,
            "symbols": {
                "BTCUSDT": {
                    "candles": [[T, 10, 9, 8, 9.5, 1], [T + 60, 10, 11, 9, 10.5, 1]],  # first: high below open
                    "book": {"bids": [[1, -2]], "asks": []},
                }
            },
        }
    )
    sym = snap.symbols["BTCUSDT"]
    assert [c.ts for c in sym.candles] == [T + 60] and sym.book is None
    assert [p.code for p in problems] == ["RB703", "RB703"]


def test_unknown_fields_are_warnings():
    _, problems = parse_snapshot({"ts": T, "extra": 1, "symbols": {"BTCUSDT": {"prce": 1}}})
    assert [(p.code, p.severity.value) for p in problems] == [("RB704", "warning"), ("RB704", "warning")]


def test_round_trip_through_json():
    obj = {
        "v": 1,
        "ts": T + 120.0,
        "fear_greed": 40.0,
        "fear_greed_ts": T + 0.0,
        "symbols": {
            "ETHUSDT": {
                "price": 2.0,
                "bid": 1.9,
                "ask": 2.1,
                "book": {"bids": [[1.9, 3.0]], "asks": [[2.1, 4.0]]},
                "candles": [[T + 60.0, 1.0, 2.5, 0.5, 2.0, 7.0]],
                "funding_rate": -0.0001,
                "funding_rate_ts": T + 0.0,
            }
        },
    }
    snap, problems = parse_snapshot(obj)
    assert problems == []
    again, _ = parse_snapshot(snapshot_to_json(snap))
    assert again == snap


def test_snapshot_schema_accepts_what_the_parser_writes_and_names_the_same_inputs():
    from jsonschema import Draft202012Validator

    from engine.language import schema
    from engine.language.schemagen.dsl import INPUTS
    from engine.market.snapshot import INPUT_NAMES

    assert sorted(INPUTS) == sorted(INPUT_NAMES)
    obj = {
        "v": 1,
        "ts": T + 120.0,
        "fear_greed": 40.0,
        "symbols": {
            "ETHUSDT": {
                "price": 2.0,
                "book": {"bids": [[1.9, 3.0]], "asks": [[2.1, 4.0]]},
                "candles": [[T + 60.0, 1.0, 2.5, 0.5, 2.0, 7.0]],
                "funding_rate": -0.0001,
                "funding_rate_ts": T + 0.0,
                "liq_long_usd": 5.0,
                "liquidations_ts": T + 100.0,
            }
        },
    }
    snap, problems = parse_snapshot(obj)
    validator = Draft202012Validator(schema.load_schema("snapshot"))
    assert problems == [] and list(validator.iter_errors(snapshot_to_json(snap))) == []
    assert list(validator.iter_errors({"ts": 1, "symbols": {"BTCUSDT": {"prce": 1}}}))


# ------------------------------------------------------------------ times outside market data


@pytest.mark.parametrize(
    "ts, hint",
    [
        (T * 1000, "milliseconds: divide by 1000"),
        (T * 1_000_000, "microseconds: divide by 1000000"),
        (1e300, ""),
        (0, ""),
        (-5, ""),
        (4_102_444_801, ""),
        (1_230_940_799, ""),
    ],
)
def test_a_ts_outside_market_times_is_rb702_with_the_likely_unit(ts, hint):
    """Milliseconds read as seconds are the year 57000: a replay would catch up its daily
    jobs one day at a time (1e300 hung dry-run outright). The snapshot is refused."""
    snap, problems = parse_snapshot({"ts": ts, "symbols": {"BTCUSDT": {"price": 1.0}}}, "f.jsonl", 7)
    assert snap is None
    assert [(p.code, p.file, p.line, p.suggestion) for p in problems] == [
        ("RB702", "f.jsonl", 7, hint and f"it looks like {hint}")
    ]
    assert "is not epoch seconds from 2009-01-03 to 2100-01-01 UTC" in problems[0].message


def test_the_ends_of_the_range_are_times():
    from engine.common.times import EARLIEST_TS, LATEST_TS

    for ts in (EARLIEST_TS, LATEST_TS):
        snap, problems = parse_snapshot({"ts": ts})
        assert snap.ts == ts and problems == []


def test_an_input_time_outside_market_times_is_dropped_and_the_input_dates_from_ts():
    snap, problems = parse_snapshot(
        {
            "ts": T,
            "fear_greed": 40,
            "fear_greed_ts": 1e300,
            "symbols": {
                "BTCUSDT": {
                    "funding_rate": 0.001,
                    "funding_rate_ts": T * 1000,
                    "candles": [[(T - 120) * 1000, 1, 2, 0.5, 1.5, 3], [T - 60, 1, 2, 0.5, 1.5, 3]],
                }
            },
        },
        "f.jsonl",
        3,
    )
    sym = snap.symbols["BTCUSDT"]
    assert sym.values["funding_rate"] == 0.001 and sym.times["funding_rate"] == T
    assert [c.ts for c in sym.candles] == [T - 60]
    assert snap.fear_greed == 40 and snap.fear_greed_ts == T
    assert [(p.code, p.path, p.line) for p in problems] == [
        ("RB703", "/symbols/BTCUSDT/funding_rate_ts", 3),
        ("RB703", "/symbols/BTCUSDT/candles/0", 3),
        ("RB703", "/fear_greed_ts", 3),
    ]
    assert "milliseconds" in problems[0].suggestion and "open time" in problems[1].message


def test_an_integer_too_big_for_a_float_drops_that_field_only():
    """JSON integers have no size limit; float() of one with 400 digits raised OverflowError,
    which stopped the whole file being read."""
    snap, problems = parse_snapshot(
        {
            "ts": T,
            "fear_greed": 10**400,
            "symbols": {"BTCUSDT": {"price": 10**400, "mark": 5.0, "candles": [[10**400, 1, 2, 0.5, 1.5, 3]]}},
        }
    )
    assert dict(snap.symbols["BTCUSDT"].values) == {"mark": 5.0} and snap.fear_greed is None
    assert [p.code for p in problems] == ["RB703", "RB703", "RB703"]
    assert "an integer of about 401 digits" in problems[0].message
    none, problems = parse_snapshot({"ts": 10**400})
    assert none is None and [p.code for p in problems] == ["RB702"]


@pytest.mark.parametrize("opens", [T, T + 60, T + 30 * 365 * 86400])
def test_a_candle_from_the_future_is_dropped(opens):
    """A snapshot holds the candles closed by its ts: one opening at or after ts is a bad
    stamp or the candle still forming, and would leak the future into the features."""
    snapshot, problems = parse_snapshot(
        {
            "ts": T,
            "symbols": {
                "A": {"price": 100.0, "candles": [[T - 60, 100, 101, 99, 100.5, 1], [opens, 100, 101, 99, 100.5, 1]]}
            },
        }
    )
    assert [c.ts for c in snapshot.symbols["A"].candles] == [T - 60]
    assert [(p.code, p.path) for p in problems] == [("RB703", "/symbols/A/candles/1")]
    assert "a candle from the future" in problems[0].message


@pytest.mark.parametrize("version", [True, 1.0, "1", 2])
def test_only_the_integer_1_is_format_version_1(version):
    snapshot, problems = parse_snapshot({"v": version, "ts": T, "symbols": {}})
    assert snapshot is None and [p.code for p in problems] == ["RB705"]
