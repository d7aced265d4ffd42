"""The learners' own checks in rules/learning.yaml: RB396 (a horizon signals are not resolved
at), RB397 (hold buckets out of order)."""

from __future__ import annotations

from engine.language.compiler import compile_ruleset
from tests.rules.conftest import edit_once, rules  # noqa: F401  (the fixture)


def _errors(path):
    return [(d.code, d.message) for d in compile_ruleset(str(path)).diagnostics if d.is_error]


def test_a_horizon_signals_are_not_resolved_at_is_rb396(rules):  # noqa: F811
    edit_once(rules / "learning.yaml", "    renormalise: true", "    renormalise: true\n    horizon: 2h")
    (found,) = _errors(rules)
    assert found[0] == "RB396" and "resolved only at 1m, 5m, 15m, 30m, 1h" in found[1]


def test_buckets_out_of_order_are_rb397(rules):  # noqa: F811
    edit_once(
        rules / "learning.yaml",
        "buckets: {short: 30m, medium: 2h, long: 8h}",
        "buckets: {short: 3h, medium: 2h, long: 8h}",
    )
    (found,) = _errors(rules)
    assert found[0] == "RB397"


def test_a_resolved_horizon_is_accepted(rules):  # noqa: F811
    edit_once(rules / "learning.yaml", "    renormalise: true", "    renormalise: true\n    horizon: 15m")
    assert _errors(rules) == []
