"""Learners: pure functions from resolved signals and closed trades to bounded proposals
(engine/learners/base.py), one module per learner kind, and the orchestrator that decides
which proposals are applied (engine/learners/orchestrator.py).

The explicit registry below maps the ``kind`` a learner has in rules/learning.yaml to its
module (copy ``_template.py`` to add one). Each module defines ``KIND``, ``SUMMARY`` (one
line), ``CODES`` (the diagnostics its check emits), ``REQUIRED_PARAMS``, ``params_schema()``
(its fields in the ``learning`` kind's schema, besides ``id``, ``kind``, ``schedule`` and
``min_trades``), ``check(learner, doc, path, ctx, spec)``, the pure ``learn(learner, data,
plan) -> LearnerResult`` and ``explain(result) -> str``. Consumers look a learner up in
:data:`LEARNERS` at call time, so a test can swap the registry.
"""

from __future__ import annotations

from types import ModuleType

from engine.language.registry import registry
from engine.learners import counterfactual, hold_time, profit_target, signal_weight

#: What every learner module defines (besides ``KIND``).
REQUIRED = ("SUMMARY", "CODES", "REQUIRED_PARAMS", "params_schema", "check", "learn", "explain")

LEARNERS = registry("learners", (signal_weight, profit_target, hold_time, counterfactual), REQUIRED)


def learner_module(kind: str) -> ModuleType:
    """The module of learner ``kind``, looked up in the registry as it is now (KeyError if unknown)."""
    return LEARNERS[kind]


__all__ = ["LEARNERS", "REQUIRED", "learner_module"]
