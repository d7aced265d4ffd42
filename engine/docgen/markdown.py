"""The few Markdown spellings docgen computes in Python: inline code, code links and tables.

Tables are built here rather than in the templates because every cell must be escaped the
same way (a ``|`` in a description would otherwise split the row).
"""

from __future__ import annotations

from collections.abc import Sequence


def code(text: str) -> str:
    """``text`` as inline code."""
    return f"`{text}`"


def code_link(code_: str) -> str:
    """A diagnostic code linked to its row in error-codes.md."""
    return f"[{code_}](error-codes.md#{code_.lower()})"


def cell(text: object) -> str:
    """``text`` made safe for one table cell: no column break, no line break."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A pipe table, without a trailing newline (the template places the blank line after it)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
