"""Turning a JSON schema into the rows of a parameter table.

The schemas (``engine.language.schema.load_schema``) are the single source of every field,
its description, type, unit, default and learnability; this module only reads them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.docgen.markdown import code

Schema = Mapping[str, Any]

_COMMON_TYPES = {
    "duration": "duration",
    "identifier": "id (`lower_snake_case`)",
    "reason_code": "reason code (`UPPER_SNAKE`)",
    "symbol": "symbol (`BTCUSDT`)",
    "venue_symbol": "venue symbol (`PF_XBTUSD`)",
    "time_of_day": "time `HH:MM` (UTC)",
}
#: ``x-unit`` values that name a shape rather than a unit: the Unit column leaves them out.
_STRUCTURAL_UNITS = {"object", "list", "map", "text", "enum", "bool", "id", "expression", "code", "any"}


@dataclass(frozen=True)
class Row:
    """One parameter of a kind: a row of its page's parameter table."""

    path: str
    description: str
    type: str
    unit: str
    default: str
    learnable: bool


@dataclass(frozen=True)
class Union:
    """A list whose elements are a tagged union on ``kind``; each variant gets a section."""

    path: str  # e.g. "components[]"
    variants: dict[str, Schema]  # kind name → variant schema


def schema_of(kind: str) -> Schema:
    """The JSON schema of ``kind`` (or of ``common``), as the validator uses it."""
    from engine.language.schema import load_schema

    return load_schema(kind)


def _local_ref(node: Schema, root: Schema) -> Schema | None:
    ref = node.get("$ref", "")
    if ref.startswith("#/$defs/"):
        target: Schema = root["$defs"][ref.removeprefix("#/$defs/")]
        return target
    return None


def common_name(node: Schema) -> str | None:
    """The name of the common.schema.json definition ``node`` refers to, if any."""
    ref = node.get("$ref", "")
    return ref.split("/")[-1] if ref.startswith("common.schema.json#/$defs/") else None


def variants(node: Schema, root: Schema) -> dict[str, Schema]:
    """Kind name → schema, for a tagged union on ``kind`` (allOf of if/then)."""
    found = {}
    for branch in node.get("allOf", ()):
        name = branch.get("if", {}).get("properties", {}).get("kind", {}).get("const")
        target = _local_ref(branch.get("then", {}), root)
        if name is not None and target is not None:
            found[name] = target
    return found


def join_path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _num(x: Any) -> str:
    return json.dumps(x)


def enum_of(values: list[Any]) -> str:
    """``one of `a`, `b` ``: the values an enumeration allows."""
    return "one of " + ", ".join(code(str(v)) for v in values)


def _range(node: Schema) -> str:
    lo, hi, xlo = node.get("minimum"), node.get("maximum"), node.get("exclusiveMinimum")
    parts = []
    if lo is not None and hi is not None:
        parts.append(f"{_num(lo)} … {_num(hi)}")
    elif lo is not None:
        parts.append(f"≥ {_num(lo)}")
    elif hi is not None:
        parts.append(f"≤ {_num(hi)}")
    if xlo is not None:
        parts.insert(0, f"> {_num(xlo)}")
        if hi is not None and lo is None:
            parts = [f"> {_num(xlo)}, ≤ {_num(hi)}"]
    return ", ".join(parts)


def type_of(node: Schema, root: Schema) -> str:
    """A short human description of the values ``node`` accepts.

    Schema keywords are tried from the most to the least specific: a fixed value or a
    shared definition says more to a rule author than the bare JSON type behind it.
    """
    if node.get("x-learnable"):
        return type_of(node["anyOf"][0], root)
    if "const" in node:
        return f"always {code(str(node['const']))}"
    if "enum" in node:
        return enum_of(node["enum"])
    common = common_name(node)
    if common is not None:
        return _common_type(common, node)
    if "anyOf" in node:
        return " or ".join(type_of(alt, root) for alt in node["anyOf"])
    kind = node.get("type")
    describe = _TYPE_DESCRIPTIONS.get(kind) if isinstance(kind, str) else None
    return describe(node, root) if describe is not None else "value"


def _common_type(name: str, node: Schema) -> str:
    """A shared definition from common.schema.json, by its meaning rather than its shape.

    Expressions link to their guide; enumerations list their values, since the
    definition's name alone would not tell the author what to write.
    """
    if name == "expression":
        return f"[expression](expressions.md) → {node.get('x-expression', 'bool')}"
    definition = schema_of("common")["$defs"][name]
    if "enum" in definition:
        return enum_of(definition["enum"])
    return _COMMON_TYPES.get(name, name) + _seconds_bounds(node.get("x-seconds", {}))


def _seconds_bounds(bounds: Schema) -> str:
    """A duration's own bounds (``x-seconds``): the reader learns that `0s` or `90s` is refused
    from the table, not from a failed validate."""
    words = []
    if "exclusiveMinimum" in bounds:
        words.append(f"> {bounds['exclusiveMinimum']}s")
    if bounds.get("multipleOf") == 60:
        words.append("whole minutes")
    return f" {', '.join(words)}" if words else ""


def _number_type(node: Schema, root: Schema) -> str:
    """``number``/``integer`` with its bounds: a value out of range is refused like a wrong type."""
    return f"{node['type']} {_range(node)}".strip()


def _boolean_type(node: Schema, root: Schema) -> str:
    """Booleans in the YAML spelling a rule author should write."""
    return "`true` / `false`"


def _string_type(node: Schema, root: Schema) -> str:
    """Text, with its pattern and any length limit other than the usual 200 characters."""
    text = "text"
    if "pattern" in node:
        text += f" matching {code(node['pattern'])}"
    if node.get("maxLength", 200) != 200:
        text += f", ≤ {node['maxLength']} characters"
    return text


