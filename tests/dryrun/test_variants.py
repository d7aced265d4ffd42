"""Random rule variants replay identically on both paths: every learnable number moved
within its declared bounds (weights shifted between two components so they still sum to
one), the stop, the time exits and the ladder rungs moved, then the fast path (flat and
holding cycles skipped as columns) and the scalar path run on the same window of the
sample, and every result field compared. A variant the rules refuse is not replayed; most
must pass."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import yaml

from engine.language.compiler import compile_ruleset
from engine.language.diagnostics import Severity
from tests.dryrun.test_fast_path import _assert_same, _columns, _scalar

ROOT = Path(__file__).resolve().parents[2]
SEEDS = range(6)


def _learnables(node, path=()):
    """(path, node) of every ``{value, learn: {min, max}}`` with a numeric value."""
    if isinstance(node, dict):
        learn = node.get("learn")
        if isinstance(learn, dict) and isinstance(node.get("value"), int | float) and "min" in learn:
            yield path, node
            return
        for key, value in node.items():
            yield from _learnables(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _learnables(value, (*path, index))


def _move(rng: random.Random, node: dict) -> None:
    low, high = float(node["learn"]["min"]), float(node["learn"]["max"])
    value = rng.uniform(low, high)
    node["value"] = round(value) if isinstance(node["value"], int) else round(value, 6)


def _shift_weights(rng: random.Random, signals: dict) -> None:
    """Move weight from one component to another, both within bounds: the sum stays one."""
    weights = [c["weight"] for c in signals["components"] if isinstance(c.get("weight"), dict)]
    giver, taker = rng.sample(weights, 2)
    room = min(giver["value"] - giver["learn"]["min"], taker["learn"]["max"] - taker["value"])
    delta = round(rng.uniform(0, max(room, 0.0)), 2)
    giver["value"], taker["value"] = round(giver["value"] - delta, 2), round(taker["value"] + delta, 2)


def _tiers(rng: random.Random, exits: dict) -> None:
    for tier in exits["tiers"]:
        if tier["kind"] == "stop_loss":
            tier["loss_pct"] = round(rng.uniform(1.0, 4.0), 2)
        elif tier["kind"] == "time_exit":
            for rule in tier["rules"]:
                rule["below_pnl_pct"] = round(rule["below_pnl_pct"] + rng.uniform(-0.3, 0.3), 2)
        elif tier["kind"] == "ladder":
            scale = rng.uniform(0.5, 1.5)
            for rung in tier["rungs"]:
                rung["pnl_pct"] = round(rung["pnl_pct"] * scale, 3)


def variant(folder: Path, seed: int) -> Path:
    """A copy of rules/ with this seed's numbers."""
    rng = random.Random(seed)
    rules = folder / f"rules-{seed}"
    shutil.copytree(ROOT / "rules", rules)
    for path in sorted(rules.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        learnables = list(_learnables(document))
        if not learnables:
            continue  # left as written (a dump would requote what the strict loader refuses)
        for dotted, node in learnables:
            if "weight" not in dotted:
                _move(rng, node)
        if document["kind"] == "signals":
            _shift_weights(rng, document)
        if document["kind"] == "exits":
            _tiers(rng, document)
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return rules


@pytest.mark.slow
def test_random_rule_variants_replay_identically_on_both_paths(tmp_path, sample, recording):
    start, end = sample[2000].ts, sample[8000].ts
    replayed = trades = 0
    for seed in SEEDS:
        result = compile_ruleset(str(variant(tmp_path, seed)))
        if any(d.severity is Severity.ERROR for d in result.diagnostics):
            continue
        plan = result.plans["paper"]
        scalar = _scalar(plan, sample, start=start, end=end)
        _assert_same(_columns(plan, recording, start=start, end=end), scalar)
        replayed += 1
        trades += scalar["metrics"]["trades"]
    assert replayed >= len(SEEDS) - 1, f"only {replayed} of {len(SEEDS)} variants were valid rules"
    assert trades > 50  # the variants trade: the comparison covers entries, holding and exits
