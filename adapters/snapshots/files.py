"""Snapshot files: JSON lines, optionally gzip-compressed (``.jsonl`` / ``.jsonl.gz``).

Reading never raises for bad content: a line that is not JSON, or not a valid snapshot,
is reported (file and line) and skipped; a torn last line — what a crash while recording
leaves — is skipped with a warning; a truncated gzip stream yields what was complete. A
gzip stream corrupted before its end (bad deflate data, a CRC mismatch) is an error: the
lines after the damage are lost, which a crash never causes.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import sys
import zlib
from collections.abc import Iterator
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


def read_snapshots(path: str | os.PathLike) -> Iterator[tuple[Snapshot | None, list[Diagnostic]]]:
    """Yield (snapshot or None, problems) per line, in file order; problems are located."""
    path = Path(path)
    where = os.fspath(path)
    problems: list[Diagnostic] = []
    last_ts = float("-inf")
    for number, raw, complete in _lines(path, where, problems):
        if problems:
            yield None, problems
            problems = []
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            code, severity = ("RB711", Severity.ERROR) if complete else ("RB712", Severity.WARNING)
            logger.debug("%s line %d skipped: not JSON%s", where, number, "" if complete else " (torn last line)")
            yield None, [Diagnostic(code, _not_json(error), file=where, line=number, col=1, severity=severity)]
            continue
        snapshot, found = parse_snapshot(obj, where, number)
        if snapshot is not None and snapshot.ts <= last_ts:
            found.append(
                Diagnostic(
                    "RB714",
                    f"ts {describe_ts(snapshot.ts)} is not after the previous {describe_ts(last_ts)}",
                    file=where,
                    line=number,
                    col=1,
                    severity=Severity.WARNING,
                )
            )
            logger.debug("%s line %d skipped: not after the previous snapshot", where, number)
            snapshot = None
        if snapshot is not None:
            last_ts = snapshot.ts
        yield snapshot, found
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
