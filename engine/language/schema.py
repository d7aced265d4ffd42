"""JSON Schema validation of rule files, and schema-driven normalisation.

The schemas in the ``schemas`` package are the contract. This module validates a loaded
document against its kind's schema, turns every jsonschema error into a located
:class:`Diagnostic` (all of them, sorted, never only the first), and walks a valid
document with its schema to fill defaults (canonical form) and to freeze it for the
plan (durations to seconds, learnable values unwrapped, lists to tuples).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from engine.language.diagnostics import Diagnostic, Location, clip, did_you_mean
from engine.language.durations import parse_duration, spelled_seconds

CODES = {
    "RB201": "unknown key (strict schemas allow only declared keys)",
    "RB202": "required key missing",
    "RB203": "value has the wrong type",
    "RB204": "value is not one of the allowed choices",
    "RB205": "number out of its allowed range",
    "RB206": "text does not have the required form (duration, identifier, code, time, URL)",
    "RB207": "list too short or too long",
    "RB208": "list has duplicate entries",
    "RB209": "unknown key in a mapping whose keys are restricted",
    "RB210": "text too long or empty",
    "RB211": "schedule job needs exactly one of `every` or `at`",
    "RB212": "duration out of range: not a finite length of time, zero where a period must be positive, "
    "or not whole minutes where minutes are required",
    "RB299": "value does not match the schema",
}

COMMON = "common.schema.json"


@cache
def load_schema(name: str) -> Mapping[str, Any]:
    """The schema ``<name>.schema.json`` shipped in the ``schemas`` package."""
    text = resources.files("schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def schema_names() -> list[str]:
    """Every schema file shipped, by kind name (``common`` included)."""
    files = resources.files("schemas").iterdir()
    return sorted(f.name.removesuffix(".schema.json") for f in files if f.name.endswith(".schema.json"))


@cache
def _validator(kind: str):
    from jsonschema import Draft202012Validator, validators
    from referencing import Registry, Resource

    registry = Registry().with_resource(COMMON, Resource.from_contents(load_schema("common")))
    checker = validators.extend(Draft202012Validator, {"x-finite": _finite, "x-seconds": _seconds_range})
    return checker(load_schema(kind), registry=registry)


def _finite(validator, enabled, instance, schema) -> Iterator:
    """``x-finite``: a duration of hundreds of digits matches the pattern but is infinite
    seconds, which no window, clock or schedule can use."""
    from jsonschema.exceptions import ValidationError

    if enabled and spelled_seconds(instance) == math.inf:
        yield ValidationError(f"{_short(instance)} is not a finite length of time")


def _seconds_range(validator, bounds, instance, schema) -> Iterator:
    """``x-seconds``: bounds on a duration's seconds (``exclusiveMinimum``, ``multipleOf``),
    which JSON Schema cannot express on a string. Infinite durations are left to ``x-finite``."""
    from jsonschema.exceptions import ValidationError

    seconds = spelled_seconds(instance)
    if seconds is None or not math.isfinite(seconds):
        return
    if "exclusiveMinimum" in bounds and not seconds > bounds["exclusiveMinimum"]:
        yield ValidationError(
            f"{_short(instance)} is out of range: this period must be longer than {bounds['exclusiveMinimum']:g}s"
        )
    elif "multipleOf" in bounds and math.fmod(seconds, bounds["multipleOf"]) != 0:
        step = bounds["multipleOf"]
        unit = "minutes" if step == 60 else f"multiples of {step:g}s"
        yield ValidationError(f"{_short(instance)} is not a whole number of {unit}")


def validate(kind: str, data: Any, locate: Callable[[tuple, bool], Location]) -> list[Diagnostic]:
    """Every schema violation of ``data`` as a diagnostic; ``locate(path, key)`` places it."""
    found: list[Diagnostic] = []
    for error in _validator(kind).iter_errors(data):
        found.extend(_diagnose(error, locate))
    return sorted(found, key=Diagnostic.sort_key)


def _pointer(path) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _suggest(word: str, choices) -> str:
    return did_you_mean(word, choices)


def _allowed(choices) -> str:
    return ", ".join(str(c) for c in choices)


def _short(value: Any) -> str:
    return clip(json.dumps(value, ensure_ascii=False, default=str))


HIDDEN = "(value hidden: this field names a secret)"


def _shown(error) -> str:
    """The value a finding quotes, or HIDDEN for a field marked ``x-secret``: a key pasted
    there must not reach the terminal or a CI log, whatever shape it has."""
    return HIDDEN if error.schema.get("x-secret") else _short(error.instance)


def _diagnose(error, locate) -> Iterator[Diagnostic]:
    path = tuple(error.absolute_path)
    rule = error.validator
    if rule in ("anyOf", "oneOf"):
        yield from _diagnose_choice(error, locate)
        return
    handler = _HANDLERS.get(rule)
    if handler is not None:
        yield from handler(error, path, locate)
        return
    message = f"{HIDDEN} does not match the schema ({rule})" if error.schema.get("x-secret") else error.message
    yield locate(path, False).diagnostic("RB299", message, path=_pointer(path))


def _diagnose_choice(error, locate) -> Iterator[Diagnostic]:
    """anyOf/oneOf: a learnable value or a schedule job; report the branch that fits best."""
    path = tuple(error.absolute_path)
    if "every" in error.schema.get("oneOf", [{}])[0].get("required", []):
        yield locate(path, False).diagnostic(
            "RB211",
            "a schedule job needs exactly one of `every` (interval) or `at` (time of day); "
            "`weekdays` goes only with `at`",
            path=_pointer(path),
            suggestion='write either `every: 10m` or `at: "07:00"`',
        )
        return
    instance = error.instance
    branches = [e for e in error.context if (e.relative_schema_path[0] == 1) == isinstance(instance, dict)]
    if not branches:
        branches = list(error.context)
    deepest = max(len(e.absolute_path) for e in branches)
    for sub in branches:
        if len(sub.absolute_path) == deepest:
            yield from _diagnose(sub, locate)


def _unknown_keys(error, path, locate):
    allowed = list(error.schema.get("properties", {}))
    for key in error.instance:
        if key in allowed:
            continue
        yield locate(path + (key,), True).diagnostic(
            "RB201",
            f"unknown key '{clip(key)}'; allowed here: {_allowed(allowed)}",
            path=_pointer(path + (key,)),
            suggestion=_suggest(key, allowed),
        )


def _required(error, path, locate):
    yield locate(path, True).diagnostic(
        "RB202", error.message.replace("is a required property", "is required here"), path=_pointer(path)
    )


_YAML_TYPE = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
    dict: "mapping",
    list: "list",
}


def _type(error, path, locate):
    expected = error.validator_value
    found = _YAML_TYPE.get(type(error.instance), type(error.instance).__name__)
    hint = ""
    if isinstance(error.instance, str) and expected in ("number", "integer"):
        hint = "write the number without quotes"
    yield locate(path, False).diagnostic(
        "RB203", f"expected {expected}, found {found} {_shown(error)}", path=_pointer(path), suggestion=hint
    )


def _enum(error, path, locate):
    choices = error.validator_value if error.validator == "enum" else [error.validator_value]
    yield locate(path, False).diagnostic(
        "RB204",
        f"{_shown(error)} is not allowed here; allowed: {_allowed(choices)}",
        path=_pointer(path),
        suggestion=_suggest(error.instance, choices),
    )


def _range(error, path, locate):
    words = {
        "minimum": "at least",
        "maximum": "at most",
        "exclusiveMinimum": "more than",
        "exclusiveMaximum": "less than",
    }
    yield locate(path, False).diagnostic(
        "RB205",
        f"{_shown(error)} is out of range: must be {words[error.validator]} {error.validator_value}",
        path=_pointer(path),
    )


def _pattern(error, path, locate):
    described = error.schema.get("description", "")
    hint = ""  # the description says the form, with its examples: no second copy of them here
    if error.schema.get("x-secret"):
        hint = "keep the secret in an environment variable and write only that variable's name here"
    yield locate(path, False).diagnostic(
        "RB206",
        f"{_shown(error)} does not have the required form: {described}",
        path=_pointer(path),
        suggestion=hint,
    )


def _items(error, path, locate):
    """RB207 counting the entries (jsonschema's message would print the whole list)."""
    limit, count = error.validator_value, len(error.instance)
    if error.validator == "maxItems":
        message = f"list has {count} entries; at most {limit} allowed"
    else:
        message = "list is empty" if count == 0 else f"list has {count} entries"
        message += f"; at least {limit} needed"
    yield locate(path, False).diagnostic("RB207", message, path=_pointer(path))


def _unique(error, path, locate):
    yield locate(path, False).diagnostic("RB208", "list has duplicate entries", path=_pointer(path))


def _property_names(error, path, locate):
    allowed = error.validator_value.get("enum")
    for key in error.instance:
        if allowed is not None and key not in allowed:
            yield locate(path + (key,), True).diagnostic(
                "RB209",
                f"unknown key '{clip(key)}'; allowed here: {_allowed(allowed)}",
                path=_pointer(path + (key,)),
                suggestion=_suggest(key, allowed),
            )
        elif allowed is None and _validator_matches(error.validator_value, key) is False:
            yield locate(path + (key,), True).diagnostic(
                "RB209", f"key '{clip(key)}' does not have the required form", path=_pointer(path + (key,))
            )


def _validator_matches(schema: Mapping, key: str) -> bool:
    import re

    pattern = schema.get("pattern")
    return pattern is None or re.search(pattern, key) is not None


def _length(error, path, locate):
    """RB210 naming the limit, with the text cut short (jsonschema's message quotes it whole)."""
    limit = error.validator_value
    if error.validator == "maxLength":
        message = f"{_shown(error)} is too long: at most {limit} characters, found {len(error.instance)}"
    else:
        message = "text is empty" if limit == 1 else f"{_shown(error)} is too short: at least {limit} characters"
    yield locate(path, False).diagnostic("RB210", message, path=_pointer(path))


_DURATION_HINTS = {"x-finite": "write a shorter duration, e.g. 30d", "x-seconds": "e.g. 1m, 5m or 1h"}


def _duration_range(error, path, locate):
    """RB212: the message was written by ``_finite`` / ``_seconds_range``."""
    yield locate(path, False).diagnostic(
        "RB212", error.message, path=_pointer(path), suggestion=_DURATION_HINTS[error.validator]
    )


_HANDLERS = {
    "additionalProperties": _unknown_keys,
    "required": _required,
    "type": _type,
    "enum": _enum,
    "const": _enum,
    "minimum": _range,
    "maximum": _range,
    "exclusiveMinimum": _range,
    "exclusiveMaximum": _range,
    "pattern": _pattern,
    "minItems": _items,
    "maxItems": _items,
    "uniqueItems": _unique,
    "propertyNames": _property_names,
    "maxLength": _length,
    "minLength": _length,
    "x-finite": _duration_range,
    "x-seconds": _duration_range,
}


# ------------------------------------------------------------------ schema-driven walks


def _resolve(schema: Mapping, root: Mapping) -> tuple[Mapping, Mapping]:
    """Follow ``$ref`` (local or into common.schema.json); returns (schema, its root)."""
    while "$ref" in schema:
        target, _, fragment = schema["$ref"].partition("#")
        if target:
            root = load_schema(target.removesuffix(".schema.json"))
        node: Any = root
        for part in fragment.strip("/").split("/"):
            node = node[part]
        merged = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**node, **merged}
    return schema, root


