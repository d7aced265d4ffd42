"""Shared fixtures of the kind-family tests: a throwaway kind made from a family's
``_template.py``, and validation against schemas generated from the live registries (so a
kind registered by a test is known to validate without touching the shipped JSON)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from engine.language import schema
from engine.language.schemagen import generate

ROOT = Path(__file__).resolve().parents[2]


def template_copy(template: Path, kind: str, tmp_path: Path) -> ModuleType:
    """A new module made from ``template`` with its ``KIND`` set to ``kind``, as a
    contributor's copy would be (the template's own kind name is replaced everywhere)."""
    source = template.read_text(encoding="utf-8")
    original = _kind_of(source)
    target = tmp_path / f"{kind}.py"
    target.write_text(source.replace(original, kind), encoding="utf-8")
    name = f"throwaway_{kind}"
    spec = importlib.util.spec_from_file_location(name, target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _kind_of(source: str) -> str:
    for line in source.splitlines():
        if line.startswith("KIND = "):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise AssertionError("the template defines no KIND")


@pytest.fixture()
def generated_schemas(monkeypatch) -> Iterator[None]:
    """Rule files are validated against schemas generated now, from the registries as the
    test left them, instead of the shipped ``schemas/*.json``."""
    monkeypatch.setattr(schema, "load_schema", lambda name: json.loads(generate.render(name)))
    schema._validator.cache_clear()
    yield
    schema._validator.cache_clear()


@pytest.fixture()
def rules(tmp_path) -> Path:
    """A private copy of the default rules to edit."""
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target
