"""A paper-broker liquidation through the real Runner into SQLite: the fill is stored with
liquidity 'liquidation' (schema v3), charged and booked exactly as the taker fill it used
to be stored as; a v2 database written the old way is relabelled by migration 3.

The scenario is tests/lifecycle/test_pnl.py::test_a_liquidation_is_recorded_as_a_trade:
0.0091 BTC long at 2x entered at 100 020 (100 000 + 2 bps), liquidated at 50 510.1.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.store.state import MIGRATIONS, StateStore
from engine.ports import Transition
from tests.lifecycle.helpers import T0, Harness, enter, snapshot
from tests.state.lifecycle import raw

BTC = "BTCUSDT"
TAKER_FEE = 0.05 / 100  # kraken_futures


def _liquidate(store: StateStore) -> Harness:
    h = enter("LONG", Harness(store=store))
    result = h.step(snapshot(T0 + 720, {BTC: 50_000.0}))  # 11 minutes on: a halving the sanity layer accepts
    assert result.fills == 1 and len(result.trades) == 1
    return h


class _V2Runner(StateStore):
    """Writes what the runner wrote before v3: a liquidation fill relabelled 'taker'."""

    def apply(self, transition: Transition, *, version: str | None = None) -> None:
        fills = tuple(replace(f, liquidity="taker") if f.liquidity == "liquidation" else f for f in transition.fills)
        super().apply(replace(transition, fills=fills), version=version)


def test_a_liquidation_fill_is_stored_as_a_liquidation(tmp_path):
    path = tmp_path / "state.db"
    with StateStore(path) as store:
        h = _liquidate(store)
        entry, liquidation = store.fills()
        assert (entry.liquidity, liquidation.liquidity) == ("taker", "liquidation")
        assert liquidation.client_order_id.startswith("liquidation-BTCUSDT-")
        assert (liquidation.side, liquidation.quantity, liquidation.price) == ("sell", 0.0091, pytest.approx(50_510.1))
        # the fee is the broker's, a taker fee on the liquidation price: 0.0091 × 50 510.1 × 0.0005 = 0.229820955
        assert liquidation.fee == pytest.approx(0.0091 * 50_510.1 * TAKER_FEE, rel=1e-12)
        (order,) = [o for o in store.orders() if o.client_order_id == liquidation.client_order_id]
        assert (order.reason, order.venue_order_id, order.status, order.reduce_only) == (
            "liquidation",
            "",
            "filled",
            True,
        )
        (trade,) = store.trades()
        assert (trade.exit_reason, trade.exit_tier) == ("LIQUIDATION", "")
        # the same numbers as when the fill was stored as a taker fill (test_pnl.py)
        assert trade.fees == pytest.approx(entry.fee + liquidation.fee, rel=1e-12)
        # −450.54009 gross − 0.455091 entry fee − 0.229820955 liquidation fee
        assert trade.net_pnl == pytest.approx(-451.225001955, rel=1e-9)
        assert h.runner.positions == {} and store.open_positions() == []
    with raw(path) as conn:
        rows = conn.execute(
            "SELECT f.liquidity, o.reason FROM fills f JOIN orders o USING (client_order_id) ORDER BY f.ts"
        ).fetchall()
    assert rows[-1] == ("liquidation", "liquidation") and rows[0][0] == "taker"


def test_a_restart_after_a_liquidation_reads_the_state_back(tmp_path):
    path = tmp_path / "state.db"
    with StateStore(path) as store:
        first = _liquidate(store)
        fills, trades = store.fills(), store.trades()
    with StateStore(path) as store:
        again = Harness(store=store, history=first.history)
        assert again.runner.positions == {} and store.trades() == trades and store.fills() == fills
        again.step(snapshot(T0 + 780, {BTC: 50_000.0}))  # the signals still say LONG: a new entry fills
        assert store.fills()[:2] == fills and [f.liquidity for f in store.fills()] == ["taker", "liquidation", "taker"]


def test_a_v2_database_written_the_old_way_gets_the_same_fills_after_migration_3(tmp_path):
    new, old = tmp_path / "new.db", tmp_path / "old.db"
    with StateStore(new) as store:
        _liquidate(store)
        expected_fills, expected_trades = store.fills(), store.trades()
    v2 = tuple(m for m in MIGRATIONS if m[0] <= 2)
    with _V2Runner(old, migrations=v2) as store:
        _liquidate(store)
        assert store.schema_version() == 2
        assert [f.liquidity for f in store.fills()] == ["taker", "taker"]
        assert store.trades() == expected_trades
    with StateStore(old) as store:  # migrated through 3 (and whatever came after)
        assert store.schema_version() == store.known_version >= 3
        assert store.fills() == expected_fills and store.trades() == expected_trades
