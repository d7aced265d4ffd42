"""Hot reload carries the live state over (engine/trading/pipeline.py ``Carry``): a component
keeps its state while the fields its ``new_state`` reads (``STATE_READS``) are unchanged, and a
pipeline that carried the unchanged parts and warmed the changed ones decides exactly as one
warmed whole on the same history."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from engine.bot.reload import compile_plan
from engine.market.snapshot import parse_snapshot
from engine.trading.pipeline import Carry, EntryPipeline, carry_from
from engine.trading.signals import components as component_kinds
from tests.lifecycle.market import snapshots
from tests.lifecycle.processes import ROOT


class Recording:
    """A component that records which of its fields are read."""

    def __init__(self, component: Any) -> None:
        self._component, self.read = component, set()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self._component, name)


# hurst 0.08 → 0.09 and oi_divergence 0.04 → 0.03: the weights still sum to 1
WEIGHTS = (
    ("value: 0.08, learn: {min: 0.02", "value: 0.09, learn: {min: 0.02"),
    ("value: 0.04, learn: {min: 0.01, max: 0.10", "value: 0.03, learn: {min: 0.01, max: 0.10"),
)


@pytest.fixture(scope="module")
def plan():
    return compile_plan(str(ROOT / "rules"), None)


def test_every_kind_builds_its_state_from_its_state_reads_only(plan, tmp_path: Path) -> None:
    from tests.signals.test_expression_component import _compile, expression_rules

    expressions = _compile(expression_rules(tmp_path)).signals.components  # the kind the defaults do not use
    kinds = {c.kind: c for c in (*plan.signals.components, *expressions)}
    assert set(kinds) == set(component_kinds.COMPONENTS)
    for kind, component in kinds.items():
        recording = Recording(component)
        component_kinds.kind_module(kind).new_state(recording)
        assert recording.read <= set(component_kinds.kind_module(kind).STATE_READS), kind


def _edited(tmp_path: Path, name: str, *edits: tuple[str, str]):
    """The default rules with signals.yaml's first ``old`` replaced by ``new`` for each edit."""
    rules = tmp_path / name
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "signals.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return compile_plan(str(rules), None)


def test_what_an_edit_carries(plan, tmp_path: Path) -> None:
    everything = frozenset(c.id for c in plan.signals.components)
    assert carry_from(plan, plan) == Carry(everything, market=True, correlation=True, screen=True)
    assert not carry_from(plan, plan).warms(plan)
    threshold = _edited(tmp_path, "a", ("paper: {trending_above: 0.55", "paper: {trending_above: 0.56"))
    weight = _edited(tmp_path, "b", *WEIGHTS)
    for edited in (threshold, weight):  # evaluated, not state: nothing to warm
        assert edited.version != plan.version and not carry_from(plan, edited).warms(edited)
    window = _edited(tmp_path, "c", ("window: 256 ", "window: 128 "))
    carry = carry_from(plan, window)
    assert carry.components == everything - {"hurst"} and carry.warms(window)
    assert carry.market and carry.correlation and carry.screen


def test_carried_and_warmed_decides_as_warmed_whole(plan, tmp_path: Path) -> None:
    new = _edited(tmp_path, "c", ("window: 256 ", "window: 128 "))
    history = [parse_snapshot(s)[0] for s in snapshots(minutes=360)]
    live = EntryPipeline(plan)
    for snapshot in history[:300]:
        live.update(snapshot)
    whole, carried = EntryPipeline(new), EntryPipeline(new)
    carry = carry_from(plan, new)
    carried.expect_carry(carry)
    for snapshot in history[:300]:
        whole.update(snapshot)
        carried.update(snapshot)
    carried.carry_over(live, carry)
    assert carried.correlation is live.correlation  # taken, not copied: the live one is replaced
    for snapshot in history[300:]:
        whole.update(snapshot)
        carried.update(snapshot)
        for symbol in new.ruleset.names():
            assert carried.signals.evaluate(symbol, snapshot.ts).as_dict() == (
                whole.signals.evaluate(symbol, snapshot.ts).as_dict()
            )
            assert carried.signals.market_env(symbol) == whole.signals.market_env(symbol)
