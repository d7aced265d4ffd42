"""Snapshot files: JSON lines (plain or gzip), torn tails, bad lines, order, round trips."""

from __future__ import annotations

import gzip
import json

from adapters.snapshots.files import SnapshotRecorder, read_snapshots
from engine.market.snapshot import parse_snapshot

T = 1_748_131_200.0  # 2025-05-25 00:00 UTC


def _snap(ts: float, price: float = 100.0) -> dict:
    return {"v": 1, "ts": ts, "symbols": {"BTCUSDT": {"price": price, "candles": [[ts - 60, 99, 101, 98, price, 5]]}}}


def test_recorded_snapshots_read_back_identically(tmp_path):
    path = tmp_path / "snaps.jsonl.gz"
    recorder = SnapshotRecorder(path)
    originals = [parse_snapshot(_snap(T + 60.0 * i, 100 + i))[0] for i in range(1, 4)]
    for snap in originals:
        recorder.append(snap)
    read = [s for s, problems in read_snapshots(path) if s is not None]
    assert read == originals


def test_torn_last_line_is_skipped_with_a_warning(tmp_path):
    path = tmp_path / "snaps.jsonl"
    path.write_text(json.dumps(_snap(T + 60)) + "\n" + json.dumps(_snap(T + 120))[:25], encoding="utf-8")
    results = list(read_snapshots(path))
    assert [s.ts for s, _ in results if s is not None] == [T + 60]
    [problem] = [p for _, found in results for p in found]
    assert (problem.code, problem.line, problem.severity.value) == ("RB712", 2, "warning")


def test_bad_line_in_the_middle_is_an_error_and_the_rest_still_reads(tmp_path):
    path = tmp_path / "snaps.jsonl"
    path.write_text(
        "\n".join([json.dumps(_snap(T + 60)), "{not json", json.dumps(_snap(T + 120))]) + "\n", encoding="utf-8"
    )
    results = list(read_snapshots(path))
    assert [s.ts for s, _ in results if s is not None] == [T + 60, T + 120]
    assert [(p.code, p.line) for _, found in results for p in found] == [("RB711", 2)]


def test_truncated_gzip_yields_the_complete_members(tmp_path):
    path = tmp_path / "snaps.jsonl.gz"
    recorder = SnapshotRecorder(path)
    for i in range(1, 4):
        recorder.append(parse_snapshot(_snap(T + 60.0 * i))[0])
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    results = list(read_snapshots(path))
    assert [s.ts for s, _ in results if s is not None] == [T + 60, T + 120]
    assert "RB713" in [p.code for _, found in results for p in found]


def test_a_gz_file_that_is_not_gzip_is_unreadable_not_truncated(tmp_path):
    """Plain text named .gz is an error (RB710), not an empty recording with a warning."""
    path = tmp_path / "snaps.jsonl.gz"
    path.write_text(json.dumps(_snap(T + 60)) + "\n", encoding="utf-8")
    problems = [p for _, found in read_snapshots(path) for p in found]
    assert [(p.code, p.severity.value) for p in problems] == [("RB710", "error")]


def test_garbage_after_complete_gzip_members_is_a_torn_tail(tmp_path):
    """A crash while a member's header was being written leaves bytes that are not gzip:
    the complete members before them are read, with a warning."""
    path = tmp_path / "snaps.jsonl.gz"
    path.write_bytes(gzip.compress((json.dumps(_snap(T + 60)) + "\n").encode()) + b"\x00\x01")
    results = list(read_snapshots(path))
    assert [s.ts for s, _ in results if s is not None] == [T + 60]
    assert [(p.code, p.severity.value) for _, found in results for p in found] == [("RB713", "warning")]


def _gzipped_lines(count: int) -> bytes:
    """One gzip member holding ``count`` snapshots (as `snapshots build` writes .jsonl.gz)."""
    return gzip.compress(
        "".join(json.dumps(_snap(T + 60.0 * i, 100 + i % 7 / 10)) + "\n" for i in range(1, count + 1)).encode()
    )


def test_a_gzip_file_corrupt_in_the_middle_is_an_error_not_a_truncation(tmp_path):
    """Bytes damaged mid-file lose every line after them: a crash never does that, so it is
    RB710 (the command fails), not RB713's "the complete part was read" with exit 0."""
    data = _gzipped_lines(300)
    middle = len(data) // 2
    path = tmp_path / "snaps.jsonl.gz"
    path.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 100]) + data[middle + 100 :])
    results = list(read_snapshots(path))
    read = [s for s, _ in results if s is not None]
    problems = [p for _, found in results for p in found]
    last = problems[-1]  # before it, RB711 for any garbage the damaged data inflated to
    assert (last.code, last.severity.value, last.file) == ("RB710", "error", str(path))
    assert last.message.startswith("corrupt compressed data") and "reading stopped after line" in last.message
    assert "RB713" not in [p.code for p in problems] and 0 < len(read) < 300


