"""The bot's snapshot feeds on real files: the replay feed gives what read_many gives; the tail
feed follows a JSON-lines file as it grows, is replaced or truncated.

``next(wake, 0)`` reads once and never waits, so most tail cases are written step by step.
Where the feed must be caught waiting, the wake event records each wait (``Spy``) and the
writer acts only once the feed is in one; every wait on an event has a generous timeout that
only catches a hang.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.feeds.replay import ReplayFeed
from adapters.feeds.tail import TailFeed
from adapters.snapshots.columnar import read_many, write_columnar
from engine.market.snapshot import Snapshot, parse_snapshot

T0 = 1_748_131_200.0  # 2025-05-25 00:00 UTC
HANG = 30.0  # seconds: only a hang takes this long


def obj(minute: int, price: float = 100.0) -> dict:
    return {"v": 1, "ts": T0 + 60.0 * minute, "symbols": {"BTCUSDT": {"price": price}}}


def line(minute: int, price: float = 100.0) -> str:
    return json.dumps(obj(minute, price)) + "\n"


def snap(minute: int, price: float = 100.0) -> Snapshot:
    parsed, problems = parse_snapshot(obj(minute, price))
    assert parsed is not None and not problems
    return parsed


def append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def minutes(snapshots: list[Snapshot | None]) -> list[float | None]:
    return [None if s is None else (s.ts - T0) / 60.0 for s in snapshots]


@pytest.fixture
def tail() -> Iterator[Callable[..., TailFeed]]:
    """Makes tail feeds and closes them after the test (each holds its file open)."""
    made: list[TailFeed] = []

    def make(path: Path, **options: float) -> TailFeed:
        made.append(TailFeed(str(path), **options))
        return made[-1]

    yield make
    for feed in made:
        feed.close()


class Spy(threading.Event):
    """A wake event that tells when the feed has started waiting on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.set()
        return super().wait(timeout)


# ------------------------------------------------------------------ replay


