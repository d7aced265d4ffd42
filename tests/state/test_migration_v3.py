"""Migration 3: `fills.liquidity` may be 'liquidation'. The table is rebuilt (SQLite cannot
alter a CHECK), keeping every row (with its rowid), the column order, the indexes and the
foreign key; liquidation fills written before v3 (a 'taker' fill of the order the runner
makes up for a liquidation) are relabelled. A crash anywhere in it leaves a valid v2."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import adapters.store.state as state
from adapters.store.state import MIGRATIONS, StateError, StateStore
from engine.ports import FILLED, MARKET, Fill, OrderState, Transition

from .lifecycle import Model, raw, transition

ROOT = Path(__file__).resolve().parents[2]
V2 = tuple(m for m in MIGRATIONS if m[0] <= 2)
V3 = tuple(m for m in MIGRATIONS if m[0] <= 3)  # the migration under test, without the later ones
STEPS = 9  # two whole position lifecycles and the next entry
TS = 1_700_100_000.0


def _order(cid: str, venue_id: str, side: str, quantity: float, reason: str, **changes) -> OrderState:
    fields = dict(
        client_order_id=cid,
        venue_order_id=venue_id,
        symbol="BTCUSDT",
        side=side,
        quantity=quantity,
        filled_quantity=quantity,
        order_type=MARKET,
        limit_price=None,
        status=FILLED,
        reduce_only=True,
        reason=reason,
        created_at=TS,
    )
    return OrderState(**{**fields, **changes})


def _fill(fill_id: str, order: OrderState, liquidity: str = "taker", symbol: str | None = None) -> Fill:
    return Fill(
        fill_id,
        order.client_order_id,
        symbol or order.symbol,
        order.side,
        order.quantity,
        45_250.0,
        order.quantity * 45_250.0 * 0.0005,
        liquidity,
        TS,
    )


# What engine/trading/runner.py `_touched_orders` recorded for a paper liquidation before v3: the
# venue's fill, relabelled 'taker', and an order made up for it (no venue id, reason 'liquidation').
LIQUIDATED = _order("liquidation-BTCUSDT-7", "", "sell", 0.1, "liquidation")
# Lookalikes that must stay 'taker': a venue's own order that happens to say 'liquidation';
# an order made up for a plain venue fill (reason 'venue order'); a made-up order on another symbol.
VENUE_SAYS_SO = _order("venue-liq", "kraken-123", "sell", 0.2, "liquidation")
VENUE_ORDER = _order("venue-own", "", "buy", 0.3, "venue order")
OTHER_SYMBOL = _order("liquidation-ETHUSDT-9", "", "buy", 0.4, "liquidation")
EXTRA = Transition(
    orders=(LIQUIDATED, VENUE_SAYS_SO, VENUE_ORDER, OTHER_SYMBOL),
    fills=(
        _fill("paper-fill-7", LIQUIDATED),
        _fill("paper-fill-8", VENUE_SAYS_SO),
        _fill("paper-fill-9", VENUE_ORDER),
        _fill("paper-fill-10", OTHER_SYMBOL, symbol="SOLUSDT"),
    ),
)


def _make_v2(path: Path) -> None:
    """A database written by the v2 code path: migrations 1 and 2 only, then real data."""
    with StateStore(path, migrations=V2) as store:
        assert store.schema_version() == 2
        for step in range(1, STEPS + 1):
            store.apply(transition(step))
        store.apply(EXTRA)
        store.record_hook_run("pos-0", "ledger", "ok")


def _dump(path: Path) -> dict:
    """Every table's rows (with rowids where a table has them), so a test can compare all of the data."""
    with raw(path) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'schema_migrations' ORDER BY name"
            )
        ]
        without_rowid = {
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID%'")
        }
        return {
            name: conn.execute(
                f"SELECT * FROM {name} ORDER BY 1"
                if name in without_rowid
                else f"SELECT rowid, * FROM {name} ORDER BY rowid"
            ).fetchall()
            for name in names
        }


def _fills_shape(path: Path) -> dict:
    """Columns (order, type, NOT NULL, default, key), foreign keys, indexes, STRICT, triggers."""
    with raw(path) as conn:
        indexes = sorted(
            (name, unique, origin, partial, conn.execute(f"PRAGMA index_info({name})").fetchall())
            for _, name, unique, origin, partial in conn.execute("PRAGMA index_list(fills)")
        )
        return {
            "columns": conn.execute("PRAGMA table_xinfo(fills)").fetchall(),
            "foreign_keys": conn.execute("PRAGMA foreign_key_list(fills)").fetchall(),
            "indexes": indexes,
            "strict": conn.execute("SELECT strict, wr FROM pragma_table_list WHERE name = 'fills'").fetchall(),
            "others": conn.execute(
                "SELECT type, name FROM sqlite_master WHERE tbl_name = 'fills' AND type NOT IN ('table', 'index')"
            ).fetchall(),
        }


