"""Snapshot files: JSON lines, optionally gzip-compressed (``.jsonl`` / ``.jsonl.gz``).

Reading never raises for bad content: a line that is not JSON, or not a valid snapshot,
is reported (file and line) and skipped; a torn last line — what a crash while recording
leaves — is skipped with a warning; a truncated gzip stream yields what was complete. A
gzip stream corrupted before its end (bad deflate data, a CRC mismatch) is an error: the
lines after the damage are lost, which a crash never causes. Such damage is found by a
first pass over the compressed stream, so that the garbage the damaged data inflates to is
one RB710 at the line where reading stopped, not a run of bad-line errors.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from io import BufferedReader
from pathlib import Path

from engine.language.diagnostics import Diagnostic, Severity
from engine.market.snapshot import Snapshot, describe_ts, parse_snapshot, snapshot_to_json

# Diagnostic codes RB710-RB714 are declared in engine/market/snapshot.py (the format's contract).

logger = logging.getLogger(__name__)


def _open(path: Path) -> gzip.GzipFile | BufferedReader:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _lines(path: Path, where: str, problems: list[Diagnostic]) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, bytes, ends with newline) for each line, surviving truncated gzip.
    A .gz file that is not gzip from its first byte is unreadable (RB710), not truncated."""
    number = 0
    try:
        with _open(path) as handle:
            for number, raw in enumerate(handle, start=1):
                yield number, raw, raw.endswith(b"\n")
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        problems.append(_gzip_problem(error, number, where))
    except OSError as error:
        problems.append(Diagnostic("RB710", f"cannot read: {error.strerror or error}", file=where))


def _gzip_problem(error: Exception, lines: int, where: str) -> Diagnostic:
    """What a gzip error means for the recording.

    Only the end of a file can be torn by a crash (the recorder appends one member per
    line): a stream that stops early (EOFError) or bytes after the last complete member
    that are not gzip ("Not a gzipped file") are RB713, a warning. Damage inside the data —
    bad deflate data (zlib.error), a CRC or length mismatch — loses everything after it:
    RB710, an error, saying where reading stopped."""
    if lines == 0 and isinstance(error, gzip.BadGzipFile):
        return Diagnostic("RB710", f"not a gzip file ({error})", file=where)
    if isinstance(error, EOFError) or str(error).startswith("Not a gzipped file"):
        return _truncated(error, where)
    return Diagnostic(
        "RB710",
        f"corrupt compressed data ({error}); reading stopped after line {lines:,}, the rest of the file is lost",
        file=where,
    )


def _truncated(error: Exception, where: str) -> Diagnostic:
    return Diagnostic(
        "RB713",
        f"compressed stream ends early ({error}); the complete part was read",
        file=where,
        severity=Severity.WARNING,
    )


def _not_json(error: Exception) -> str:
    """Why a line is not JSON. Python refuses integers of more than sys.get_int_max_str_digits()
    digits (a guard against slow conversions); its message's advice is for programmers."""
    if "integer string conversion" in str(error):
        return f"not valid JSON: a number is too long (over {sys.get_int_max_str_digits():,} digits)"
    return f"not valid JSON ({error})"[:200]


_CHUNK = 1 << 16  # compressed bytes per step of the damage scan
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class _Damage:
    """Where a gzip stream stops decoding: the damaged member's first uncompressed byte and
    the end of what decoded before the failure (offsets into the file's uncompressed text),
    the file byte at which decoding failed, zlib's reason, and whether it was a CRC or length
    check (the whole member decoded, but its content is wrong somewhere)."""

    member_start: int
    good_until: int
    file_byte: int
    reason: str
    check: bool


def _find_damage(path: Path) -> _Damage | None:
    """The first damaged gzip member of ``path``, or None when every member decodes and
    passes its CRC and length checks.

    Only damage counts: a stream that ends early or a tail that is not gzip (what a crash
    leaves) is None here and RB713 when read. The end of the decoded part is found byte by
    byte within the failing chunk."""
    out = 0  # uncompressed bytes of the members before, and of this one so far
    offset = 0  # file bytes consumed
    with open(path, "rb") as handle:
        pending = handle.read(_CHUNK)
        while True:
            stripped = pending.lstrip(b"\0")  # zero padding between members, as gzip allows
            offset, pending = offset + len(pending) - len(stripped), stripped
            if len(pending) < 2:
                more = handle.read(_CHUNK)
                if more:
                    pending += more
                    continue
            if not pending.startswith(_GZIP_MAGIC):
                return None  # the end, or a tail that is not gzip
            member_start, decoder = out, zlib.decompressobj(31)
            while not decoder.eof:
                if not pending:
                    pending = handle.read(_CHUNK)
                    if not pending:
                        return None  # ends early: truncation, not damage
                before = decoder.copy()
                try:
                    out += len(decoder.decompress(pending))
                except zlib.error as error:
                    return _locate(before, pending, member_start, out, offset, error)
                offset += len(pending) - len(decoder.unused_data)
                pending = decoder.unused_data  # the next member starts after this one's trailer


