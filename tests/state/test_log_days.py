"""The logs' days (StateStore.close_log_day, LogFiles.archive/prune): between two steps on
different UTC days each log's lines become ``<log>.<day>.jsonl.gz`` and the log starts again
empty, still exactly once across a kill at any point of the close; closed days past the
retention are deleted, the live logs never."""

from __future__ import annotations

import gzip
from dataclasses import replace

import pytest

from adapters.store.outbox import LogFiles
from adapters.store.state import StateStore
from engine.ports import Transition

from .lifecycle import raw, transition

FILES = {"trades": "executed_trades", "signals": "predictive_signals"}
DAY = "2024-01-01"


def _step(step: int, *records: tuple[str, dict]) -> Transition:
    return replace(transition(step), records=records)


def _live(folder, name: str) -> str:
    return (folder / f"{FILES[name]}.jsonl").read_text(encoding="utf-8")


def _day(folder, name: str, day: str = DAY) -> str:
    return gzip.decompress((folder / f"{FILES[name]}.{day}.jsonl.gz").read_bytes()).decode("utf-8")


def _offsets(db) -> dict[str, int]:
    with raw(db) as conn:
        return dict(conn.execute("SELECT log, length FROM log_offsets").fetchall())


def _outbox(db) -> list[tuple]:
    with raw(db) as conn:
        return conn.execute("SELECT log, line FROM outbox").fetchall()


def test_closing_a_day_moves_every_delivered_line_into_its_compressed_file_once(db_path, tmp_path):
    logs = tmp_path / "logs"
    with StateStore(db_path) as store, LogFiles(logs, FILES) as files:
        store.attach_logs(files)
        store.apply(_step(1, ("trades", {"id": "a"}), ("signals", {"s": 1})))
        store.apply(_step(2, ("trades", {"id": "b"})))
        assert store.close_log_day(DAY) == ["signals", "trades"]
        # the day's lines are in its file, the live logs are empty and the database says so
        assert _day(logs, "trades") == '{"id":"a"}\n{"id":"b"}\n' and _day(logs, "signals") == '{"s":1}\n'
        assert _live(logs, "trades") == "" and _live(logs, "signals") == ""
        assert _offsets(db_path) == {"signals": 0, "trades": 0} and _outbox(db_path) == []
        store.apply(_step(3, ("trades", {"id": "c"})))
        assert store.close_log_day("2024-01-02") == ["trades"]  # an empty log closes no file
        store.apply(_step(4, ("trades", {"id": "d"})))
    assert _day(logs, "trades", "2024-01-02") == '{"id":"c"}\n'
    assert _live(logs, "trades") == '{"id":"d"}\n'
    assert sorted(p.name for p in logs.iterdir()) == [
        "executed_trades.2024-01-01.jsonl.gz",
        "executed_trades.2024-01-02.jsonl.gz",
        "executed_trades.jsonl",
        "predictive_signals.2024-01-01.jsonl.gz",
        "predictive_signals.jsonl",
    ]


def test_a_day_file_written_again_has_the_same_bytes(db_path, tmp_path):
    """A close killed before the database recorded it is redone: the file must not differ."""
    logs = tmp_path / "logs"
    with StateStore(db_path) as store, LogFiles(logs, FILES) as files:
        store.attach_logs(files)
        store.apply(_step(1, ("trades", {"id": "a"})))
        files.archive(DAY)
        first = (logs / f"executed_trades.{DAY}.jsonl.gz").read_bytes()
        files.archive(DAY)
        assert (logs / f"executed_trades.{DAY}.jsonl.gz").read_bytes() == first
        assert not list(logs.glob("*.partial"))


@pytest.mark.parametrize(
    "killed", ["before the day file", "inside the day file", "before the lengths of 0", "before the cut"]
)
def test_a_close_killed_anywhere_is_finished_by_the_restart_without_losing_or_doubling_a_line(
    db_path, tmp_path, killed
):
    logs = tmp_path / "logs"

    class Killed(BaseException):
        pass

    def kill(*_: object) -> None:
        raise Killed

    with StateStore(db_path) as store, LogFiles(logs, FILES) as files:
        store.attach_logs(files)
        store.apply(_step(1, ("trades", {"id": "a"})))
        store.apply(_step(2, ("trades", {"id": "b"})))
        if killed == "before the day file":
            files.archive = kill  # type: ignore[method-assign]
        elif killed == "inside the day file":
            (logs / f"executed_trades.{DAY}.jsonl.gz.partial").write_bytes(b"\x1f\x8b torn")
            files.archive = kill  # type: ignore[method-assign]
        elif killed == "before the lengths of 0":
            real = files.archive

            def archive_then_die(day: str) -> list[str]:
                real(day)
                raise Killed

            files.archive = archive_then_die  # type: ignore[method-assign]
        else:
            files.empty = kill  # type: ignore[method-assign]
        with pytest.raises(Killed):
            store.close_log_day(DAY)
    # the restart: the run's loop sees the cursor's day differ from the next step's and closes again
    with StateStore(db_path) as store, LogFiles(logs, FILES) as files:
        store.attach_logs(files)
        recorded = _offsets(db_path)["trades"]
        if recorded:  # the close had not been recorded: it is redone
            assert _live(logs, "trades") == '{"id":"a"}\n{"id":"b"}\n'
            store.close_log_day(DAY)
        else:  # recorded: the restart's cut finished it
            assert _live(logs, "trades") == ""
        store.apply(_step(3, ("trades", {"id": "c"})))
    assert _day(logs, "trades") == '{"id":"a"}\n{"id":"b"}\n'
    assert _live(logs, "trades") == '{"id":"c"}\n'
    assert not list(logs.glob("*.partial"))


def test_pruning_deletes_only_these_logs_closed_days_before_the_oldest_kept(tmp_path):
    logs = tmp_path / "logs"
    with LogFiles(logs, FILES) as files:
        for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
            for stem in ("executed_trades", "predictive_signals", "someone_elses"):
                (logs / f"{stem}.{day}.jsonl.gz").write_bytes(b"")
        removed = files.prune("2024-01-03")
    assert sorted(p.name for p in removed) == [
        "executed_trades.2024-01-01.jsonl.gz",
        "executed_trades.2024-01-02.jsonl.gz",
        "predictive_signals.2024-01-01.jsonl.gz",
        "predictive_signals.2024-01-02.jsonl.gz",
    ]
    assert sorted(p.name for p in logs.iterdir()) == [
        "executed_trades.2024-01-03.jsonl.gz",
        "executed_trades.jsonl",
        "predictive_signals.2024-01-03.jsonl.gz",
        "predictive_signals.jsonl",
        "someone_elses.2024-01-01.jsonl.gz",
        "someone_elses.2024-01-02.jsonl.gz",
        "someone_elses.2024-01-03.jsonl.gz",
    ]
