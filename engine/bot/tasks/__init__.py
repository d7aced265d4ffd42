"""The scheduled tasks: one module per task name that schedules.yaml may use, in an explicit
registry (base.py is the contract every task follows; copy ``_template.py`` to add one).

Each module defines ``NAME``, ``SUMMARY`` (one line), ``READS`` and ``EFFECTS`` (what it looks
at and what it can do, for docs/reference/tasks.md), a frozen ``Params`` with the defaults,
``schema()`` (its entry under ``tasks:`` in schedules.yaml), ``compile_params(raw, jobs)``,
``check(params, doc, path, ctx, jobs)`` and either the pure ``run(params, ctx)`` or
``LOOP_TASK = True`` (the loop does the work itself: ``bot_cycle``). Consumers look a task up in
:data:`TASKS` at call time, so a test can swap the registry.
"""

from __future__ import annotations

from types import MappingProxyType, ModuleType

from engine.bot.tasks import (
    bot_cycle,
    digest,
    expire_manual_overrides,
    fee_audit,
    learn,
    maintenance,
    override_audit,
    portfolio_reconciliation,
    recovery_cycle,
    watchdog,
)
from engine.language.registry import RegistryError, registry

#: What every task module defines (besides ``NAME`` and ``run`` or ``LOOP_TASK``).
REQUIRED = ("SUMMARY", "READS", "EFFECTS", "Params", "schema", "compile_params", "check")


def task_registry(modules: tuple[ModuleType, ...]) -> MappingProxyType[str, ModuleType]:
    """``NAME`` → module, each with the shape above and exactly one of ``run`` and a true
    ``LOOP_TASK`` (a task the loop runs must not also look runnable, and the reverse)."""
    found = registry("tasks", modules, REQUIRED, key="NAME")
    for name, module in found.items():
        if hasattr(module, "run") == bool(getattr(module, "LOOP_TASK", False)):
            raise RegistryError(f"tasks: {module.__name__} needs exactly one of run() and LOOP_TASK = True ({name})")
    return found


TASKS = task_registry(
    (
        bot_cycle,
        portfolio_reconciliation,
        watchdog,
        fee_audit,
        recovery_cycle,
        override_audit,
        expire_manual_overrides,
        digest,
        maintenance,
        learn,
    )
)


def task_module(name: str) -> ModuleType:
    """The module of task ``name``, looked up in the registry as it is now (KeyError if unknown)."""
    return TASKS[name]


def is_loop_task(name: str) -> bool:
    """Whether the loop runs task ``name`` itself (it has no ``run()``)."""
    return bool(getattr(TASKS[name], "LOOP_TASK", False))


__all__ = ["REQUIRED", "TASKS", "is_loop_task", "task_module", "task_registry"]
