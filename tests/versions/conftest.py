"""Shared fixture of the version tests: a private copy of the default rules to write into."""

from __future__ import annotations

from tests.rules.conftest import rules  # noqa: F401 - the fixture, shared with the rule tests
