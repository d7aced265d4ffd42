"""Failure policy (docs/signals.md): a missing input, a stale input or a component that
raises makes that component NEUTRAL with a reason; nothing escapes the signal stage.
Overrides are checked first, so the leader's lead_lag is NEUTRAL whatever its inputs.

The staleness limits are read from the compiled plans (rules/signals.yaml max_input_age).
"""

from __future__ import annotations

import pytest

from engine.trading.signals.answer import NEUTRAL
from engine.trading.signals.components import COMPONENTS
from tests.signals.helpers import FOLLOWER, LEADER, MIN, T0, book, candles, feed, plan, result, snap

#: snapshot fields that carry each input (fear_greed is global)
FIELDS = {
    "price": ("price",),
    "open_interest": ("open_interest_usd",),
    "liquidations": ("liq_long_usd", "liq_short_usd"),
    "exchange_netflow": ("exchange_netflow_usd",),
    "funding_rate": ("funding_rate",),
    "order_book": ("book",),
    "candles_1m": ("candles",),
    "fear_greed": ("fear_greed",),
}
COMPONENT_IDS = [c.id for c in plan("paper").signals.components]
#: the leader's candles come from another symbol's snapshot; test_lead_lag.py covers that input
DERIVED = {"leader_candles_1m"}
INPUT_PAIRS = [
    (c.id, name) for c in plan("paper").signals.components for name in COMPONENTS[c.kind].INPUTS if name not in DERIVED
]
LIMITED = [
    (profile, c.id, name, limit)
    for profile in ("paper", "live")
    for c in plan(profile).signals.components
    for name, limit in c.max_input_age.items()
    if name not in DERIVED
]


def full_snapshot(ts, drop=(), **times):
    """Every input for ETHUSDT and BTCUSDT published at ``ts`` (candles closing at ts), minus ``drop``."""

    def symbol(first):
        fields = {
            "price": first,
            "open_interest_usd": 1e9,
            "liq_long_usd": 0.0,
            "liq_short_usd": 0.0,
            "exchange_netflow_usd": 0.0,
            "funding_rate": 0.0001,
            "book": book([10.0], [10.0]),
            "candles": candles(ts - 3 * MIN, [first, first * 1.001, first]),
        }
        for name in drop:
            for field in FIELDS[name]:
                fields.pop(field, None)
        fields.update({f"{name}_ts": t for name, t in times.items() if name != "fear_greed"})
        return fields

    top = {} if "fear_greed" in drop else {"fear_greed": 50, "fear_greed_ts": times.get("fear_greed", ts)}
    return snap(ts, {LEADER: symbol(40_000.0), FOLLOWER: symbol(2_000.0)}, **top)


def answer_of(profile, component_id, snapshots, now, symbol=FOLLOWER):
    return result(feed(profile, snapshots).evaluate(symbol, now), component_id)


@pytest.mark.parametrize("component_id, name", INPUT_PAIRS)
def test_a_missing_input_is_named(component_id, name):
    got = answer_of("paper", component_id, [full_snapshot(T0, drop=(name,))], T0)
    assert (got.direction, got.confidence, got.reasons) == (NEUTRAL, 0.0, (f"missing:{name}",))


@pytest.mark.parametrize("profile, component_id, name, limit", LIMITED)
def test_an_input_older_than_max_input_age_is_stale(profile, component_id, name, limit):
    snaps = [full_snapshot(T0)]
    at_limit = answer_of(profile, component_id, snaps, T0 + limit)  # age == limit: still usable
    past = answer_of(profile, component_id, snaps, T0 + limit + 1)  # age > limit: stale
    assert not at_limit.reasons[0].startswith("stale:")
    assert (past.direction, past.confidence, past.reasons) == (NEUTRAL, 0.0, (f"stale:{name}",))
    assert past.inputs["age_s"] == limit + 1 and past.inputs["max_age_s"] == limit


@pytest.mark.parametrize("profile", ["paper", "live"])
def test_every_required_input_but_price_has_a_staleness_limit(profile):
    # no component can answer from arbitrarily old data (price is read with open interest)
    for c in plan(profile).signals.components:
        assert set(COMPONENTS[c.kind].INPUTS) - {"price"} <= set(c.max_input_age), c.id


@pytest.mark.parametrize("component_id", ["oi_velocity", "oi_divergence"])
def test_an_input_without_a_limit_never_goes_stale(component_id):
    # price published 30 days before the OI reading: no max_input_age for price → not stale
    got = answer_of("paper", component_id, [full_snapshot(T0, price=T0 - 30 * 86400)], T0)
    assert not got.reasons[0].startswith(("stale:", "missing:"))


@pytest.mark.parametrize("profile", ["paper", "live"])
def test_the_leader_override_wins_before_missing_or_stale_inputs(profile):
    engine = feed(profile, [snap(T0, {LEADER: {"price": 40_000.0}})])  # no candles at all
    got = result(engine.evaluate(LEADER, T0 + 86400), "lead_lag")
    assert (got.direction, got.confidence, got.reasons) == (NEUTRAL, 0.0, ("override:leader_symbol",))
    follower = feed(profile, [full_snapshot(T0)]).evaluate(FOLLOWER, T0)
    assert not result(follower, "lead_lag").reasons[0].startswith("override:")


def raising(error):
    def evaluate(component, state):
        raise error

    return evaluate


CAUGHT = [ZeroDivisionError("x"), OverflowError("x"), ValueError("x"), TypeError("x"), KeyError("x")]


@pytest.mark.parametrize("component_id", COMPONENT_IDS)
@pytest.mark.parametrize("error", CAUGHT, ids=lambda e: type(e).__name__)
def test_an_error_in_a_component_is_neutral_and_named(monkeypatch, component_id, error):
    kind = next(c.kind for c in plan("paper").signals.components if c.id == component_id)
    engine = feed("paper", [full_snapshot(T0)])
    before = engine.evaluate(FOLLOWER, T0)
    monkeypatch.setattr(COMPONENTS[kind], "evaluate", raising(error))
    record = engine.evaluate(FOLLOWER, T0)
    got = result(record, component_id)
    assert (got.direction, got.confidence, got.reasons) == (NEUTRAL, 0.0, (f"error:{type(error).__name__}",))
    others = [c for c in record.components if c.id != component_id]
    assert others == [c for c in before.components if c.id != component_id]  # the rest is untouched


@pytest.mark.parametrize(
    "error", [IndexError("x"), AttributeError("x"), RuntimeError("x")], ids=lambda e: type(e).__name__
)
def test_any_error_in_evaluate_is_neutral(monkeypatch, error):
    engine = feed("paper", [full_snapshot(T0)])
    monkeypatch.setattr(COMPONENTS["whale_flow"], "evaluate", raising(error))
    got = result(engine.evaluate(FOLLOWER, T0), "whale_flow")
    assert got.reasons == (f"error:{type(error).__name__}",)


def test_an_error_while_feeding_a_component_does_not_escape(monkeypatch):
    def update(state, snapshot, symbol, leader):
        raise ZeroDivisionError("x")

    monkeypatch.setattr(COMPONENTS["whale_flow"], "update", update)
    engine = feed("paper", [full_snapshot(T0)])
    got = result(engine.evaluate(FOLLOWER, T0), "whale_flow")
    assert got.direction == NEUTRAL and got.reasons[0].startswith("error:")
