"""Builders shared by the entry tests: rule-set copies with overrides, signal records,
portfolios. Everything goes through the real compiler and the real engine objects.

Rule changes for a test come in two forms, both applied to a fresh copy of ``rules/``:

* ``overrides`` — dotted parameter path → scalar, written into the profile's own
  ``overrides:`` block (merged with what the profile already overrides, e.g. live's
  ``requirements.policy.freeze_entries: true``). This is the supported way to change a
  value, so it also proves the override path works for that parameter.
* ``edits`` — dotted parameter path → any YAML value (lists, mappings), written straight
  into the copied base file. For values an override cannot express (a whole list).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from engine.bot.states import Claim
from engine.language.compiler import compile_ruleset
from engine.language.paths import resolve, set_value
from engine.trading.portfolio import AccountStats, Portfolio, Position, TradeStats
from engine.trading.signals.answer import Answer, neutral
from engine.trading.signals.record import ComponentResult, SignalRecord
from engine.trading.signals.vote import vote

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
KIND_FILES = {
    "ruleset": "ruleset.yaml",
    "signals": "signals.yaml",
    "gates": "gates.yaml",
    "requirements": "requirements.yaml",
    "risk": "risk.yaml",
    "exits": "exits.yaml",
    "learning": "learning.yaml",
    "schedules": "schedules.yaml",
    "venues": "venues.yaml",
}


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # the strict rule loader refuses anchors
        return True


def _dump(data: Any, path: Path) -> None:
    path.write_text(yaml.dump(data, Dumper=_NoAliases, sort_keys=False, allow_unicode=True), encoding="utf-8")


class RuleSets:
    """Compiles ``rules/`` copies with overrides/edits, once per distinct change set."""

    def __init__(self, base_dir: Path):
        self.base_dir = base_dir
        self._results: dict[str, Any] = {}

    def compile(
        self,
        overrides: Mapping[str, Any] | None = None,
        edits: Mapping[str, Any] | None = None,
        profiles: tuple[str, ...] = ("paper", "live"),
    ):
        """The compile Result for a rules copy with these changes (not asserted ok)."""
        key = json.dumps([overrides or {}, edits or {}, profiles], sort_keys=True)
        if key not in self._results:
            self._results[key] = self._compile(dict(overrides or {}), dict(edits or {}), profiles)
        return self._results[key]

    def plan(self, profile: str, overrides: Mapping[str, Any] | None = None, edits: Mapping[str, Any] | None = None):
        if not overrides and not edits:
            result = self.compile()
        else:
            result = self.compile(overrides, edits, (profile,))
        assert result.ok, [str(d) for d in result.diagnostics]
        return result.plans[profile]

    def _compile(self, overrides: dict, edits: dict, profiles: tuple[str, ...]):
        if not overrides and not edits:
            return compile_ruleset(str(RULES))
        root = self.base_dir / f"rules{len(self._results)}"
        shutil.copytree(RULES, root)
        for dotted, value in edits.items():
            kind = dotted.split(".", 1)[0]
            path = root / KIND_FILES[kind]
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            _, raw = resolve({kind: data}, dotted)
            set_value(data, raw, value)
            _dump(data, path)
        for name in profiles:
            path = root / "profiles" / f"{name}.yaml"
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            data["overrides"] = {**(data.get("overrides") or {}), **overrides}
            _dump(data, path)
        return compile_ruleset(str(root), profiles)


def component_answers(plan, components: list[Mapping[str, Any]]) -> list[tuple[Any, Answer]]:
    """(Component, Answer) for every component of the plan; unlisted ones are NEUTRAL."""
    known = {c.id: c for c in plan.signals.components}
    given = {}
    for item in components:
        assert item["id"] in known, f"unknown component {item['id']!r}; known: {sorted(known)}"
        assert item["direction"] in ("LONG", "SHORT", "NEUTRAL"), item
        given[item["id"]] = Answer(item["direction"], float(item["confidence"]), (item.get("reason", "scenario"),))
    return [(c, given.get(c.id, neutral("scenario:not_listed"))) for c in plan.signals.components]


def signal_record(plan, symbol: str, spec: Mapping[str, Any], ts: float) -> SignalRecord:
    """A SignalRecord from a scenario's signal excerpt.

    The outcome (direction, aligned count, confidence, conviction, size multiplier) is
    computed by the plan's real vote from the listed component answers. Outcome fields
    given in ``spec`` are cross-checked against that vote, so a scenario cannot state an
    outcome its components would not produce — unless ``synthetic: true``, where the
    given fields replace the vote's (the conviction's size multiplier follows the level).
    """
    pairs = component_answers(plan, spec.get("components", []))
    decided = vote(plan.signals, pairs)
    fields = {
        "direction": decided.direction,
        "aligned_count": decided.aligned_count,
        "confidence": decided.confidence,
        "conviction": decided.conviction,
        "size_multiplier": decided.size_multiplier,
    }
    synthetic = bool(spec.get("synthetic", False))
    for key in ("direction", "aligned_count", "confidence", "conviction"):
        if key not in spec:
            continue
        if synthetic:
            fields[key] = spec[key]
        elif key == "confidence":
            assert abs(spec[key] - fields[key]) < 1e-9, (
                f"vote gives confidence {fields[key]!r}, scenario says {spec[key]!r}"
            )
        else:
            assert spec[key] == fields[key], f"vote gives {key} {fields[key]!r}, scenario says {spec[key]!r}"
    if synthetic and "conviction" in spec:
        levels = {level.name: level.size_multiplier for level in plan.signals.levels}
        fields["size_multiplier"] = levels.get(spec["conviction"], plan.signals.fallback_multiplier)
    return SignalRecord(
        version=plan.version,
        profile=plan.profile,
        ts=ts,
        symbol=symbol,
        components=tuple(ComponentResult(c, a) for c, a in pairs),
        vote=replace(decided, **fields),
    )


def portfolio(spec: Mapping[str, Any]) -> Portfolio:
    """A Portfolio from a scenario's portfolio block (see tests/entry/scenarios/README)."""
    positions = tuple(
        Position(
            symbol=p["symbol"],
            direction=p["direction"],
            notional_usd=float(p["notional_usd"]),
            margin_usd=float(p.get("margin_usd", p["notional_usd"] / p.get("leverage", 3))),
            entry_price=float(p.get("entry_price", 100.0)),
            leverage=float(p.get("leverage", 3)),
            opened_at=float(p.get("opened_at", 0.0)),
        )
        for p in spec.get("positions", ())
    )
    stats = {
        (s["symbol"], s["direction"]): TradeStats(
            trades=int(s["trades"]),
            win_rate=float(s.get("win_rate", 0.0)),
            expectancy_pct=float(s.get("expectancy_pct", 0.0)),
        )
        for s in spec.get("stats", ())
    }
    equity = float(spec["equity_usd"])
    return Portfolio(
        equity_usd=equity,
        available_margin_usd=float(spec.get("available_margin_usd", equity)),
        positions=positions,
        stats=MappingProxyType(stats),
        account=AccountStats(**spec.get("account", {})),
        held=tuple(Claim(**claim) for claim in spec.get("held", ())),
    )


def sized(plan, **kw):
    """``size_entry`` for a BTCUSDT LONG, MEDIUM, at 60,000 USD on 10,000 USD of equity with
    multiplier 1 and a 2.5 % stop — unless ``kw`` says otherwise."""
    from engine.trading.sizing import size_entry

    args = dict(
        symbol="BTCUSDT",
        direction="LONG",
        conviction="MEDIUM",
        price=60000.0,
        equity_usd=10000.0,
        multiplier=1.0,
        stop_loss_pct=2.5,
    )
    args.update(kw)
    return size_entry(plan, **args)
