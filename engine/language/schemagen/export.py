"""`rulebot schema`: export the shipped JSON Schemas and the expression vocabularies."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from pathlib import Path

from engine.language import schema


def vocabulary_document() -> dict:
    """The expression vocabularies and functions, as a JSON document beside the schemas."""
    from engine.language.expr import FUNCTIONS
    from engine.language.vocabulary import CONTEXTS

    return {
        "description": "Names and functions rulebot expressions may use, per place they are written.",
        "contexts": {name: vocab.as_json_schema_annotations() for name, vocab in CONTEXTS.items()},
        "functions": {name: {"description": spec.description} for name, spec in sorted(FUNCTIONS.items())},
    }


def export(kind: str | None, out_dir: str | None, echo: Callable[[str], None]) -> None:
    names = schema.schema_names()
    if kind is not None and kind not in names:
        close = difflib.get_close_matches(kind, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise KeyError(f"unknown kind '{kind}'{hint}; kinds: {', '.join(names)}")
    selected = [kind] if kind else names
    documents = {f"{n}.schema.json": schema.load_schema(n) for n in selected}
    if kind is None:
        documents["vocabulary.json"] = vocabulary_document()
    if out_dir is None:
        payload = documents if kind is None else next(iter(documents.values()))
        echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    for filename, document in documents.items():
        (target / filename).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    echo(f"wrote {len(documents)} file(s) to {target}")