def test_replay_gives_exactly_what_read_many_gives_then_ends(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.parquet"
    first.write_text(line(0) + "not json\n" + line(2) + line(1) + line(3), encoding="utf-8")
    write_columnar([snap(2), snap(4), snap(5)], second)  # minute 2 goes back: skipped across files
    paths = [str(first), str(second)]
    expected_problems: list = []
    expected = list(read_many(paths, expected_problems))

    feed = ReplayFeed(paths)
    assert feed.realtime is False and feed.name == f"replay:{first},{second}"
    wake = threading.Event()
    wake.set()  # a replay never waits and is paced by its clock: wake changes nothing
    given = []
    while (snapshot := feed.next(wake, 0)) is not None:
        assert not feed.ended
        given.append(snapshot)
    assert given == expected
    assert minutes(given) == [0, 2, 3, 4, 5]
    assert feed.ended and feed.next(wake, None) is None
    assert feed.problems == expected_problems
    assert [(p.code, p.file, p.line) for p in feed.problems] == [
        ("RB711", str(first), 2),
        ("RB714", str(first), 4),
        ("RB714", str(second), 0),
    ]
    assert feed.count() == 8  # an upper bound: the 5 lines of a, the 3 snapshots of b
    feed.close()


def test_replay_reports_an_unreadable_file_and_reads_the_others(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(line(0) + line(1), encoding="utf-8")
    missing = tmp_path / "missing.jsonl"
    feed = ReplayFeed([str(missing), str(good)])
    given = [feed.next(threading.Event(), None) for _ in range(3)]
    assert minutes(given) == [0, 1, None] and feed.ended
    assert [(p.code, p.file) for p in feed.problems] == [("RB710", str(missing))]
    assert feed.count() is None  # the missing file's count is unknown


def test_replay_close_ends_the_feed(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(line(0) + line(1), encoding="utf-8")
    feed = ReplayFeed([str(path)])
    assert minutes([feed.next(threading.Event(), None)]) == [0]
    feed.close()
    assert feed.ended and feed.next(threading.Event(), None) is None


# ------------------------------------------------------------------ tail, step by step


def test_tail_gives_the_existing_lines_then_nothing_until_more_come(tail, tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    path.write_text(line(0) + "\n" + line(1) + line(2), encoding="utf-8")  # a blank line is nothing
    feed = tail(path)
    assert feed.realtime is True and feed.name == f"tail:{path}"
    wake = threading.Event()
    assert minutes([feed.next(wake, 0) for _ in range(4)]) == [0, 1, 2, None]
    assert feed.next(wake, 0.05) is None  # the timeout passed with nothing new
    assert not feed.ended
    append(path, line(3) + line(4))
    assert minutes([feed.next(wake, 0) for _ in range(3)]) == [3, 4, None]
    assert feed.problems == [] and not feed.ended


def test_tail_waits_for_a_line_to_be_completed(tail, tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    whole = line(1)
    path.write_text(line(0) + whole[:20], encoding="utf-8")  # a writer mid-append
    feed = tail(path)
    wake = threading.Event()
    assert minutes([feed.next(wake, 0), feed.next(wake, 0)]) == [0, None]
    append(path, whole[20:-1])
    assert feed.next(wake, 0) is None  # still no newline
    append(path, "\n")
    assert minutes([feed.next(wake, 0), feed.next(wake, 0)]) == [1, None]
    assert feed.problems == []


def test_tail_skips_a_malformed_line_with_a_located_problem(tail, tmp_path: Path, caplog) -> None:
    path = tmp_path / "live.jsonl"
    path.write_text(line(0) + "{not json\n" + "[1, 2]\n" + line(1), encoding="utf-8")
    feed = tail(path)
    with caplog.at_level(logging.WARNING, logger="adapters.feeds.tail"):
        given = [feed.next(threading.Event(), 0) for _ in range(3)]
    assert minutes(given) == [0, 1, None]
    assert [(p.code, p.file, p.line) for p in feed.problems] == [("RB711", str(path), 2), ("RB701", str(path), 3)]
    assert "not valid JSON" in feed.problems[0].message
    assert f"{path}:2: RB711" in caplog.text and f"{path}:3: RB701" in caplog.text


def test_tail_keeps_the_first_problems_and_counts_the_rest(tail, tmp_path: Path, caplog) -> None:
    """A bot runs for months: a writer gone wrong must not grow its memory without bound."""
    from adapters.feeds.tail import KEPT_PROBLEMS

    path = tmp_path / "live.jsonl"
    path.write_text("{bad\n" * (KEPT_PROBLEMS + 50) + line(0), encoding="utf-8")
    feed = tail(path)
    with caplog.at_level(logging.WARNING, logger="adapters.feeds.tail"):
        assert minutes([feed.next(threading.Event(), 0)]) == [0]
    assert len(feed.problems) == KEPT_PROBLEMS and feed.problems_dropped == 50
    assert [p.line for p in feed.problems] == list(range(1, KEPT_PROBLEMS + 1))
    assert caplog.text.count("RB711") == KEPT_PROBLEMS + 50  # every one is logged


def test_tail_skips_a_snapshot_not_after_the_last_given(tail, tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    path.write_text(line(5) + line(3) + line(5) + line(6), encoding="utf-8")
    feed = tail(path)
    assert minutes([feed.next(threading.Event(), 0) for _ in range(3)]) == [5, 6, None]
    assert [(p.code, p.line) for p in feed.problems] == [("RB714", 2), ("RB714", 3)]
    assert "is not after the previous" in feed.problems[0].message


def test_tail_reads_a_truncated_file_again_from_its_beginning(tail, tmp_path: Path, caplog) -> None:
    path = tmp_path / "live.jsonl"
    path.write_text(line(0) + line(1) + line(2), encoding="utf-8")
    feed = tail(path)
    wake = threading.Event()
    assert minutes([feed.next(wake, 0) for _ in range(4)]) == [0, 1, 2, None]
    with open(path, "w", encoding="utf-8") as handle:  # truncated in place, then written anew
        handle.write("{bad\n" + line(7))
    with caplog.at_level(logging.WARNING, logger="adapters.feeds.tail"):
        assert minutes([feed.next(wake, 0), feed.next(wake, 0)]) == [7, None]
    assert "truncated" in caplog.text
    assert [(p.code, p.line) for p in feed.problems] == [("RB711", 1)]  # numbered from the new start


@pytest.mark.parametrize("how", ["rename", "delete"])
def test_tail_follows_a_replaced_file_from_its_beginning(tail, tmp_path: Path, caplog, how: str) -> None:
    path = tmp_path / "live.jsonl"
    path.write_text(line(0) + line(1), encoding="utf-8")
    feed = tail(path)
    wake = threading.Event()
    assert minutes([feed.next(wake, 0) for _ in range(3)]) == [0, 1, None]
    append(path, line(2))  # written before the rotation, not read yet
    if how == "rename":
        os.rename(path, tmp_path / "live.jsonl.1")
    else:
        os.remove(path)
    assert minutes([feed.next(wake, 0), feed.next(wake, 0)]) == [2, None]  # the old file's end
    path.write_text(line(3) + line(4), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="adapters.feeds.tail"):
        assert minutes([feed.next(wake, 0) for _ in range(3)]) == [3, 4, None]
    assert "replaced" in caplog.text
    append(path, line(5))
    assert minutes([feed.next(wake, 0)]) == [5]
    append(path, line(6))  # replaced again, the new file already there when the feed looks
    if how == "rename":
        os.rename(path, tmp_path / "live.jsonl.2")
    else:
        os.remove(path)
    path.write_text(line(7), encoding="utf-8")
    assert minutes([feed.next(wake, 0) for _ in range(3)]) == [6, 7, None]
    assert feed.problems == []


def test_tail_waits_for_a_missing_file(tail, tmp_path: Path) -> None:
    path = tmp_path / "later" / "live.jsonl"
    feed = tail(path)
    wake = threading.Event()
    assert feed.next(wake, 0) is None and feed.problems == [] and not feed.ended
    path.parent.mkdir()
    path.write_text(line(0), encoding="utf-8")
    assert minutes([feed.next(wake, 0), feed.next(wake, 0)]) == [0, None]


@pytest.mark.parametrize("name", ["live.jsonl.gz", "sample.snapshots.parquet"])
def test_tail_refuses_a_file_that_cannot_grow_by_lines(tmp_path: Path, name: str) -> None:
    path = str(tmp_path / name)
    with pytest.raises(ValueError, match="cannot be followed") as raised:
        TailFeed(path)
    assert path in str(raised.value)


# ------------------------------------------------------------------ tail, waiting


def next_in_thread(feed: TailFeed, wake: threading.Event, timeout_s: float | None) -> tuple[threading.Thread, list]:
    """Calls feed.next on its own thread; the result lands in the returned list."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(feed.next(wake, timeout_s)), daemon=True)
    thread.start()
    return thread, result


def test_tail_gives_a_line_appended_while_it_waits(tail, tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    path.write_text(line(0), encoding="utf-8")
    feed = tail(path, poll_s=0.01)
    wake = Spy()
    assert minutes([feed.next(wake, 0)]) == [0]

    def writer() -> None:
        assert wake.waiting.wait(HANG)
        append(path, line(1)[:15])  # in two writes: the feed may poll between them
        append(path, line(1)[15:])

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    assert minutes([feed.next(wake, HANG)]) == [1]  # a hang, not a timeout, would end this early
    thread.join(HANG)
    assert not thread.is_alive() and feed.problems == []


def test_tail_gives_a_file_created_while_it_waits(tail, tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    feed = tail(path, poll_s=0.01)
    wake = Spy()
    thread, result = next_in_thread(feed, wake, HANG)
    assert wake.waiting.wait(HANG)
    path.write_text(line(0), encoding="utf-8")
    thread.join(HANG)
    assert not thread.is_alive() and minutes(result) == [0]


def test_tail_wake_interrupts_a_wait(tail, tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    path.write_text("", encoding="utf-8")
    feed = tail(path, poll_s=HANG)  # only wake can end this wait before HANG
    wake = Spy()
    thread, result = next_in_thread(feed, wake, None)  # no timeout: waits until woken
    assert wake.waiting.wait(HANG)
    wake.set()
    thread.join(HANG)
    assert not thread.is_alive() and result == [None]
    assert feed.next(wake, None) is None  # still set: returns at once


def test_tail_gives_what_has_arrived_even_when_woken(tail, tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    path.write_text(line(0), encoding="utf-8")
    feed = tail(path)
    wake = threading.Event()
    wake.set()
    assert minutes([feed.next(wake, None), feed.next(wake, None)]) == [0, None]


def test_tail_timeout_returns_none(tail, tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    path.write_text(line(0), encoding="utf-8")
    feed = tail(path, poll_s=0.01)
    wake = Spy()
    assert minutes([feed.next(wake, 0), feed.next(wake, 0.05)]) == [0, None]
    assert wake.waiting.is_set() and not wake.is_set()  # it waited, and was not woken
