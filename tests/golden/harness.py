"""Apply a golden case's edits to a copy of the default rules and collect the findings."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import yaml

from engine.language.compiler import compile_ruleset

HERE = Path(__file__).resolve().parent
RULES = HERE.parents[1] / "rules"
CASES = HERE / "validate_cases.yaml"
EXPECTED = HERE / "validate_expected.json"


def load_cases() -> list[dict]:
    return yaml.safe_load(CASES.read_text(encoding="utf-8"))


def apply_edits(root: Path, edits: list[dict]) -> None:
    for edit in edits:
        if "replace" in edit:
            path = root / edit["replace"]
            text = path.read_text(encoding="utf-8")
            assert text.count(edit["find"]) == 1, f"{edit['find']!r} must occur once in {path.name}"
            path.write_text(text.replace(edit["find"], edit["with"]), encoding="utf-8")
        elif "write" in edit:
            path = root / edit["write"]
            path.parent.mkdir(parents=True, exist_ok=True)
            if "bytes" in edit:
                path.write_bytes(base64.b64decode(edit["bytes"]))
            else:
                path.write_text(edit.get("text", edit.get("repeat", "") * edit.get("times", 1)), encoding="utf-8")
        elif "delete" in edit:
            (root / edit["delete"]).unlink()
        elif "copy" in edit:
            shutil.copy(root / edit["copy"], root / edit["to"])
        else:
            raise ValueError(f"unknown edit {edit}")


def run_case(case: dict, workdir: Path) -> list[list]:
    """[[code, file relative to the rules folder, line, col, severity], ...] for one case."""
    root = workdir / "rules"
    shutil.copytree(RULES, root)
    apply_edits(root, case["edits"])
    result = compile_ruleset(str(root))
    prefix = str(root) + "/"
    return [
        [d.code, d.file.removeprefix(prefix) if d.file != str(root) else ".", d.line, d.col, d.severity.value]
        for d in result.diagnostics
    ]
