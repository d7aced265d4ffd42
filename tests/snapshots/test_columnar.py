"""Columnar snapshot files: exact round trips, the same checks as JSON on read, and
corrupt or foreign files reported (RB710), never raised, by read_any."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.snapshots.columnar import ColumnarError, columnar_info, read_any, read_columnar, write_columnar
from adapters.snapshots.history.build import write_jsonl
from engine.common.times import EARLIEST_TS, LATEST_TS
from engine.market.snapshot import parse_snapshot, snapshot_to_json

T = 1_748_131_200  # 2025-05-25 00:00 UTC
OBJECTS = [
    {"v": 1, "ts": T + 1000, "symbols": {}},
    {
        "v": 1,
        "ts": T + 1060,
        "fear_greed": 50,
        "fear_greed_ts": T + 900,
        "symbols": {
            "BTCUSDT": {"price": 1.5, "mark": 1.4, "price_ts": T + 1000, "candles": [[T + 960, 1, 2, 0.5, 1.5, 3]]},
            "ETHUSDT": {
                "funding_rate": -0.001,
                "funding_rate_ts": T + 5,
                "book": {"bids": [[1, 2], [0.9, 1]], "asks": []},
            },
        },
    },
    {
        "v": 1,
        "ts": T + 1120.5,
        "symbols": {
            "BTCUSDT": {
                "candles": [[T + 960, 1, 2, 0.5, 1.5, 3], [T + 1020, 1, 2, 0.5, 1.5, 0]],
                "liq_long_usd": 0,
                "liq_short_usd": 5,
                "liquidations_ts": EARLIEST_TS,
            },
            "X": {},
        },
    },
    {
        "v": 1,
        "ts": T + 86400.123,
        "fear_greed": 0,
        "symbols": {
            "BTCUSDT": {
                "price": 107950.5,
                "bid": 107950.4,
                "ask": 107950.6,
                "open_interest_usd": 8.1e9,
                "open_interest_ts": EARLIEST_TS + 3.3e-7,
                "taker_buy_usd": 1.2e6,
                "taker_sell_usd": 0,
                "exchange_netflow_usd": -35.5,
                "implied_skew": 0.02,
                "candles_1m_ts": LATEST_TS,
                "candles": [[T + 86340, 1, 1, 1, 1, 0]],
            }
        },
    },
]


def _snapshots(objects=OBJECTS):
    out = []
    for obj in objects:
        snapshot, problems = parse_snapshot(obj)
        assert snapshot is not None and not problems, problems
        out.append(snapshot)
    return out


def _json(snapshots):
    return [snapshot_to_json(s) for s in snapshots]


def test_round_trip_is_exact(tmp_path):
    snapshots = _snapshots()
    path = tmp_path / "a.snapshots.parquet"
    assert write_columnar(snapshots, path) == 6
    back = list(read_columnar(path))
    assert back == snapshots and _json(back) == _json(snapshots)
    assert [p for _, problems in read_any(path) for p in problems] == []


def test_rows_are_sorted_by_ts_and_metadata_kept(tmp_path):
    path = tmp_path / "a.snapshots.parquet"
    write_columnar(list(reversed(_snapshots())), path, build={"spec": "x.yaml"})
    table = pq.read_table(path)
    assert table.column("ts").to_pylist() == sorted(table.column("ts").to_pylist())
    info = columnar_info(path)
    assert info["format_version"] == 1 and info["snapshots"] == 4 and info["rows"] == 6
    assert info["symbols"] == ["BTCUSDT", "ETHUSDT", "X"] and info["build"] == {"spec": "x.yaml"}


def test_one_snapshot_per_ts(tmp_path):
    snapshots = _snapshots()
    with pytest.raises(ValueError, match="two snapshots with ts"):
        write_columnar([snapshots[0], snapshots[0]], tmp_path / "a.snapshots.parquet")


def test_pandas_reads_it_as_a_table(tmp_path):
    import pandas as pd

    path = tmp_path / "a.snapshots.parquet"
    write_columnar(_snapshots(), path)
    frame = pd.read_parquet(path)
    assert frame.shape == (6, 34) and frame["symbol"].isna().iloc[0]  # the snapshot without symbols
    assert list(frame["symbol"].iloc[1:3]) == ["BTCUSDT", "ETHUSDT"]


_finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
_positive = st.floats(min_value=1e-9, max_value=1e12, allow_nan=False)
_time = st.floats(min_value=EARLIEST_TS + 600, max_value=LATEST_TS - 600, allow_nan=False)  # room for candles


@st.composite
def _symbol(draw, ts: float):
    obj = {}
    for field, strategy in (
        ("price", _positive),
        ("mark", _positive),
        ("funding_rate", _finite),
        ("open_interest_usd", _positive),
        ("liq_long_usd", _positive),
        ("exchange_netflow_usd", _finite),
    ):
        if draw(st.booleans()):
            obj[field] = draw(strategy)
    for name in ("price", "funding_rate", "open_interest", "liquidations"):
        if draw(st.booleans()):
            obj[f"{name}_ts"] = draw(_time)
    for _ in range(draw(st.integers(0, 2))):
        low, spread = draw(_positive), draw(st.floats(0, 1e6))
        t = (obj["candles"][-1][0] + 60) if obj.get("candles") else ts - draw(st.floats(120, 600))  # closed by ts
        obj.setdefault("candles", []).append([t, low + spread, low + spread, low, low, draw(st.floats(0, 1e9))])
    if draw(st.booleans()):
        level = st.lists(st.tuples(_positive, st.floats(0, 1e9)).map(list), max_size=3)
        obj["book"] = {"bids": draw(level), "asks": draw(level)}
    return obj


@st.composite
def _objects(draw):
    times = sorted(set(draw(st.lists(_time, min_size=1, max_size=6))))
    out = []
    for ts in times:
        obj = {"v": 1, "ts": ts, "symbols": draw(st.dictionaries(st.sampled_from(["A", "B", "C"]), _symbol(ts)))}
        if draw(st.booleans()):
            obj["fear_greed"], obj["fear_greed_ts"] = draw(st.floats(0, 100)), draw(_time)
        out.append(obj)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(objects=_objects())
def test_any_valid_snapshots_round_trip(tmp_path, objects):
    snapshots = _snapshots(objects)
    path = tmp_path / "h.snapshots.parquet"
    write_columnar(snapshots, path)
    assert _json(read_columnar(path)) == _json(snapshots)


def test_jsonl_and_columnar_read_the_same_through_read_any(tmp_path):
    snapshots = _snapshots()
    write_columnar(snapshots, tmp_path / "a.snapshots.parquet")
    write_jsonl(snapshots, tmp_path / "a.jsonl.gz")
    write_jsonl(snapshots, tmp_path / "a.jsonl")
    for name in ("a.snapshots.parquet", "a.jsonl.gz", "a.jsonl"):
        assert [s for s, _ in read_any(tmp_path / name)] == snapshots


# ------------------------------------------------------------------ bad files


def _codes(path) -> list[str]:
    return [p.code for _, problems in read_any(path) for p in problems]


def test_truncated_file_is_rb710_and_read_columnar_raises(tmp_path):
    path = tmp_path / "a.snapshots.parquet"
    write_columnar(_snapshots(), path)
    path.write_bytes(path.read_bytes()[:-100])
    assert _codes(path) == ["RB710"]
    with pytest.raises(ColumnarError, match="cannot be read"):
        list(read_columnar(path))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "cannot be read"),
        (b"PAR1 definitely not parquet PAR1", "cannot be read"),
    ],
)
def test_garbage_is_rb710(tmp_path, content, message):
    path = tmp_path / "g.snapshots.parquet"
    path.write_bytes(content)
    problems = [p for _, ps in read_any(path) for p in ps]
    assert [p.code for p in problems] == ["RB710"] and message in problems[0].message
    assert problems[0].file == str(path)


def test_foreign_parquet_is_not_taken_for_snapshots(tmp_path):
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"ts": [1.0], "price": [2.0]}), path)
    problems = [p for _, ps in read_any(path) for p in ps]
    assert [p.code for p in problems] == ["RB710"] and "not a rulebot snapshot file" in problems[0].message


def _raw(path: Path, columns: dict, version: bytes = b"1") -> Path:
    table = pa.table(columns).replace_schema_metadata(
        {b"rulebot.format": b"rulebot-snapshots", b"rulebot.format_version": version}
    )
    pq.write_table(table, path)
    return path


def test_newer_format_version_is_rb705(tmp_path):
    assert _codes(_raw(tmp_path / "v.parquet", {"ts": [1.0]}, b"99")) == ["RB705"]


def test_missing_file_and_unknown_extension(tmp_path):
    assert _codes(tmp_path / "none.snapshots.parquet") == ["RB710"]
    assert _codes(tmp_path / "none.jsonl.gz") == ["RB710"]
    (tmp_path / "x.csv").write_text("ts\n1\n")
    assert _codes(tmp_path / "x.csv") == ["RB710"]


def test_bad_values_are_dropped_and_reported_like_json(tmp_path):
    """A hand-written file with impossible values reads exactly as the same JSON would."""
    path = _raw(
        tmp_path / "bad.parquet",
        {
            "ts": [T + 60.0, T + 120.0, T + 180.0, T + 240.0],
            "symbol": ["A", "A", "A", "A"],
            "price": [-1.0, 5.0, float("nan"), 7.0],
            "mark": [2.0, 2.0, 2.0, 2.0],
            "candle_ts": [T + 0.0, T + 60.0, T + 120.0, T + 180.0],
            "candle_open": [1.0, 1.0, 1.0, 1.0],
            "candle_high": [2.0, 0.5, 2.0, 2.0],
            "candle_low": [0.5, 0.5, 0.5, 0.5],
            "candle_close": [1.0, 1.0, 1.0, 1.0],
            "candle_volume": [1.0, 1.0, 1.0, 1.0],
            "fear_greed": [50.0, 150.0, None, 10.0],
        },
    )
    got = list(read_any(path))
    expected = [
        parse_snapshot(o)
        for o in (
            {
                "v": 1,
                "ts": T + 60,
                "fear_greed": 50,
                "symbols": {"A": {"price": -1, "mark": 2, "candles": [[T, 1, 2, 0.5, 1, 1]]}},
            },
            {
                "v": 1,
                "ts": T + 120,
                "fear_greed": 150,
                "symbols": {"A": {"price": 5, "mark": 2, "candles": [[T + 60, 1, 0.5, 0.5, 1, 1]]}},
            },
            {
                "v": 1,
                "ts": T + 180,
                "symbols": {"A": {"price": float("nan"), "mark": 2, "candles": [[T + 120, 1, 2, 0.5, 1, 1]]}},
            },
            {
                "v": 1,
                "ts": T + 240,
                "fear_greed": 10,
                "symbols": {"A": {"price": 7, "mark": 2, "candles": [[T + 180, 1, 2, 0.5, 1, 1]]}},
            },
        )
    ]
    assert [s for s, _ in got] == [s for s, _ in expected]
    assert [[p.code for p in ps] for _, ps in got] == [["RB703"], ["RB703", "RB703"], ["RB703"], []]
    assert all(p.file == str(path) for _, ps in got for p in ps)


def test_out_of_order_and_duplicate_rows(tmp_path):
    path = _raw(
        tmp_path / "order.parquet",
        {
            "ts": [T + 60.0, T + 120.0, T + 120.0, T + 90.0],
            "symbol": ["A", "A", "A", "B"],
            "price": [1.0, 2.0, 3.0, 4.0],
        },
    )
    got = list(read_any(path))
    assert [s.ts if s else None for s, _ in got] == [T + 60.0, T + 120.0, None]
    assert got[1][0].symbols["A"].get("price") == 2.0 and [p.code for p in got[1][1]] == ["RB703"]
    assert [p.code for p in got[2][1]] == ["RB714"]


def test_a_column_of_the_wrong_type_is_rb710_not_a_crash(tmp_path):
    path = _raw(tmp_path / "t.parquet", {"ts": [T + 60.0], "symbol": ["A"], "price": ["expensive"]})
    problems = [p for _, ps in read_any(path) for p in ps]
    assert [p.code for p in problems] == ["RB710"]


def test_the_sample_size_advantage_is_real(tmp_path):
    """The compact encodings (default times left null, no dictionary for prices) must pay off."""
    snapshots = _snapshots(
        [
            {
                "v": 1,
                "ts": 1_748_131_200 + 60 * i,
                "symbols": {
                    "BTCUSDT": {
                        "price": 100 + (i * 7919 % 101) / 10,
                        "funding_rate": 0.0001,
                        "funding_rate_ts": 1_748_131_200,
                        "candles": [[1_748_131_140 + 60 * i, 100, 111, 99, 100 + (i * 7919 % 101) / 10, i * 1.5]],
                    }
                },
            }
            for i in range(3000)
        ]
    )
    write_columnar(snapshots, tmp_path / "s.snapshots.parquet")
    write_jsonl(snapshots, tmp_path / "s.jsonl.gz")
    assert (tmp_path / "s.snapshots.parquet").stat().st_size < (tmp_path / "s.jsonl.gz").stat().st_size
    table = pq.read_table(tmp_path / "s.snapshots.parquet")
    assert table.column("price_ts").null_count == 3000  # = ts, as JSON leaves it out
    assert table.column("funding_rate_ts").null_count == 1  # only where it equals ts


def test_count_snapshots_for_progress_bars(tmp_path):
    from adapters.snapshots.columnar import count_snapshots

    snapshots = _snapshots()
    write_columnar(snapshots, tmp_path / "a.snapshots.parquet")
    write_jsonl(snapshots, tmp_path / "a.jsonl.gz")
    assert count_snapshots(tmp_path / "a.snapshots.parquet") == 4 == count_snapshots(tmp_path / "a.jsonl.gz")
    (tmp_path / "bad.snapshots.parquet").write_bytes(b"nope")
    assert count_snapshots(tmp_path / "bad.snapshots.parquet") is None
    assert count_snapshots(tmp_path / "missing.jsonl") is None


def test_an_input_without_its_own_time_dates_from_the_snapshot_even_beside_stored_times(tmp_path):
    """As many stored times as values, but for other inputs: the price still dates from ts
    (a reader shortcut once left it undated, so price_age_s was unknown and entries blocked)."""
    objects = [
        {
            "v": 1,
            "ts": 1748131260,
            "symbols": {
                "BTCUSDT": {"price": 107951.5, "candles_1m_ts": 1748131500, "candles": [[1748131200, 1, 1, 1, 1, 0]]}
            },
        }
    ]
    snapshots = _snapshots(objects)
    assert snapshots[0].symbols["BTCUSDT"].times["price"] == 1748131260
    write_columnar(snapshots, tmp_path / "a.snapshots.parquet")
    assert list(read_columnar(tmp_path / "a.snapshots.parquet")) == snapshots


# ------------------------------------------------------------------ times, symbols and metadata


def _dense(tmp_path, count: int = 3) -> Path:
    """A file the dry-run fast path takes: symbols A and B in every snapshot, one candle each."""
    from adapters.snapshots.columnar import read_recording

    path = tmp_path / "d.snapshots.parquet"
    write_columnar(
        _snapshots(
            [
                {
                    "v": 1,
                    "ts": T + 60 * i,
                    "symbols": {
                        name: {
                            "price": 100.0 + i,
                            "funding_rate": 0.0001,
                            "candles": [[T + 60 * (i - 1), 100, 101, 99, 100.5, 1]],
                        }
                        for name in ("A", "B")
                    },
                }
                for i in range(1, count + 1)
            ]
        ),
        path,
    )
    assert len(read_recording(path)) == count
    return path


def _replace(path: Path, name: str, values: pa.Array | None, metadata: dict | None = None) -> Path:
    """The file with column ``name`` replaced by ``values`` (None: removed), metadata kept."""
    table = pq.read_table(path)
    index = table.schema.get_field_index(name)
    if values is None:
        table = table.remove_column(index)
    else:
        table = table.set_column(index, name, values)
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, **(metadata or {})}), path)
    return path


def _not_replayable(path: Path) -> bool:
    from adapters.snapshots.columnar import read_recording
    from engine.replay.recording import NotReplayable

    try:
        read_recording(path)
    except NotReplayable:
        return True
    return False


def test_a_ts_column_in_milliseconds_is_rb702_at_each_snapshot_with_the_unit(tmp_path):
    """Milliseconds read as seconds put the replay in the year 57000, where dry-run caught
    up daily jobs one day at a time: every snapshot is refused, on both read paths."""
    path = _dense(tmp_path)
    _replace(path, "ts", pa.array([(T + 60 * i) * 1000 for i in (1, 1, 2, 2, 3, 3)], pa.int64()))
    got = list(read_any(path))
    assert [s for s, _ in got] == [None, None, None]
    assert [(p.code, p.file, p.line, p.suggestion) for _, ps in got for p in ps] == [
        ("RB702", str(path), row, "it looks like milliseconds: divide by 1000") for row in (1, 3, 5)
    ]
    assert _not_replayable(path)


def test_times_outside_market_data_in_time_columns_are_dropped_as_in_json(tmp_path):
    path = _dense(tmp_path, 1)
    _replace(path, "funding_rate_ts", pa.array([1e300, None], pa.float64()))
    _replace(path, "candle_ts", pa.array([T * 1000.0, T], pa.float64()))
    [(snapshot, problems)] = list(read_any(path))
    a, b = snapshot.symbols["A"], snapshot.symbols["B"]
    assert a.times["funding_rate"] == T + 60 and a.candles == () and [c.ts for c in b.candles] == [T]
    assert [(p.code, p.path) for p in problems] == [
        ("RB703", "/symbols/A/funding_rate_ts"),
        ("RB703", "/symbols/A/candles/0"),
    ]
    assert _not_replayable(path)


@pytest.mark.parametrize(
    "column, message", [(None, "no `symbol` column"), (pa.array([0, 1, 0, 1, 0, 1]), "`symbol` column holds int64")]
)
def test_a_symbol_column_missing_or_not_text_is_rb710(tmp_path, column, message):
    """Without names every row's market data was dropped (dry-run: symbols [], exit 0), or
    the numbers became symbols "0", "1"."""
    path = _replace(_dense(tmp_path), "symbol", column)
    problems = [p for _, ps in read_any(path) for p in ps]
    assert [(p.code, p.file) for p in problems] == [("RB710", str(path))] and message in problems[0].message
    assert _not_replayable(path)
    with pytest.raises(ColumnarError, match="symbol"):
        columnar_info(path)


def test_rows_with_market_data_but_no_symbol_are_errors_at_their_row(tmp_path):
    path = _replace(_dense(tmp_path, 2), "symbol", pa.array([None, "B", None, "B"], pa.string()))
    got = list(read_any(path))
    assert [sorted(s.symbols) for s, _ in got] == [["B"], ["B"]]
    assert [(p.code, p.line, p.severity.value) for _, ps in got for p in ps] == [
        ("RB710", 1, "error"),
        ("RB710", 3, "error"),
    ]
    assert "null `symbol`" in got[0][1][0].message


def test_a_snapshot_without_symbols_is_still_a_row_with_a_null_symbol(tmp_path):
    path = tmp_path / "e.snapshots.parquet"
    write_columnar(_snapshots([{"v": 1, "ts": T, "fear_greed": 40, "symbols": {}}]), path)
    assert [(dict(s.symbols), s.fear_greed, ps) for s, ps in read_any(path)] == [({}, 40.0, [])]


def test_format_version_metadata_that_is_not_text_is_rb710_on_every_path(tmp_path):
    """b"\\xff\\xfe" crashed the fast path (UnicodeDecodeError, exit 3)."""
    path = _replace(
        _dense(tmp_path),
        "price",
        pq.read_table(tmp_path / "d.snapshots.parquet").column("price"),
        {b"rulebot.format_version": b"\xff\xfe"},
    )
    problems = [p for _, ps in read_any(path) for p in ps]
    assert [p.code for p in problems] == ["RB710"] and "is not a version number" in problems[0].message
    assert _not_replayable(path)
    with pytest.raises(ColumnarError, match="not a version number"):
        columnar_info(path)


def test_book_levels_of_the_wrong_shape_are_dropped_per_row_not_the_whole_file(tmp_path):
    """A book column of plain numbers (not [price, size] levels) was an internal TypeError
    that made the whole file unreadable (RB710); now each row's book is dropped (RB703) and
    everything else in the row is read."""
    path = _replace(_dense(tmp_path, 2), "book_bids", pa.array([[1.0, 2.0]] * 4, pa.list_(pa.float64())))
    path = _replace(path, "book_asks", pa.array([[3.0, 4.0]] * 4, pa.list_(pa.float64())))
    got = list(read_any(path))
    assert [sorted(s.symbols) for s, _ in got] == [["A", "B"], ["A", "B"]]
    assert all(s.symbols["A"].book is None and s.symbols["A"].get("price") for s, _ in got)
    assert {(p.code, p.path) for _, ps in got for p in ps} == {
        ("RB703", "/symbols/A/book"),
        ("RB703", "/symbols/B/book"),
    }


def test_a_candle_from_the_future_is_dropped_as_in_json(tmp_path):
    """The columnar reader applies the parser's rule (candles close by their snapshot's ts),
    and the fast path refuses such a file rather than replay it."""
    from types import MappingProxyType

    from adapters.snapshots.columnar import read_recording
    from engine.market.snapshot import Candle, Snapshot, SymbolSnapshot
    from engine.replay.recording import NotReplayable

    def snap(ts, candle_ts):
        sym = SymbolSnapshot(
            "A",
            MappingProxyType({"price": 100.0}),
            MappingProxyType({"price": ts}),
            None,
            (Candle(candle_ts, 100.0, 101.0, 99.0, 100.5, 1.0),),
        )
        return Snapshot(ts, MappingProxyType({"A": sym}))

    path = tmp_path / "f.snapshots.parquet"
    write_columnar([snap(T + 60, T), snap(T + 120, T + 120)], path)
    got = list(read_any(path))
    assert [len(s.symbols["A"].candles) for s, _ in got] == [1, 0]
    assert [(p.code, p.line) for _, ps in got for p in ps] == [("RB703", 2)]
    with pytest.raises(NotReplayable):
        read_recording(path)


def _chunked(values: list, type_: pa.DataType, offset: int = 0) -> pa.ChunkedArray:
    """Values in three chunks, the middle one a slice (non-zero offset into its buffers)."""
    padded = pa.array([None] * offset + values[2:5], type=type_).slice(offset)
    return pa.chunked_array([pa.array(values[:2], type=type_), padded, pa.array(values[5:], type=type_)], type=type_)


@pytest.mark.parametrize("type_", [pa.float64(), pa.float32(), pa.int64()])
def test_the_numpy_readers_match_arrows_own_conversion(type_):
    from adapters.snapshots.columnar import _numbers, _raw_floats, _valid, _whole

    values = (
        [1.5, None, 3.0, None, 7.25, 9.0, None, -2.0] if type_ != pa.int64() else [1, None, 3, None, 7, 9, None, -2]
    )
    if pa.types.is_floating(type_):
        values[5] = float("nan")  # a stored NaN, not a null
    for offset in (0, 3, 9):
        column = _chunked(values, type_, offset)
        expected = column.cast(pa.float64()).to_numpy()
        got = _numbers(column)
        assert got.tolist() == pytest.approx(expected.tolist(), nan_ok=True)
        assert _valid(_whole(column)).tolist() == column.is_valid().to_pylist()
        raw, valid = _raw_floats(column)
        nan_rows = [bool(r != r and v) for r, v in zip(raw.tolist(), valid.tolist())]
        assert nan_rows == [v is not None and v != v for v in column.to_pylist()]
    empty = pa.chunked_array([], type=type_)
    assert _numbers(empty).tolist() == [] and _valid(_whole(empty)).tolist() == []


def test_a_dictionary_null_entry_is_a_null():
    from adapters.snapshots.columnar import _valid

    for index_type in (pa.int32(), pa.int8(), pa.uint16(), pa.int64()):
        indices = pa.array([1, 0, 1, None, 0, 2], index_type)
        symbols = pa.DictionaryArray.from_arrays(indices, pa.array(["BTCUSDT", None, "ETHUSDT"]))
        assert _valid(symbols).tolist() == [False, True, False, False, True, True]
        assert _valid(symbols.slice(2)).tolist() == [False, False, True, True]  # an offset into the indices
    plain = pa.DictionaryArray.from_arrays(pa.array([0, None], pa.int32()), pa.array(["BTCUSDT"]))
    assert _valid(plain).tolist() == [True, False]


def test_reading_a_file_as_columns_imports_neither_pandas_nor_pyarrow_compute():
    """pandas costs `rulebot explain` a quarter of a second (Arrow's to_numpy imports it),
    pyarrow.compute 0.03 s (Array.cast imports it)."""
    import subprocess
    import sys

    sample = Path(__file__).resolve().parents[2] / "data" / "sample" / "sample.snapshots.parquet"
    code = (
        "import sys\n"
        "from adapters.snapshots.columnar import read_recording\n"
        f"recording = read_recording({str(sample)!r})\n"
        "assert recording.symbols, 'no symbols read'\n"
        "print([m for m in ('pandas', 'pyarrow.compute') if m in sys.modules])\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("chunks", [1, 3])
def test_a_symbol_column_of_plain_strings_reads_as_the_dictionary_one(tmp_path, chunks):
    """write_columnar stores the symbol as a dictionary column, read by its codes; a file whose
    symbol column holds plain strings (another writer), in several chunks, reads the same."""
    import numpy as np

    from adapters.snapshots.columnar import read_recording

    sample = Path(__file__).resolve().parents[2] / "data" / "sample" / "sample.snapshots.parquet"
    table = pq.read_table(sample)
    plain = table.set_column(
        table.schema.get_field_index("symbol"), "symbol", pa.array(table.column("symbol").to_pylist(), pa.string())
    )
    path = tmp_path / "plain.snapshots.parquet"
    pq.write_table(plain, path, row_group_size=len(plain) // chunks + 1)
    assert pq.read_table(path).column("symbol").num_chunks == chunks
    a, b = read_recording(sample), read_recording(path)
    assert list(a.symbols) == list(b.symbols) == ["BTCUSDT", "ETHUSDT"]
    assert np.array_equal(a.ts, b.ts)
    for name in a.symbols:
        assert np.array_equal(a.symbols[name].candles.close, b.symbols[name].candles.close)
        assert a.symbols[name].values.keys() == b.symbols[name].values.keys()
