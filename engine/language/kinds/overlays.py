"""The two overlay kinds: a ``profile`` (paper or live settings and hand-written overrides)
and a ``learned`` file (values a learner wrote). Neither compiles to a spec of its own: the
compiler applies them over the base kinds' documents (engine/language/compiler.py), so this
module holds only their schemas."""

from __future__ import annotations

from engine.language.schemagen.dsl import PROFILES, document, mapping, num, obj, text

#: a learned file written by `rulebot sweep --write-best` names its learner ``sweep:<spec name>``:
#: no learning.yaml entry declares it, the sweep spec does
SWEEP_PREFIX = "sweep:"

PARAM_PATH = r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_:]+)+$"  # a parameter path as overlays name it


def _overlay_values(description: str) -> dict:
    value = {
        "anyOf": [{"type": "number"}, {"type": "boolean"}, {"type": "string", "maxLength": 200}],
        "description": "New value.",
        "x-unit": "any",
    }
    return mapping(description, value, key_pattern=PARAM_PATH)


def profile_schema() -> dict:
    """The JSON Schema of a profile (schemas/profile.schema.json)."""
    return document(
        "profile",
        "profile",
        "A paper or live overlay.",
        {
            "name": text("Profile name; matches the file name.", enum=PROFILES),
            "mode": text("`paper`: the paper broker fills orders; `live`: real orders.", enum=["paper", "live"]),
            "thresholds": text("Which threshold set components use.", enum=PROFILES),
            "paper_broker": obj(
                "Paper broker settings.",
                {
                    "starting_balance_usd": num("Starting equity.", "USD", exclusive_minimum=0),
                    "slippage_bps": num("Fill price worse than observed by this much.", "bps", minimum=0, maximum=1000),
                    "fill_model": text(
                        "`rulebot`: the paper broker's own fills (docs/paper-broker.md); `freqtrade`: freqtrade "
                        "2026.9 backtesting's — entries at the next open, the stop and ROI tiers filled inside "
                        "each candle (docs/migrating-from-freqtrade.md). Replays only: `rulebot run` refuses it.",
                        enum=["rulebot", "freqtrade"],
                    ),
                },
                required=["starting_balance_usd", "slippage_bps"],  # fill_model: rulebot when left out
            ),
            "overrides": _overlay_values("Parameter path → value, applied over the rule files.") | {"default": {}},
        },
        required=["kind", "name", "mode", "thresholds"],
    )


def learned_schema() -> dict:
    """The JSON Schema of a learned file (schemas/learned.schema.json)."""
    return document(
        "learned",
        "learned",
        "Values a learner wrote (machine-owned; never edit by hand).",
        {
            "learner": text(
                "Learner id from learning.yaml, or `sweep:<name>` for the best variant of a sweep "
                "(`rulebot sweep --write-best`).",
                pattern=r"^(sweep:)?[a-z][a-z0-9_]{0,63}$",
            ),
            "base_version": text("Rule-set version the learner started from.", pattern=r"^rs-[0-9a-f]{16}$"),
            "created": text("UTC time of the write (ISO 8601).", pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"),
            "values": _overlay_values("Parameter path → new value (only learnable paths)."),
            "provenance": obj(
                "Where the values came from.",
                {
                    "data_from": text("Start of the data window (ISO 8601).", max_length=40),
                    "data_to": text("End of the data window (ISO 8601).", max_length=40),
                    "trades": num("Outcomes used.", "count", minimum=0, integer=True),
                    "counts": mapping(
                        "What the learner read, counted (e.g. `outcomes`, `trades`).",
                        num("Count.", "count", minimum=0, integer=True),
                    ),
                    "metrics": mapping("Metrics of the run.", num("Metric.", "number")) | {"default": {}},
                    "message": text("Why.", max_length=2000, default=""),
                    "reasons": mapping(
                        "Parameter path → why the learner moved that value.",
                        text("Reason.", max_length=500),
                        key_pattern=PARAM_PATH,
                    ),
                },
                # counts and reasons are optional without a default: filling one in would
                # change the version id of every rule set with a learned file written before them
                required=["data_from", "data_to", "trades"],
            ),
        },
    )
