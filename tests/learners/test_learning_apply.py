"""The shared apply path's once-only rules (engine/cli/learning_apply.py): a cycle whose
overlay is already in the rules writes nothing again, and its audit line is appended once."""

from __future__ import annotations

import json
from types import SimpleNamespace

from engine.cli.learning_apply import LearnerWrite, audit_cycle, feed_files, written_already
from engine.common.times import iso_utc

FROM, TO = 1_747_000_000.0, 1_747_604_800.0


def _canonical(learner: str, start: float, end: float) -> dict:
    provenance = {"data_from": iso_utc(start), "data_to": iso_utc(end)}
    return {"learned": [{"kind": "learned", "learner": learner, "provenance": provenance}]}


def test_an_overlay_of_the_same_learner_and_window_is_this_cycle_written_already():
    assert written_already(_canonical("hold_time", FROM, TO), "hold_time", FROM, TO)
    assert not written_already(_canonical("hold_time", FROM, TO), "signal_weights", FROM, TO)
    assert not written_already(_canonical("hold_time", FROM, TO + 1800), "hold_time", FROM, TO)
    assert not written_already({"learned": []}, "hold_time", FROM, TO)
    assert not written_already(None, "hold_time", FROM, TO)


def _cycle(ts: float, job: str) -> SimpleNamespace:
    def audit(outcomes=()):
        window = {"from": iso_utc(FROM), "to": iso_utc(ts)}
        return {"event": "cycle", "ts": iso_utc(ts), "window": window, "job": job, "outcomes": list(outcomes)}

    return SimpleNamespace(audit=audit)


def test_a_cycle_is_audited_once_however_often_it_runs(tmp_path):
    writes = [LearnerWrite("hold_time", "applied", "not worse", "rs-1", {"promoted": True})]
    assert audit_cycle(str(tmp_path), _cycle(TO, "learning_daily"), writes)
    assert not audit_cycle(str(tmp_path), _cycle(TO, "learning_daily"), [])  # run again after a restart
    assert audit_cycle(str(tmp_path), _cycle(TO, "nightly"), [])  # another job at the same time
    assert audit_cycle(str(tmp_path), _cycle(TO + 1800, "learning_daily"), [])
    with (tmp_path / "learning_audit.jsonl").open("a") as log:
        log.write('{"event":"cyc')  # a torn last line (a crash mid-write) is skipped
    assert not audit_cycle(str(tmp_path), _cycle(TO, "nightly"), [])
    lines = (tmp_path / "learning_audit.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines[:3]]
    assert [(r["job"], r["outcomes"] != []) for r in records] == [
        ("learning_daily", True),
        ("nightly", False),
        ("learning_daily", False),
    ]


def test_the_feed_files_are_a_replays_files_or_the_followed_file():
    assert feed_files(SimpleNamespace(paths=["a.parquet", "b.parquet"])) == ("a.parquet", "b.parquet")
    assert feed_files(SimpleNamespace(path="feed.jsonl")) == ("feed.jsonl",)
    assert feed_files(SimpleNamespace()) == ()
