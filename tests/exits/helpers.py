"""Builders for the exit tier kind tests: a tier built by hand from a kind module's ``Params``,
the ``ExitContext`` one cycle shows it, and a copy of rules/ with tiers added to exits.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

from engine.language.expr import compile_expression
from engine.language.vocabulary import CONTEXTS
from engine.trading.exits.base import ExitContext, Tier

ROOT = Path(__file__).resolve().parents[2]
PRIORITY = "priority: [stop_loss, timing, mtf_alignment, signal_reversal, profit_target, time_exit, ladder]"


def tier(module: ModuleType, params: Any, tier_id: str = "t", **sources: str) -> Tier[Any]:
    """A tier of ``module``'s kind; ``sources``: expression name → text, compiled for the exit
    vocabulary as the rule-file kind compiles them."""
    expressions = {}
    for name, text in sources.items():
        compiled, problems = compile_expression(text, CONTEXTS["exit"])
        assert compiled is not None, [str(p) for p in problems]
        expressions[name] = compiled
    return Tier(id=tier_id, kind=module.KIND, params=params, expressions=expressions)


def context(pnl_pct: float, hold_s: float = 3600.0, *, peak: float | None = None, **env: Any) -> ExitContext:
    """One cycle as a tier sees it: the exit vocabulary holds ``pnl_pct``, ``hold_s``, the peak
    (exit_env's: this cycle's P&L included, so at least ``pnl_pct``) and ``env``."""
    values = {
        "pnl_pct": pnl_pct,
        "hold_s": hold_s,
        "peak_pnl_pct": max(0.0 if peak is None else peak, pnl_pct),
        **env,
    }
    return ExitContext(None, 0.0, 100.0, pnl_pct, hold_s, MappingProxyType(values), "HOLD")


def rules_with(tmp_path: Path, tiers_yaml: str, *, first: tuple[str, ...] = (), last: tuple[str, ...] = ()) -> Path:
    """A copy of rules/ whose exits.yaml has ``tiers_yaml`` appended to its tiers and the new
    tier ids in ``priority`` (``first``: right after stop_loss; ``last``: at the end)."""
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    path = target / "exits.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(PRIORITY) == 1
    ids = PRIORITY.removeprefix("priority: [").removesuffix("]").split(", ")
    priority = [ids[0], *first, *ids[1:], *last]
    text = text.replace(PRIORITY, f"priority: [{', '.join(priority)}]")
    path.write_text(text.rstrip("\n") + "\n" + tiers_yaml, encoding="utf-8")
    return target
