"""Generates the reference pages in ``docs/reference/`` from the code, so they cannot drift.

``python -m engine.docgen`` rewrites every generated
page and the outputs of the console transcripts; ``--check`` only reports the pages that
differ (exit 1). Sources: the JSON Schemas (every field, its description, unit, default and
learnability), the default rule set in ``rules/`` (examples, learnable values, expression
sites), :data:`engine.language.codes.ALL_CODES`, the kind modules' ``CODES``,
:data:`engine.language.vocabulary.CONTEXTS` and the expression package (functions, limits, codes).

The modules beside this one split the work: :mod:`~engine.docgen.schema_walk` (schema →
parameter rows), :mod:`~engine.docgen.defaults` (the default rules), :mod:`~engine.docgen.codes`,
:mod:`~engine.docgen.expressions`, :mod:`~engine.docgen.pages` (one function per page, each
rendering a template of ``templates/``) and :mod:`~engine.docgen.transcripts`.

Generated pages start with :data:`engine.docgen.pages.HEADER`. tests/test_docs.py checks that
the pages on disk equal :func:`engine.docgen.pages.generate_pages`, so a change to a schema, a
code or a default rule file fails the tests until the pages are regenerated.
"""

from __future__ import annotations

import sys

from engine.docgen.locations import ROOT
from engine.docgen.pages import generate_pages
from engine.docgen.transcripts import replay_transcripts


def stale_pages(write: bool) -> list[str]:
    """Repo-relative paths whose content differs from what docgen produces now; ``write``
    rewrites them."""
    stale = []
    for rel, content in {**generate_pages(), **replay_transcripts()}.items():
        target = ROOT / rel
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == content:
            continue
        stale.append(rel)
        if write:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated pages and the transcript outputs; ``--check`` only reports."""
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    stale = stale_pages(write=not check)
    if check:
        for rel in stale:
            print(f"out of date: {rel} (run `python -m engine.docgen`)", file=sys.stderr)
        return 1 if stale else 0
    print(f"docgen: {len(stale)} page(s) rewritten", file=sys.stderr)
    for rel in stale:
        print(f"  {rel}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
