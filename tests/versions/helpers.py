"""Rule sets the version tests share: the default rules, and the same with a learned overlay."""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.language.compiler import compile_ruleset

ROOT = Path(__file__).resolve().parents[2]

LEARNED = """kind: learned
learner: signal_weights
base_version: {base}
created: "2025-01-06T07:00:00Z"
values:
  signals.components.funding_rate.weight: 0.17
  signals.components.oi_divergence.weight: 0.03
provenance:
  data_from: "2024-12-30T07:00:00Z"
  data_to: "2025-01-06T07:00:00Z"
  trades: 42
  metrics: {{hit_rate_before: 0.51, hit_rate_after: 0.54}}
  message: funding_rate was right more often than oi_divergence this week
"""


def copy_rules(folder: Path) -> Path:
    shutil.copytree(ROOT / "rules", folder)
    return folder


def with_learned(folder: Path) -> Path:
    """The default rules in ``folder`` plus one signal_weights overlay on them."""
    if not folder.exists():
        copy_rules(folder)
    base = compile_ruleset(str(folder)).version
    (folder / "learned" / "0001-signal-weights.yaml").write_text(LEARNED.format(base=base), encoding="utf-8")
    return folder
