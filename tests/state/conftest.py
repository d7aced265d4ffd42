from __future__ import annotations

import pytest

from adapters.store.state import StateStore


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "state" / "rulebot.db"


@pytest.fixture
def store(db_path):
    with StateStore(db_path) as opened:
        yield opened
