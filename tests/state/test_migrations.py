"""Versioned migrations: every version once, each in its own transaction; a database from a
newer rulebot is refused without touching the file."""

from __future__ import annotations

import pytest

from adapters.store.state import MIGRATIONS, StateError, StateStore

from .lifecycle import Model, raw, transition

LATEST = len(MIGRATIONS)
EXTRA = (LATEST + 1, "notes table", "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL) STRICT;")


def _migrations(path) -> list[tuple]:
    with raw(path) as conn:
        query = "SELECT version, description, applied_at FROM schema_migrations ORDER BY version"
        return conn.execute(query).fetchall()


def _tables(path) -> set[str]:
    with raw(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migration_versions_are_1_to_n_in_order():
    assert [v for v, _, _ in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


def test_a_fresh_database_gets_every_version(store):
    assert [(v, d) for v, d, _ in _migrations(store.path)] == [(v, d) for v, d, _ in MIGRATIONS]
    assert store.schema_version() == store.known_version == len(MIGRATIONS)
    assert {
        "orders",
        "fills",
        "funding_payments",
        "positions",
        "trades",
        "cursors",
        "rule_versions",
        "hook_runs",
        "schema_migrations",
    } <= _tables(store.path)


def test_reopening_does_not_rerun_and_keeps_the_data(db_path):
    with StateStore(db_path) as store:
        store.apply(transition(1))
    applied = _migrations(db_path)
    with StateStore(db_path) as store:
        model = Model()
        model.advance_to(1)
        model.assert_matches(store)
    assert _migrations(db_path) == applied


def test_an_older_database_gets_only_the_new_versions(db_path):
    StateStore(db_path).close()
    before = _migrations(db_path)
    with StateStore(db_path, migrations=MIGRATIONS + (EXTRA,)) as store:
        assert store.schema_version() == LATEST + 1
    after = _migrations(db_path)
    assert after[:LATEST] == before and [v for v, _, _ in after] == list(range(1, LATEST + 2))
    assert "notes" in _tables(db_path)


def test_a_failing_migration_is_rolled_back_whole(db_path):
    StateStore(db_path).close()
    broken = (
        LATEST + 1,
        "half good",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY) STRICT;\nCREATE TABLE orders (x TEXT);",
    )
    with pytest.raises(StateError, match=f"migration {LATEST + 1} \\(half good\\)") as err:
        StateStore(db_path, migrations=MIGRATIONS + (broken,))
    assert err.value.code == "RB803"
    assert [v for v, _, _ in _migrations(db_path)] == list(range(1, LATEST + 1)) and "notes" not in _tables(db_path)


def test_a_foreign_database_is_refused_and_left_as_it_was(db_path):
    db_path.parent.mkdir(parents=True)
    with raw(db_path) as conn:
        conn.execute("CREATE TABLE orders (anything TEXT)")
        conn.commit()
    with pytest.raises(StateError, match="already exists") as err:
        StateStore(db_path)
    assert err.value.code == "RB803" and _tables(db_path) == {"orders"}


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_a_newer_database_is_refused_and_not_modified(db_path, journal):
    with StateStore(db_path) as store:
        store.apply(transition(1))
    with raw(db_path) as conn:
        conn.execute(f"PRAGMA journal_mode = {journal}")
        conn.execute("INSERT INTO schema_migrations VALUES (99, 0, 'from the future')")
        conn.commit()
    before = (db_path.read_bytes(), db_path.stat().st_mtime_ns)
    with pytest.raises(StateError, match="schema version 99, newer than this rulebot knows") as err:
        StateStore(db_path)
    assert err.value.code == "RB801"
    assert (db_path.read_bytes(), db_path.stat().st_mtime_ns) == before


def test_a_file_that_is_not_a_database_is_refused_and_not_modified(db_path):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"these are not the bytes you are looking for" * 100)
    before = db_path.read_bytes()
    with pytest.raises(StateError, match="cannot open the state database") as err:
        StateStore(db_path)
    assert err.value.code == "RB800" and db_path.read_bytes() == before


def test_parent_directories_are_created(tmp_path):
    path = tmp_path / "a" / "b" / "state.db"
    StateStore(path).close()
    assert path.exists()
