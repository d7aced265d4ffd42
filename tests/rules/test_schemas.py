"""The schemas are the contract: generated from one source, strict, and fully described."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from engine.language import schema
from engine.language.diagnostics import Location
from engine.language.kinds import KINDS
from engine.language.loader import ALL_KINDS
from engine.language.schemagen import generate

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", list(generate.builders()))
def test_committed_schema_equals_generated(name):
    committed = (ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
    assert committed == generate.render(name), "run `python -m engine.language.schemagen` and commit the result"


@pytest.mark.parametrize("name", list(generate.builders()))
def test_schema_is_valid_draft_2020_12(name):
    Draft202012Validator.check_schema(schema.load_schema(name))


def _properties(node, trail=()):
    """Every (path, property schema) in a schema, through $defs, items, unions."""
    if isinstance(node, dict):
        for key, sub in node.get("properties", {}).items():
            yield trail + (key,), sub
        for key, sub in node.items():
            yield from _properties(sub, trail + (key,))
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            yield from _properties(sub, trail + (index,))


@pytest.mark.parametrize("name", [n for n in generate.builders() if n != "common"])
def test_every_field_has_a_description_and_a_unit(name):
    missing = [
        path
        for path, sub in _properties(schema.load_schema(name))
        if "if" not in path and (not sub.get("description") or "x-unit" not in sub)
    ]
    assert missing == []


@pytest.mark.parametrize("name", [n for n in generate.builders() if n != "common"])
def test_every_object_is_strict(name):
    def objects(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                yield node
            for sub in node.values():
                yield from objects(sub)
        elif isinstance(node, list):
            for sub in node:
                yield from objects(sub)

    loose = [
        o.get("title", o.get("description"))
        for o in objects(schema.load_schema(name))
        if o.get("additionalProperties") is not False and "allOf" not in o
    ]  # unions: variants are strict
    assert loose == []


def test_every_kind_has_a_schema_and_a_module_or_overlay_role():
    assert set(ALL_KINDS) <= set(schema.schema_names())
    assert set(KINDS) == set(ALL_KINDS) - {"profile", "learned"}


def test_rule_files_point_editors_at_their_schema():
    for path in sorted((ROOT / "rules").rglob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        match = re.match(r"# yaml-language-server: \$schema=(\S+)$", first)
        assert match, f"{path} lacks the yaml-language-server schema comment"
        target = (path.parent / match.group(1)).resolve()
        assert target.is_file(), f"{path} points at {target}, which does not exist"
        kind = json.loads(target.read_text())["x-kind"]
        assert f"kind: {kind}" in path.read_text(encoding="utf-8")


def test_schema_error_paths_and_suggestion_for_unknown_key():
    found = schema.validate(
        "ruleset",
        {
            "kind": "ruleset",
            "name": "x",
            "default_profile": "paper",
            "symbols": [{"symbol": "BTCUSDT", "base": "BTC", "quote": "USDT", "rol": "leader"}],
        },
        lambda path, key: Location("f", 1, 1),
    )
    assert [(d.code, d.path, d.suggestion) for d in found] == [("RB201", "/symbols/0/rol", "did you mean 'role'?")]


def test_rb206_states_the_form_and_its_examples_once(rules):
    """A duration in the wrong form names the form once: the schema's description carries the
    examples, so the finding adds no second copy of them as its suggestion."""
    from engine.language.compiler import compile_ruleset
    from engine.language.formats import as_text
    from tests.rules.conftest import edit_once

    edit_once(rules / "exits.yaml", "min_hold: 300s", "min_hold: 5 minutes")
    [finding] = [d for d in compile_ruleset(str(rules)).diagnostics if d.code == "RB206"]
    text = as_text([finding])
    assert '"5 minutes" does not have the required form: A length of time' in text
    assert text.count("`90s`") == 1 and "e.g." not in text and "30s" not in text
    assert not finding.suggestion