def _array_type(node: Schema, root: Schema) -> str:
    """``list of <items> (<counts>)``; the count limits are left out when there are none."""
    inner, counts = _item_noun(node["items"], root), _item_counts(node)
    return f"list of {inner}" + (f" ({', '.join(counts)})" if counts else "")


def _item_noun(items: Schema, root: Schema) -> str:
    """What a list holds: object fields get rows of their own (see ``_children``), so they are only named."""
    if variants(items, root):
        return "elements, each of one kind below"
    if items.get("type") == "object" and "properties" in items:
        return "objects"
    return type_of(items, root)


def _item_counts(node: Schema) -> list[str]:
    """The list's size limits and uniqueness, in the order a reader checks them."""
    counts = []
    if "minItems" in node and "maxItems" in node:
        counts.append(f"{node['minItems']}–{node['maxItems']} items")
    elif "minItems" in node:
        counts.append(f"≥ {node['minItems']} item" + ("s" if node["minItems"] != 1 else ""))
    elif "maxItems" in node:
        counts.append(f"≤ {node['maxItems']} items")
    if node.get("uniqueItems"):
        counts.append("no duplicates")
    return counts


def _object_type(node: Schema, root: Schema) -> str:
    """Maps (free keys, one value schema) read differently from records with fixed fields."""
    if isinstance(node.get("additionalProperties"), dict):
        return _map_type(node, root)
    if variants(node, root):
        return "object: one of the kinds below"
    return "object"


def _map_type(node: Schema, root: Schema) -> str:
    """``map (<which keys>) → <value type>``."""
    return f"map ({_map_keys(node.get('propertyNames', {}))}) → {type_of(node['additionalProperties'], root)}"


def _map_keys(keys: Schema) -> str:
    """Which keys a map allows, from its ``propertyNames`` schema."""
    if "enum" in keys:
        return "keys " + ", ".join(code(k) for k in keys["enum"])
    if "pattern" in keys:
        return f"keys matching {code(keys['pattern'])}"
    return "any keys"


# JSON ``type`` → describer; a type not listed here (or none) is just "value".
_TYPE_DESCRIPTIONS: dict[str, Callable[[Schema, Schema], str]] = {
    "number": _number_type,
    "integer": _number_type,
    "boolean": _boolean_type,
    "string": _string_type,
    "array": _array_type,
    "object": _object_type,
}


def _default(node: Schema, required: bool) -> str:
    if "default" in node:
        return code(flow(node["default"]))
    return "required" if required else "optional"


def flow(value: Any) -> str:
    """A value in YAML flow style, as a rule author would write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value)


def _unit(node: Schema) -> str:
    unit = node.get("x-unit", "")
    return "" if unit in _STRUCTURAL_UNITS else unit


def walk(
    node: Schema, root: Schema, prefix: str = "", required: bool = True, unions: list[Union] | None = None
) -> Iterator[Row]:
    """Rows for every property under the object schema ``node``; tagged unions inside
    lists are collected into ``unions`` (their variants are documented separately)."""
    needed = set(node.get("required", ()))
    for name, sub in node.get("properties", {}).items():
        path = join_path(prefix, name)
        yield _row(path, sub, root, name in needed)
        yield from _children(path, sub, root, unions)


def _row(path: str, node: Schema, root: Schema, required: bool) -> Row:
    description = node.get("description", "")
    items = node.get("items") if node.get("type") == "array" else None
    if isinstance(items, dict) and items.get("type") == "object" and items.get("description"):
        description += f" Each element: {items['description']}"
    return Row(
        path=path,
        description=description,
        type=type_of(node, root),
        unit=_unit(node),
        default=_default(node, required),
        learnable=bool(node.get("x-learnable")),
    )


def _children(path: str, node: Schema, root: Schema, unions: list[Union] | None) -> Iterator[Row]:
    if node.get("x-learnable") or common_name(node) is not None:
        return
    if node.get("type") == "array":
        yield from _list_children(path, node["items"], root, unions)
        return
    if node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
        values = node["additionalProperties"]
        keys = node.get("propertyNames", {}).get("enum")
        for key in keys or ["<key>"]:
            yield _row(f"{path}.{key}", values, root, False)
            yield from _children(f"{path}.{key}", values, root, unions)
        return
    if node.get("type") == "object" and "properties" in node:
        yield from walk(node, root, path, unions=unions)


def _list_children(path: str, items: Schema, root: Schema, unions: list[Union] | None) -> Iterator[Row]:
    """A tagged union gets one ``kind`` row (its variants have sections of their own); a list
    of plain objects gets a row per field."""
    found = variants(items, root)
    if found:
        kind_node = items["properties"]["kind"]
        yield Row(
            f"{path}[].kind",
            kind_node["description"] + " See the sections below.",
            enum_of(list(found)),
            "",
            "required",
            False,
        )
        if unions is not None:
            unions.append(Union(f"{path}[]", found))
    elif items.get("type") == "object":
        yield from walk(items, root, f"{path}[]", unions=unions)


def all_nodes(node: Any) -> Iterator[Any]:
    """Every value anywhere inside a schema, itself included."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from all_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_nodes(value)


def has_id_lists(root: Schema) -> bool:
    """Whether the kind has list elements with an ``id`` (RB300 applies)."""
    return any(isinstance(n, dict) and "id" in n.get("properties", {}) for n in all_nodes(root))


def has_learnables(root: Schema) -> bool:
    return any(isinstance(n, dict) and n.get("x-learnable") for n in all_nodes(root))


def has_expressions(root: Schema) -> bool:
    return any(isinstance(n, dict) and "x-expression" in n for n in all_nodes(root))