def _locate(decoder, chunk: bytes, member_start: int, out: int, offset: int, error: zlib.error) -> _Damage:
    """Replays the failing chunk one byte at a time on a copy of the decoder taken before it:
    the exact file byte and uncompressed length at which decoding failed."""
    for index in range(len(chunk)):
        try:
            out += len(decoder.decompress(chunk[index : index + 1]))
        except zlib.error as exact:
            reason = str(exact).removeprefix("Error -3 while decompressing data: ")
            check = reason.endswith("check")  # "incorrect data check" (CRC) / "incorrect length check"
            return _Damage(member_start, out, offset + index, reason, check)
    return _Damage(member_start, out, offset + len(chunk), str(error), False)


def _is_member(damage: _Damage, line_start: int, line_end: int) -> bool:
    """The line is the whole of a member whose check failed, so it is where the damage is."""
    return damage.check and line_start == damage.member_start and line_end == damage.good_until


def _damaged_at(damage: _Damage, where: str, number: int) -> Diagnostic:
    return Diagnostic(
        "RB710",
        f"compressed data is damaged ({damage.reason}, found at byte {damage.file_byte:,} of the file); reading "
        f"stopped at line {number:,}: the {number - 1:,} lines before it were read, the rest of the file is lost",
        file=where,
        line=number,
        col=1,
    )


def parse_line(
    raw: bytes, where: str, number: int, *, complete: bool = True
) -> tuple[Snapshot | None, list[Diagnostic]]:
    """One non-blank JSON line as a Snapshot, with what was wrong with it (located at
    ``where`` line ``number``). Shared by the file reader and the tail feed, so a line means
    the same in both. A line that is not JSON is RB711, or RB712 (a warning) when it is a
    torn last line (``complete`` False)."""
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        code, severity = ("RB711", Severity.ERROR) if complete else ("RB712", Severity.WARNING)
        logger.debug("%s line %d skipped: not JSON%s", where, number, "" if complete else " (torn last line)")
        return None, [Diagnostic(code, _not_json(error), file=where, line=number, col=1, severity=severity)]
    return parse_snapshot(obj, where, number)


def not_after(ts: float, last_ts: float, where: str, number: int) -> Diagnostic:
    """RB714: the snapshot at ``where`` line ``number`` does not come after the one before it."""
    return Diagnostic(
        "RB714",
        f"ts {describe_ts(ts)} is not after the previous {describe_ts(last_ts)}",
        file=where,
        line=number,
        col=1,
        severity=Severity.WARNING,
    )


def read_snapshots(path: str | os.PathLike) -> Iterator[tuple[Snapshot | None, list[Diagnostic]]]:
    """Yield (snapshot or None, problems) per line, in file order; problems are located.

    In a damaged gzip file (``_find_damage``), reading ends with one RB710 at the first line of
    the damaged member that is not a clean snapshot or reaches past what decoded: the lines
    inflated from damaged data are garbage, not findings. Data inflated before the damage is
    right, so the lines before it are read. A member that failed its CRC check and holds one
    line (the recorder writes one member per snapshot) is that line's damage: it is not read."""
    path = Path(path)
    where = os.fspath(path)
    damage = _find_damage(path) if path.suffix == ".gz" and path.is_file() else None
    problems: list[Diagnostic] = []
    last_ts = float("-inf")
    start = 0  # uncompressed offset of the end of the current line
    lines = 0
    for number, raw, complete in _lines(path, where, problems):
        line_start, start, lines = start, start + len(raw), number
        if problems:
            yield None, problems
            problems = []
        suspect = damage is not None and start > damage.member_start  # the line reaches the damaged member
        if damage is not None and suspect and (start > damage.good_until or _is_member(damage, line_start, start)):
            yield None, [_damaged_at(damage, where, number)]
            return
        if not raw.strip():
            continue
        snapshot, found = parse_line(raw, where, number, complete=complete)
        if snapshot is not None and snapshot.ts <= last_ts:
            found.append(not_after(snapshot.ts, last_ts, where, number))
            logger.debug("%s line %d skipped: not after the previous snapshot", where, number)
            snapshot = None
        if damage is not None and suspect and (snapshot is None or found):
            yield None, [_damaged_at(damage, where, number)]
            return
        if snapshot is not None:
            last_ts = snapshot.ts
        yield snapshot, found
    if problems and damage is not None:  # the stream failed before a suspect line was seen
        problems = [_damaged_at(damage, where, lines + 1)]
    if problems:
        yield None, problems


class SnapshotRecorder:
    """Appends snapshots as compressed JSON lines; each line is its own gzip member, so a
    crash loses at most the snapshot being written and never the ones before it."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        logger.info("recording snapshots to %s", self.path)

    def append(self, snapshot: Snapshot) -> None:
        line = json.dumps(snapshot_to_json(snapshot), separators=(",", ":"), allow_nan=False) + "\n"
        with open(self.path, "ab") as handle:
            handle.write(gzip.compress(line.encode("utf-8"), mtime=0))
            handle.flush()
            os.fsync(handle.fileno())