def _versions(path: Path) -> list[int]:
    with raw(path) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def _liquidity(path: Path) -> dict[str, str]:
    with raw(path) as conn:
        return dict(conn.execute("SELECT fill_id, liquidity FROM fills"))


def _health(path: Path) -> None:
    with raw(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'fills_v3%'").fetchall() == []


def _assert_still_v2(path: Path, before: dict, shape: dict) -> None:
    """A valid v2: versions 1 and 2, every row as it was, the v2 CHECK, nothing half done."""
    assert _versions(path) == [1, 2]
    assert _dump(path) == before and _fills_shape(path) == shape
    _health(path)
    with StateStore(path, migrations=V2) as store:  # the v2 code opens and uses it as before
        assert store.schema_version() == 2
        with pytest.raises(StateError, match="CHECK constraint failed"):
            store.apply(Transition(fills=(_fill("f-new", LIQUIDATED, "liquidation"),)))


@pytest.fixture
def v2_path(db_path):
    _make_v2(db_path)
    return db_path


# ------------------------------------------------------------------ the migration


def test_the_v2_schema_refuses_a_liquidation_fill(v2_path):
    with StateStore(v2_path, migrations=V2) as store:
        with pytest.raises(StateError, match=r"fills 'f-new' refused: CHECK constraint failed") as err:
            store.apply(Transition(fills=(_fill("f-new", LIQUIDATED, "liquidation"),)))
    assert err.value.code == "RB802"


def test_v2_to_v3_keeps_every_row_and_relabels_only_the_runners_liquidation_fills(v2_path):
    before, shape, labels = _dump(v2_path), _fills_shape(v2_path), _liquidity(v2_path)
    assert set(labels.values()) == {"maker", "taker"} and labels["paper-fill-7"] == "taker"
    with StateStore(v2_path, migrations=V3) as store:
        assert store.schema_version() == store.known_version == 3
        model = Model()
        model.advance_to(STEPS)
        model.apply(EXTRA)
        # the store reads back exactly what v2 held, but for the one liquidation fill
        relabelled = {f.fill_id: f for f in store.fills()}
        assert relabelled.pop("paper-fill-7").liquidity == "liquidation"
        model.fills.pop("paper-fill-7")
        assert relabelled == model.fills
        assert store.orders() == sorted(model.orders.values(), key=lambda o: (o.created_at, o.client_order_id))
        assert [r.trade_id for r in store.hook_runs()] == ["pos-0"]
    assert _versions(v2_path) == [1, 2, 3]
    after = _dump(v2_path)
    expected_fills = [
        row[:8] + ("liquidation",) + row[9:] if row[1] == "paper-fill-7" else row for row in before["fills"]
    ]
    assert after == {**before, "fills": expected_fills}  # every row, every rowid
    assert _liquidity(v2_path) == {**labels, "paper-fill-7": "liquidation"}
    assert _fills_shape(v2_path) == shape  # columns, FK, indexes, STRICT
    _health(v2_path)


def test_the_migrated_table_is_the_fresh_v3_table(v2_path, tmp_path):
    StateStore(v2_path).close()
    fresh = tmp_path / "fresh.db"
    StateStore(fresh).close()
    with raw(v2_path) as migrated, raw(fresh) as new:
        query = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name = 'fills' ORDER BY name"
        assert migrated.execute(query).fetchall() == new.execute(query).fetchall()
        (sql,) = new.execute("SELECT sql FROM sqlite_master WHERE name = 'fills'").fetchone()
    assert "CHECK (liquidity IN ('maker', 'taker', 'liquidation'))" in sql and sql.rstrip().endswith("STRICT")


def test_after_v3_the_constraint_takes_liquidation_and_still_refuses_bogus(v2_path):
    with StateStore(v2_path) as store:
        store.apply(
            Transition(
                orders=(_order("liq-2", "", "buy", 0.5, "liquidation"),),
                fills=(_fill("f-liq", _order("liq-2", "", "buy", 0.5, "liquidation"), "liquidation"),),
            )
        )
        assert [f.liquidity for f in store.fills("liq-2")] == ["liquidation"]
        with pytest.raises(StateError, match="CHECK constraint failed: liquidity IN") as err:
            store.apply(Transition(fills=(_fill("f-bogus", LIQUIDATED, "bogus"),)))
        assert err.value.code == "RB802" and "f-bogus" not in {f.fill_id for f in store.fills()}
        with pytest.raises(StateError, match="FOREIGN KEY constraint failed"):  # the foreign key survived
            store.apply(Transition(fills=(_fill("f-orphan", _order("nobody", "", "buy", 1.0, ""), "taker"),)))
    with raw(v2_path) as conn:  # a hand edit is checked too
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
            conn.execute("UPDATE fills SET liquidity = 'bogus' WHERE fill_id = 'f-liq'")


def test_reopening_a_v3_database_runs_nothing_again(v2_path):
    StateStore(v2_path).close()
    before = _dump(v2_path)
    with raw(v2_path) as conn:
        applied = conn.execute("SELECT * FROM schema_migrations").fetchall()
    StateStore(v2_path).close()
    with raw(v2_path) as conn:
        assert conn.execute("SELECT * FROM schema_migrations").fetchall() == applied
    assert _dump(v2_path) == before


def test_an_empty_v2_database_migrates(db_path):
    StateStore(db_path, migrations=V2).close()
    with StateStore(db_path, migrations=V3) as store:
        assert store.schema_version() == 3 and store.fills() == []
    _health(db_path)


# ------------------------------------------------------------------ crashing in the middle

STATEMENTS = (
    "CREATE TABLE fills_v3",
    "INSERT INTO fills_v3",
    "DROP TABLE fills",
    "ALTER TABLE fills_v3",
    "CREATE INDEX fills_by_order",
    "CREATE INDEX fills_by_ts",
    "UPDATE fills",
)


def _failing_after(monkeypatch, prefix: str, error: BaseException) -> list[str]:
    """Make migration 3 raise right after executing the statement starting with ``prefix``."""
    real, done = state._statements, []

    def failing(script: str):
        for statement in real(script):
            yield statement  # executed by the caller before it asks for the next one
            if script is state._V3:
                done.append(statement.split("\n")[0])
                if statement.startswith(prefix):
                    raise error

    monkeypatch.setattr(state, "_statements", failing)
    return done


def test_the_crash_points_are_the_statements_of_migration_3():
    statements = list(state._statements(state._V3))
    assert [next(p for p in STATEMENTS if s.startswith(p)) for s in statements] == list(STATEMENTS)


@pytest.mark.parametrize("prefix", STATEMENTS)
def test_an_error_in_the_middle_of_migration_3_leaves_v2_intact(v2_path, monkeypatch, prefix):
    before, shape = _dump(v2_path), _fills_shape(v2_path)
    done = _failing_after(monkeypatch, prefix, RuntimeError("simulated failure"))
    with pytest.raises(StateError, match=r"migration 3 \(.*\) of .* failed: simulated failure") as err:
        StateStore(v2_path)
    assert err.value.code == "RB803" and done[-1].startswith(prefix)
    monkeypatch.undo()
    _assert_still_v2(v2_path, before, shape)
    with StateStore(v2_path, migrations=V3) as store:  # the next start migrates
        assert store.schema_version() == 3
    assert _liquidity(v2_path)["paper-fill-7"] == "liquidation"


def test_an_interrupt_in_the_middle_of_migration_3_leaves_v2_intact(v2_path, monkeypatch):
    before, shape = _dump(v2_path), _fills_shape(v2_path)
    _failing_after(monkeypatch, "DROP TABLE fills", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        StateStore(v2_path)
    monkeypatch.undo()
    _assert_still_v2(v2_path, before, shape)


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
@pytest.mark.parametrize("prefix", ["DROP TABLE fills", "ALTER TABLE fills_v3", "UPDATE fills"])
def test_a_process_killed_in_the_middle_of_migration_3_leaves_v2_intact(v2_path, prefix):
    before, shape = _dump(v2_path), _fills_shape(v2_path)
    child = subprocess.run(
        [sys.executable, "-m", "tests.state.v3_crash_child", str(v2_path), prefix],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == -signal.SIGKILL, (child.stdout, child.stderr)
    _assert_still_v2(v2_path, before, shape)
    with StateStore(v2_path, migrations=V3) as store:
        assert store.schema_version() == 3
    _health(v2_path)
