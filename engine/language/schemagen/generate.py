"""Writes every shipped schema: ``python -m engine.language.schemagen`` rewrites ``schemas/*.json``.

The schemas' source is the kinds themselves (each rule-file kind's ``schema()``, built in
turn from its gate, exit-tier or component kinds' fragments); this module only gathers
them and holds the shared types (``common``). A test checks that the committed JSON equals
what this module generates, so the two can never drift.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from engine.language import kinds as rule_kinds
from engine.language.kinds import overlays
from engine.language.schemagen.dsl import Schema
from engine.market.schema import snapshot_schema
from engine.replay.build_spec import schema as snapshot_build_schema
from engine.sweeps.spec import schema as sweep_schema

HERE = Path(__file__).resolve().parents[3] / "schemas"  # the shipped JSON, beside the packages


def common() -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "common",
        "description": "Shared value types of rulebot rule files.",
        "$defs": {
            "duration": {
                "type": "string",
                "pattern": r"^[0-9]+(\.[0-9]+)?(ms|s|m|h|d)$",
                "description": "A length of time: a number and a unit ms, s, m, h or d (`90s`, `30m`, `2h`).",
                "x-unit": "duration",
                "x-finite": True,
            },
            "identifier": {
                "type": "string",
                "pattern": r"^[a-z][a-z0-9_]{0,63}$",
                "description": "A lower_snake_case name.",
                "x-unit": "id",
            },
            "expression": {
                "type": "string",
                "minLength": 1,
                "description": "A rulebot expression (docs/reference/expressions.md).",
                "x-unit": "expression",
            },
            "reason_code": {
                "type": "string",
                "pattern": r"^[A-Z][A-Z0-9_]{2,63}$",
                "description": "A stable UPPER_SNAKE reason code.",
                "x-unit": "code",
            },
            "symbol": {
                "type": "string",
                "pattern": r"^[A-Z0-9]{2,20}$",
                "description": "A rulebot symbol: base + quote, e.g. BTCUSDT.",
                "x-unit": "symbol",
            },
            "venue_symbol": {
                "type": "string",
                "pattern": r"^[A-Za-z0-9_\-]{2,32}$",
                "description": "A symbol as the venue spells it (PF_XBTUSD, BTC-USDT).",
                "x-unit": "symbol",
            },
            "time_of_day": {
                "type": "string",
                "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                "description": "HH:MM in UTC.",
                "x-unit": "time",
            },
            "weekday": {
                "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "description": "A day of the week.",
                "x-unit": "enum",
            },
            "direction": {"enum": ["LONG", "SHORT", "NEUTRAL"], "description": "A trade direction.", "x-unit": "enum"},
        },
    }


def builders() -> dict[str, Callable[[], Schema]]:
    """Every shipped schema file and what writes it: the shared types, each base rule-file
    kind's own ``schema()`` (read from the registry now, so a kind registered at run time is
    included), the overlay kinds, and the two data contracts (snapshots, build specs)."""
    return {
        "common": common,
        **{kind: module.schema for kind, module in rule_kinds.KINDS.items()},
        "profile": overlays.profile_schema,
        "learned": overlays.learned_schema,
        "snapshot": snapshot_schema,
        "snapshot-build": snapshot_build_schema,
        "sweep": sweep_schema,
    }


def render(name: str) -> str:
    return json.dumps(builders()[name](), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    for name in builders():
        (HERE / f"{name}.schema.json").write_text(render(name), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
