"""Overrides: ``overrides: [{when, direction, confidence, reason}]`` on a component.

Checked before the component's inputs: the first override whose ``when`` holds (an
expression over the signal vocabulary) replaces the answer, with reason
``override:<reason>`` and confidence 0 for NEUTRAL. An override that cannot be evaluated
(an input it reads is unknown) does not apply. Tested on a copy of rules/ whose
whale_flow gets overrides on the Fear & Greed index.
"""

from __future__ import annotations

import pytest

from engine.language.compiler import compile_ruleset
from engine.trading.signals.answer import LONG, NEUTRAL, SHORT
from tests.signals.helpers import FOLLOWER, T0, feed, result, snap

WHALE_LIVE = "      live: {min_flow_usd: 1000000}             # seed: live $1,000,000\n"
OVERRIDES = """    overrides:
      - when: "fear_greed < 10"
        direction: LONG
        confidence: 0.7
        reason: capitulation
      - when: "fear_greed < 20"
        direction: SHORT
        confidence: 0.4
        reason: second_rule
      - when: "fear_greed > 95"
        direction: NEUTRAL
        confidence: 0.9
        reason: euphoria
"""


@pytest.fixture()
def plans(rules_copy):
    return rules_copy.edit("signals.yaml", WHALE_LIVE, WHALE_LIVE + OVERRIDES).compile()


def whale(plan, fear_greed=None, netflow=None):
    fields = {"price": 100.0} if netflow is None else {"exchange_netflow_usd": netflow}
    top = {} if fear_greed is None else {"fear_greed": fear_greed}
    return result(feed(plan, [snap(T0, {FOLLOWER: fields}, **top)]).evaluate(FOLLOWER, T0), "whale_flow")


@pytest.mark.parametrize("profile", ["paper", "live"])
@pytest.mark.parametrize(
    "index, direction, confidence, reason",
    [
        (5, LONG, 0.7, "override:capitulation"),  # 5 < 10 and 5 < 20: the first match wins
        (10, SHORT, 0.4, "override:second_rule"),  # 10 < 10 fails; 10 < 20 holds
        (19, SHORT, 0.4, "override:second_rule"),
        (96, NEUTRAL, 0.0, "override:euphoria"),  # NEUTRAL ignores the rule's confidence 0.9
    ],
)
def test_the_first_override_that_holds_replaces_the_answer(plans, profile, index, direction, confidence, reason):
    got = whale(plans[profile], fear_greed=index)  # no net-flow input at all
    assert (got.direction, got.confidence, got.reasons) == (direction, confidence, (reason,))


def test_no_override_holds_so_the_component_answers(plans):
    got = whale(plans["paper"], fear_greed=50)
    assert got.reasons == ("missing:exchange_netflow",)


def test_an_override_whose_input_is_unknown_does_not_apply(plans):
    got = whale(plans["paper"])  # Fear & Greed never seen
    assert got.reasons == ("missing:exchange_netflow",)


def test_an_override_must_use_the_signal_vocabulary(rules_copy):
    bad = OVERRIDES.replace("fear_greed < 10", "pnl_pct > 1")  # a position name, not a market one
    rules_copy.edit("signals.yaml", WHALE_LIVE, WHALE_LIVE + bad)
    result_ = compile_ruleset(str(rules_copy.root))
    assert not result_.ok and any("pnl_pct" in str(d) for d in result_.diagnostics)


def test_an_override_on_open_interest_applies_when_the_snapshot_has_it(rules_copy):
    plans = rules_copy.edit(
        "signals.yaml", WHALE_LIVE, WHALE_LIVE + OVERRIDES.replace("fear_greed < 10", "open_interest_usd > 0")
    ).compile()
    s = snap(T0, {FOLLOWER: {"open_interest_usd": 1e9, "price": 100.0}})
    got = result(feed(plans["paper"], [s]).evaluate(FOLLOWER, T0), "whale_flow")
    assert got.reasons == ("override:capitulation",)


def test_every_signal_vocabulary_name_has_a_provider():
    from engine.language.vocabulary import MARKET
    from engine.trading.signals.components import COMPONENTS
    from engine.trading.signals.market import EXPORTS

    provided = set(EXPORTS).union(*(m.EXPORTS for m in COMPONENTS.values()))
    assert provided == set(MARKET.names)
