import pytest

from tests.entry.builders import RuleSets


@pytest.fixture(scope="session")
def rulesets(tmp_path_factory) -> RuleSets:
    return RuleSets(tmp_path_factory.mktemp("entry_rules"))