def test_a_gzip_crc_mismatch_is_an_error(tmp_path):
    data = _gzipped_lines(5)
    path = tmp_path / "snaps.jsonl.gz"
    path.write_bytes(data[:-8] + b"\0\0\0\0" + data[-4:])  # the member's CRC32, zeroed
    problems = [p for _, found in read_snapshots(path) for p in found]
    assert [(p.code, p.severity.value) for p in problems] == [("RB710", "error")]
    assert "CRC check failed" in problems[0].message and "after line 5" in problems[0].message


def test_a_huge_integer_drops_one_field_and_the_rest_of_the_file_still_reads(tmp_path):
    """400 digits overflow a float: the field is dropped (RB703, with its line), not the file
    (an OverflowError once ended reading there with RB710 at line 0)."""
    lines = [json.dumps(_snap(T + 60.0 * i)) for i in range(1, 4)]
    lines[1] = lines[1].replace('"price": 100.0', '"price": ' + "1" * 400)
    path = tmp_path / "snaps.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = list(read_snapshots(path))
    assert [s.ts for s, _ in results if s is not None] == [T + 60, T + 120, T + 180]
    assert "price" not in results[1][0].symbols["BTCUSDT"].values
    assert [(p.code, p.line, p.path) for _, found in results for p in found] == [("RB703", 2, "/symbols/BTCUSDT/price")]


def test_a_number_too_long_for_python_is_said_plainly(tmp_path):
    path = tmp_path / "snaps.jsonl"
    path.write_text(
        json.dumps(_snap(T + 60)).replace('"price": 100.0', '"price": ' + "1" * 5000)
        + "\n"
        + json.dumps(_snap(T + 120))
        + "\n",
        encoding="utf-8",
    )
    results = list(read_snapshots(path))
    [problem] = [p for _, found in results for p in found]
    assert (problem.code, problem.line) == ("RB711", 1)
    assert "a number is too long (over 4,300 digits)" in problem.message
    assert "set_int_max_str_digits" not in problem.message
    assert [s.ts for s, _ in results if s is not None] == [T + 120]


def test_a_ts_in_milliseconds_is_rb702_at_its_line_with_the_unit(tmp_path):
    lines = [
        json.dumps(_snap(T + 60)),
        json.dumps({"v": 1, "ts": (T + 120) * 1000, "symbols": {}}),
        json.dumps({"v": 1, "ts": 1e300, "symbols": {}}),
        json.dumps(_snap(T + 180)),
    ]
    path = tmp_path / "snaps.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = list(read_snapshots(path))
    assert [s.ts for s, _ in results if s is not None] == [T + 60, T + 180]
    problems = [p for _, found in results for p in found]
    assert [(p.code, p.file, p.line) for p in problems] == [("RB702", str(path), 2), ("RB702", str(path), 3)]
    assert problems[0].suggestion == "it looks like milliseconds: divide by 1000"
    assert "1e+300 is not epoch seconds" in problems[1].message


def test_out_of_order_snapshot_is_skipped(tmp_path):
    path = tmp_path / "snaps.jsonl"
    path.write_text("\n".join(json.dumps(_snap(T + t)) for t in (60, 180, 120, 240)) + "\n", encoding="utf-8")
    results = list(read_snapshots(path))
    assert [s.ts for s, _ in results if s is not None] == [T + 60, T + 180, T + 240]
    assert [(p.code, p.line) for _, found in results for p in found] == [("RB714", 3)]


def test_unreadable_file_is_reported_not_raised(tmp_path):
    results = list(read_snapshots(tmp_path / "missing.jsonl"))
    assert [p.code for _, found in results for p in found] == ["RB710"]


def test_gzip_file_is_really_compressed(tmp_path):
    path = tmp_path / "snaps.jsonl.gz"
    SnapshotRecorder(path).append(parse_snapshot(_snap(T + 60))[0])
    assert json.loads(gzip.decompress(path.read_bytes()))["ts"] == T + 60


def test_columnar_diagnostics_name_the_row_and_the_exact_times(tmp_path):
    """Two snapshots a second apart out of order: the message tells them apart (``%g`` did
    not), and the location is the row of the file."""
    import pyarrow.parquet as pq

    from adapters.snapshots.columnar import read_any, write_columnar

    path = tmp_path / "s.snapshots.parquet"
    write_columnar([parse_snapshot(_snap(t))[0] for t in (1_747_641_660.0, 1_747_641_661.0, 1_747_641_662.0)], path)
    table = pq.read_table(path)
    swapped = table.set_column(0, "ts", [[1_747_641_660.0, 1_747_641_662.0, 1_747_641_661.0]])
    pq.write_table(swapped.replace_schema_metadata(table.schema.metadata), path)
    problems = [p for _, found in read_any(path) for p in found]
    assert [(p.code, p.line) for p in problems] == [("RB714", 3)]
    assert "1747641661 (2025-05-19T08:01:01Z)" in problems[0].message
    assert "1747641662 (2025-05-19T08:01:02Z)" in problems[0].message
