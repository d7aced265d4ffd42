"""The component registry refuses a candle-fed module without a column form (the dry-run
fast path needs one) and accepts an event-fed module without it."""

from __future__ import annotations

import types

import pytest

from engine.trading.signals.components import _registry


def _module(name: str, inputs: tuple[str, ...], with_columns: bool) -> types.ModuleType:
    module = types.ModuleType(name)
    module.KIND, module.INPUTS, module.EXPORTS = name, inputs, ()
    for attr in ("new_state", "update", "exports", "evaluate") + (("columns",) if with_columns else ()):
        setattr(module, attr, lambda *args: None)
    return module


def test_a_candle_fed_module_needs_columns():
    with pytest.raises(TypeError, match=r"missing \['columns'\]"):
        _registry(_module("candle_thing", ("candles_1m",), with_columns=False))
    assert "candle_thing" in _registry(_module("candle_thing", ("candles_1m",), with_columns=True))


def test_an_event_fed_module_needs_no_columns():
    assert "funding_thing" in _registry(_module("funding_thing", ("funding_rate",), with_columns=False))
