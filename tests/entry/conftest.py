import pytest

from tests.entry.builders import RuleSets


@pytest.fixture(scope="session")
def rulesets(tmp_path_factory) -> RuleSets:
    return RuleSets(tmp_path_factory.mktemp("entry_rules"))


BLOFIN = {"venues.execution_venue": "blofin"}


@pytest.fixture(scope="module")
def kraken(rulesets):
    """The default paper plan (Kraken Futures executes)."""
    return rulesets.plan("paper")


@pytest.fixture(scope="module")
def blofin(rulesets):
    """The paper plan with BloFin as the execution venue."""
    return rulesets.plan("paper", BLOFIN)