def _variant(schema: Mapping, data: Any, root: Mapping) -> tuple[Mapping, Mapping]:
    """For a tagged union, the schema of the variant named by ``data['kind']``."""
    if isinstance(data, dict):
        for branch in schema.get("allOf", ()):
            const = branch.get("if", {}).get("properties", {}).get("kind", {}).get("const")
            if const is not None and const == data.get("kind"):
                return _resolve(branch["then"], root)
    return schema, root


def is_learnable(schema: Mapping) -> bool:
    return bool(schema.get("x-learnable"))


def _learnable_branch(schema: Mapping, data: Any) -> Mapping:
    plain, wrapped = schema["anyOf"]
    return wrapped if isinstance(data, dict) else plain


def fill_defaults(data: Any, schema: Mapping, root: Mapping | None = None) -> Any:
    """A copy of valid ``data`` with every schema default written out (the canonical form)."""
    root = schema if root is None else root
    schema, root = _resolve(schema, root)
    schema, root = _variant(schema, data, root)
    if is_learnable(schema):
        return fill_defaults(data, _learnable_branch(schema, data), root)
    if isinstance(data, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        out = {}
        for key, value in data.items():
            sub = props.get(key, extra if isinstance(extra, dict) else {})
            out[key] = fill_defaults(value, sub, root)
        for key, sub in props.items():
            if key not in out and "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
        return out
    if isinstance(data, list):
        return [fill_defaults(item, schema.get("items", {}), root) for item in data]
    return data


def freeze(
    data: Any,
    schema: Mapping,
    root: Mapping | None = None,
    *,
    on_learnable: Callable[[tuple, Mapping, Any], None] | None = None,
    path: tuple = (),
) -> Any:
    """Immutable plan data: durations in seconds, learnables unwrapped, lists as tuples.

    ``on_learnable(path, bounds, value)`` is told about every learnable value (bounds and
    value frozen too), so the plan knows which parameters learners may move and from where.
    """
    root = schema if root is None else root
    schema, root = _resolve(schema, root)
    schema, root = _variant(schema, data, root)
    if is_learnable(schema):
        if isinstance(data, dict):
            branch = _learnable_branch(schema, data)["properties"]
            bounds = {k: freeze(v, branch["learn"]["properties"][k], root) for k, v in data["learn"].items()}
            value = freeze(data["value"], branch["value"], root)
            if on_learnable is not None:
                on_learnable(path, MappingProxyType(bounds), value)
            return value
        return freeze(data, schema["anyOf"][0], root)
    if schema.get("x-unit") == "duration" and isinstance(data, str):
        return parse_duration(data)
    if isinstance(data, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return MappingProxyType(
            {
                key: freeze(
                    value,
                    props.get(key, extra if isinstance(extra, dict) else {}),
                    root,
                    on_learnable=on_learnable,
                    path=path + (key,),
                )
                for key, value in data.items()
            }
        )
    if isinstance(data, list):
        items = schema.get("items", {})
        return tuple(
            freeze(item, items, root, on_learnable=on_learnable, path=path + (i,)) for i, item in enumerate(data)
        )
    return data
