"""A tiny vocabulary for writing the JSON Schemas of rule files.

Why not hand-written JSON: every field needs a description and a unit, every object is
strict, and a *learnable* value must accept both ``0.22`` and
``{value: 0.22, learn: {min, max, max_step}}`` with the same range check on each
number. These helpers make those rules impossible to forget. ``python -m engine.language.schemagen``
writes the JSON files beside this module; the engine only ever reads the JSON.
"""

from __future__ import annotations

from typing import Any

COMMON = "common.schema.json"

Schema = dict[str, Any]

# Enumerations several rule kinds share (one spelling for every schema that uses them).
PROFILES = ["paper", "live"]
CONVICTIONS = ["HIGH", "MEDIUM", "LOW", "NONE"]
TIMEFRAMES = ["1m", "5m", "15m", "1h", "4h", "1d"]
TIMING_ACTIONS = ["HOLD", "HOLD_EXTENDED", "EXIT_NOW", "EXIT_SOONER", "TAKE_PROFIT", "FORCE_EXIT"]
INPUTS = [
    "liquidations",
    "exchange_netflow",
    "funding_rate",
    "candles_1m",
    "order_book",
    "fear_greed",
    "open_interest",
    "taker_volume",
    "volatility_skew",
    "price",
]  # = engine.market.snapshot.INPUT_NAMES


def _field(schema: Schema, description: str, unit: str, default: Any = None) -> Schema:
    schema = dict(schema)
    schema["description"] = description
    schema["x-unit"] = unit
    if default is not None:
        schema["default"] = default
    return schema


