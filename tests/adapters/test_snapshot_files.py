"""Snapshot files: JSON lines (plain or gzip), torn tails, bad lines, order, round trips."""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path

import pytest

from adapters.snapshots.columnar import read_columnar
from adapters.snapshots.files import SnapshotRecorder, read_snapshots
from engine.market.snapshot import Snapshot, parse_snapshot, snapshot_to_json

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "sample.snapshots.parquet"

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


def _recording(tmp_path, layout: str, count: int = 400) -> tuple[Path, list[Snapshot]]:
    """The first ``count`` snapshots of the sample recording, as a .jsonl.gz written by the
    recorder (one gzip member per snapshot) or as one member (how `snapshots build` writes)."""
    originals = list(itertools.islice(read_columnar(SAMPLE), count))
    path = tmp_path / f"{layout}.jsonl.gz"
    if layout == "recorder":
        recorder = SnapshotRecorder(path)
        for snap in originals:
            recorder.append(snap)
    else:
        lines = (json.dumps(snapshot_to_json(s), separators=(",", ":"), allow_nan=False) + "\n" for s in originals)
        path.write_bytes(gzip.compress("".join(lines).encode()))
    return path, originals


@pytest.mark.parametrize("layout", ["recorder", "one member"])
@pytest.mark.parametrize("where", [0.3, 0.5, 0.7])
@pytest.mark.parametrize("width", [1, 3, 100])
def test_gzip_damage_in_the_middle_is_one_rb710_where_reading_stopped(tmp_path, layout, where, width):
    """Bytes flipped inside a real recording's compressed stream: the snapshots before the
    damage are read exactly as recorded, then one RB710 names the file, the line where reading
    stopped and the byte where the damage was found, and nothing inflated from the damaged
    data is reported or read (it was 130 RB711 errors for garbage lines)."""
    path, originals = _recording(tmp_path, layout)
    data = path.read_bytes()
    at = int(len(data) * where)
    path.write_bytes(data[:at] + bytes(b ^ 0xFF for b in data[at : at + width]) + data[at + width :])
    results = list(read_snapshots(path))
    read = [s for s, _ in results if s is not None]
    problems = [p for _, found in results for p in found]
    assert [(p.code, p.severity.value, p.file, p.line) for p in problems] == [
        ("RB710", "error", str(path), len(read) + 1)
    ]
    assert 0 < len(read) < len(originals) and read == originals[: len(read)]
    message = problems[0].message
    assert message.startswith("compressed data is damaged (") and "found at byte " in message
    assert f"reading stopped at line {len(read) + 1:,}: the {len(read):,} lines before it were read" in message
    byte = int(message.split("found at byte ")[1].split(" ")[0].replace(",", ""))
    assert at <= byte < len(data)  # found at or after the first damaged byte, never before it


def test_a_damaged_recorder_member_is_not_read_even_if_it_still_parses(tmp_path):
    """A CRC mismatch in the recorder's one-snapshot member: that snapshot is where the damage
    is, so it is not read even though its line is valid JSON (here the CRC itself is hit)."""
    path, originals = _recording(tmp_path, "recorder", count=3)
    first, second = (
        gzip.compress((json.dumps(snapshot_to_json(s), separators=(",", ":")) + "\n").encode(), mtime=0)
        for s in originals[:2]
    )
    data = path.read_bytes()
    assert data.startswith(first + second)  # the recorder's layout, one member per snapshot
    at = len(first) + len(second) - 8  # the second member's CRC32
    path.write_bytes(data[:at] + bytes(b ^ 0xFF for b in data[at : at + 4]) + data[at + 4 :])
    results = list(read_snapshots(path))
    assert [s for s, _ in results if s is not None] == originals[:1]
    assert [(p.code, p.line) for _, found in results for p in found] == [("RB710", 2)]


def test_a_gzip_crc_mismatch_is_an_error(tmp_path):
    """The content decodes and reads, but the check says it is wrong somewhere: RB710."""
    data = _gzipped_lines(5)
    path = tmp_path / "snaps.jsonl.gz"
    path.write_bytes(data[:-8] + b"\0\0\0\0" + data[-4:])  # the member's CRC32, zeroed
    problems = [p for _, found in read_snapshots(path) for p in found]
    assert [(p.code, p.severity.value) for p in problems] == [("RB710", "error")]
    assert "incorrect data check" in problems[0].message and "the 5 lines before it were read" in problems[0].message


def test_a_gzip_length_mismatch_is_an_error(tmp_path):
    data = _gzipped_lines(5)
    path = tmp_path / "snaps.jsonl.gz"
    path.write_bytes(data[:-4] + b"\0\0\0\0")  # the member's uncompressed length, zeroed
    problems = [p for _, found in read_snapshots(path) for p in found]
    assert [(p.code, p.severity.value) for p in problems] == [("RB710", "error")]
    assert "incorrect length check" in problems[0].message


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
