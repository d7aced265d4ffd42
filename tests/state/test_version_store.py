"""The version store (migration 7): history entries in order, content once per id, idempotent
records, promotion marks; and a v6 database's rule_versions rows migrated into the history."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from adapters.store.reader import StateReader
from adapters.store.state import MIGRATIONS, StateError, StateStore
from engine.language.compiler import compile_ruleset
from engine.versions.live import record_live

ROOT = Path(__file__).resolve().parents[2]
V6 = tuple(m for m in MIGRATIONS if m[0] <= 6)


@pytest.fixture(scope="module")
def default():
    result = compile_ruleset(str(ROOT / "rules"))
    assert result.ok and result.canonical is not None
    return result.version, result.canonical


def _other(canonical: dict) -> tuple[str, dict]:
    from engine.language.compiler import version_of

    changed = {**canonical, "base": {**canonical["base"], "ruleset": {**canonical["base"]["ruleset"], "name": "x"}}}
    return version_of(changed), changed


def test_a_version_is_recorded_with_its_content_and_read_back(store, default):
    version, content = default
    entry = store.record_version(version, content, "human", message="start", created_at=10.0)
    assert (entry.seq, entry.version_id, entry.parent, entry.promotion) == (1, version, None, None)
    assert store.version_content(version) == content
    assert store.live_version() == entry and store.version_history() == [entry]
    assert [v.version_id for v in store.rule_versions()] == [version]  # first-seen index kept


def test_recording_the_live_version_again_adds_nothing(store, default):
    version, content = default
    first = store.record_version(version, content, "human", created_at=10.0)
    again = store.record_version(version, content, "human", message="restart", created_at=20.0)
    assert again == first and len(store.version_history()) == 1


def test_a_version_live_again_after_another_is_a_new_entry(store, default):
    a, content_a = default
    b, content_b = _other(content_a)
    store.record_version(a, content_a, "human", created_at=1.0)
    store.record_version(b, content_b, "human", parent=a, created_at=2.0)
    back = store.record_version(a, content_a, "human", parent=b, message="rollback to " + a, created_at=3.0)
    assert [(e.seq, e.version_id, e.parent) for e in store.version_history()] == [(3, a, b), (2, b, a), (1, a, None)]
    assert store.live_version() == back and store.version_history(limit=1) == [back]


def test_content_that_does_not_hash_to_the_id_is_refused(store, default):
    version, content = default
    _, other = _other(content)
    with pytest.raises(StateError, match="hashes to") as err:
        store.record_version(version, other, "human")
    assert err.value.code == "RB802" and store.version_history() == []


def test_bad_author_and_promotion_are_refused_whole(store, default):
    version, content = default
    with pytest.raises(StateError) as err:
        store.record_version(version, content, "robot")
    assert err.value.code == "RB802"
    with pytest.raises(StateError):
        store.record_version(version, content, "learner:x", promotion="maybe")
    assert store.version_history() == [] and store.version_content(version) is None


def test_a_proposed_learned_version_is_not_live_until_marked(store, default):
    a, content_a = default
    b, content_b = _other(content_a)
    store.record_version(a, content_a, "human", created_at=1.0)
    proposed = store.record_version(
        b,
        content_b,
        "learner:signal_weights",
        parent=a,
        window=(100.0, 200.0),
        metrics={"hit_rate": 0.55},
        promotion="proposed",
    )
    assert store.live_version().version_id == a
    marked = store.mark_promotion(proposed.seq, "rejected", {"return_pct": -1.5, "live_return_pct": 0.5})
    assert marked.promotion == "rejected" and dict(marked.numbers) == {"return_pct": -1.5, "live_return_pct": 0.5}
    assert (marked.window_from, marked.window_to, dict(marked.metrics)) == (100.0, 200.0, {"hit_rate": 0.55})
    with pytest.raises(StateError):
        store.mark_promotion(99, "live")


def test_record_live_names_the_parent_and_a_learner_by_its_overlay(store, default):
    a, content_a = default
    learned = {
        "kind": "learned",
        "learner": "signal_weights",
        "base_version": a,
        "created": "2026-01-01T00:00:00Z",
        "values": {},
        "provenance": {
            "data_from": "2025-05-01T00:00:00Z",
            "data_to": "2025-06-01T00:00:00Z",
            "trades": 4,
            "metrics": {},
            "message": "why",
        },
    }
    from engine.language.compiler import version_of

    content_b = {**content_a, "learned": [learned]}
    b = version_of(content_b)
    record_live(store, a, content_a, "start")
    entry = record_live(store, b, content_b, "hot reload")
    assert (entry.author, entry.parent, entry.promotion, entry.message) == (
        "learner:signal_weights",
        a,
        "live",
        "hot reload: why",
    )
    assert entry.window_from == 1746057600.0


def test_a_v6_database_keeps_its_rule_versions_as_history(db_path):
    with StateStore(db_path, migrations=V6) as old:
        old.record_rule_version("rs-1111111111111111", "human", message="seed", created_at=10.0)
        old.record_rule_version("rs-2222222222222222", "human", parent="rs-1111111111111111", created_at=20.0)
        assert old.schema_version() == 6
    with StateStore(db_path) as store:
        assert store.schema_version() == len(MIGRATIONS)
        history = store.version_history()
        assert [(e.seq, e.version_id, e.parent, e.message) for e in history] == [
            (2, "rs-2222222222222222", "rs-1111111111111111", ""),
            (1, "rs-1111111111111111", None, "seed"),
        ]
        assert store.version_content("rs-1111111111111111") is None
        assert store.live_version().version_id == "rs-2222222222222222"
    assert StateReader(db_path).version_history(limit=1)[0].seq == 2
    with sqlite3.connect(db_path) as conn:  # the first-seen table stays readable
        assert conn.execute("SELECT count(*) FROM rule_versions").fetchone()[0] == 2