def num(
    description: str,
    unit: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: float | None = None,
    integer: bool = False,
    default: Any = None,
) -> Schema:
    schema: Schema = {"type": "integer" if integer else "number"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    if exclusive_minimum is not None:
        schema["exclusiveMinimum"] = exclusive_minimum
    return _field(schema, description, unit, default)


def text(
    description: str,
    *,
    pattern: str | None = None,
    enum: list[str] | None = None,
    unit: str = "text",
    default: Any = None,
    max_length: int = 200,
    secret: bool = False,
) -> Schema:
    """A string. ``secret`` marks a field that names or holds a credential (``x-secret``):
    engine.language.schema never quotes its value in a diagnostic, whatever it holds, since a
    real key pasted there would otherwise be repeated in the terminal and in CI logs."""
    schema: Schema = {"type": "string", "maxLength": max_length}
    if pattern is not None:
        schema["pattern"] = pattern
    if enum is not None:
        schema = {"enum": list(enum)}
        unit = "enum"
    schema = _field(schema, description, unit, default)
    if secret:
        schema["x-secret"] = True
    return schema


def boolean(description: str, default: Any = None) -> Schema:
    return _field({"type": "boolean"}, description, "bool", default)


def ref(name: str, description: str, unit: str, default: Any = None) -> Schema:
    """A reference into common.schema.json's $defs."""
    return _field({"$ref": f"{COMMON}#/$defs/{name}"}, description, unit, default)


def duration(description: str, default: Any = None, *, positive: bool = False, whole_minutes: bool = False) -> Schema:
    """A duration (common ``duration``: always finite), optionally refused at zero or off
    whole minutes.

    JSON Schema cannot bound the number inside a string, so the bounds go into the
    ``x-seconds`` keyword, checked on the parsed seconds by engine.language.schema: a window or
    period of 0 s (or bars of 90 s) would otherwise pass ``validate`` and fail at run time.
    """
    schema = ref("duration", description, "duration", default)
    seconds: Schema = {}
    if positive:
        seconds["exclusiveMinimum"] = 0
    if whole_minutes:
        seconds["multipleOf"] = 60
    if seconds:
        schema["x-seconds"] = seconds
    return schema


def identifier(description: str) -> Schema:
    return ref("identifier", description, "id")


def expression(description: str, result: str = "bool") -> Schema:
    schema = ref("expression", description, "expression")
    schema["x-expression"] = result
    return schema


def learnable(base: Schema) -> Schema:
    """``base`` or ``{value: base, learn: {min, max, max_step}}`` (bounds typed like base)."""
    plain = {k: v for k, v in base.items() if k not in ("description", "x-unit", "default")}
    bounds = {
        "type": "object",
        "additionalProperties": False,
        "required": ["min", "max", "max_step"],
        "description": "Bounds within which a learner may move this value.",
        "x-unit": "object",
        "properties": {
            "min": _field(plain, "Lowest value a learner may write.", base["x-unit"]),
            "max": _field(plain, "Highest value a learner may write.", base["x-unit"]),
            "max_step": _field(plain, "Largest change a learner may make in one update.", base["x-unit"]),
        },
    }
    wrapped = {
        "type": "object",
        "additionalProperties": False,
        "required": ["value", "learn"],
        "properties": {
            "value": _field(plain, "The value in force.", base["x-unit"]),
            "learn": bounds,
        },
    }
    schema = _field({"anyOf": [plain, wrapped]}, base["description"], base["x-unit"], base.get("default"))
    schema["x-learnable"] = True
    return schema


def obj(
    description: str,
    properties: dict[str, Schema],
    *,
    required: list[str] | None = None,
    unit: str = "object",
    title: str | None = None,
) -> Schema:
    schema: Schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    if required is None:
        required = [k for k, v in properties.items() if "default" not in v]
    if required:
        schema["required"] = required
    if title:
        schema["title"] = title
    return _field(schema, description, unit)


def arr(
    description: str,
    items: Schema,
    *,
    min_items: int | None = None,
    max_items: int | None = None,
    unique: bool = False,
    unit: str = "list",
) -> Schema:
    schema: Schema = {"type": "array", "items": items}
    if min_items is not None:
        schema["minItems"] = min_items
    if max_items is not None:
        schema["maxItems"] = max_items
    if unique:
        schema["uniqueItems"] = True
    return _field(schema, description, unit)


def mapping(
    description: str,
    values: Schema,
    *,
    key_pattern: str | None = None,
    keys: list[str] | None = None,
    unit: str = "map",
) -> Schema:
    schema: Schema = {"type": "object", "additionalProperties": values}
    if keys is not None:
        schema["propertyNames"] = {"enum": list(keys)}
    elif key_pattern is not None:
        schema["propertyNames"] = {"pattern": key_pattern}
    return _field(schema, description, unit)


def kinds(description: str, variants: dict[str, Schema], *, unit: str = "object") -> tuple[Schema, dict]:
    """A tagged union on ``kind``; returns the union schema and the $defs to add.

    Each variant is checked only when its ``kind`` matches (if/then), so an error
    names the field of the right variant instead of a wall of oneOf noise.
    """
    defs = {f"kind_{name}": schema for name, schema in variants.items()}
    union: Schema = {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": list(variants), "description": "Which rule kind this is.", "x-unit": "enum"}},
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": name}}, "required": ["kind"]},
                "then": {"$ref": f"#/$defs/kind_{name}"},
            }
            for name in variants
        ],
    }
    return _field(union, description, unit), defs


def document(
    kind: str,
    title: str,
    description: str,
    properties: dict[str, Schema],
    defs: dict | None = None,
    required: list[str] | None = None,
) -> Schema:
    """The top-level schema of one rule-file kind."""
    props = {"kind": _field({"const": kind}, f"Always `{kind}`: tells rulebot what this file is.", "enum")}
    props.update(properties)
    schema = obj(description, props, required=required, title=title)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    if required is None:
        schema["required"] = [k for k, v in props.items() if "default" not in v]
    if defs:
        schema["$defs"] = defs
    schema["x-kind"] = kind
    return schema


def element(kind: str, description: str, properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    """One variant of a tagged union: ``id`` and ``kind`` plus its own fields."""
    props = {
        "id": identifier(
            "Unique name of this element within its list; used in reason codes, parameter paths and the decision trace."
        ),
        "kind": _field({"const": kind}, "Which rule kind this is.", "enum"),
    }
    props.update(properties)
    schema = obj(description, props, required=required, title=kind)
    if required is None:
        schema["required"] = [k for k, v in props.items() if "default" not in v]
    return schema
