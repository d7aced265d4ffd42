"""Column forms are optional per component kind: every candle-fed kind shipped has one, an
event-fed kind needs none, and a candle-fed kind without one makes the fast path refuse the
plan (NotReplayable naming the kind) instead of guessing its answers."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from engine.replay.columns import components as column_forms
from engine.replay.columns.signals import ColumnSignals, check_column_forms
from engine.replay.recording import NotReplayable, recording_from_snapshots
from engine.trading.signals import components
from tests.signals.helpers import T0, candles, plan, snap


def _candle_fed(kind: str) -> bool:
    return "candles_1m" in components.COMPONENTS[kind].INPUTS


def test_every_shipped_candle_fed_kind_has_a_column_form_and_no_other_kind_does():
    fed = {kind for kind in components.COMPONENTS if _candle_fed(kind)}
    assert fed == {"hurst", "lead_lag", "volatility_skew"}
    assert set(column_forms.COLUMN_FORMS) == fed


def test_an_event_fed_kind_needs_no_column_form(monkeypatch):
    monkeypatch.setattr(
        column_forms,
        "COLUMN_FORMS",
        MappingProxyType({k: m for k, m in column_forms.COLUMN_FORMS.items() if _candle_fed(k)}),
    )
    check_column_forms(plan("paper"))  # funding_rate, fear_greed … have none and are fine


def test_a_candle_fed_kind_without_a_column_form_refuses_the_plan(monkeypatch):
    monkeypatch.setattr(
        column_forms,
        "COLUMN_FORMS",
        MappingProxyType({k: m for k, m in column_forms.COLUMN_FORMS.items() if k != "hurst"}),
    )
    with pytest.raises(NotReplayable, match="hurst: signal component kind hurst reads one-minute candles"):
        check_column_forms(plan("paper"))
    closes = [100.0 + i for i in range(3)]
    recording = recording_from_snapshots(
        [
            snap(T0 + 60 * (i + 1), {"BTCUSDT": {"price": c, "candles": [candle]}})
            for i, (c, candle) in enumerate(zip(closes, candles(T0, closes)))
        ]
    )
    with pytest.raises(NotReplayable, match="has no column form"):
        ColumnSignals(plan("paper"), recording)
