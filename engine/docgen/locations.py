"""Where docgen reads its sources (the repository, the default rules, the sample) and writes its pages."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
SAMPLE = ROOT / "data" / "sample"
#: Repo-relative folder of the generated reference pages.
REFERENCE = "docs/reference"
