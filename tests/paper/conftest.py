"""Fixtures for the paper broker: the real venues from rules/ (compiled once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.paper.broker import PaperBroker
from engine.language.compiler import compile_ruleset
from tests.paper.helpers import make_broker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def plan():
    return compile_ruleset(str(ROOT / "rules"), ["paper"]).plans["paper"]


@pytest.fixture(scope="session")
def kraken(plan):
    return plan.venues.exchange("kraken_futures")


@pytest.fixture(scope="session")
def blofin(plan):
    return plan.venues.exchange("blofin")


@pytest.fixture
def broker(kraken) -> PaperBroker:
    """Kraken Futures: maker 0.02 %, taker 0.05 %, BTC step 0.0001, slippage 2 bps."""
    return make_broker(kraken)


@pytest.fixture
def flat(kraken) -> PaperBroker:
    """Kraken Futures without slippage, for round liquidation numbers."""
    return make_broker(kraken, slippage_bps=0.0)
