"""The golden `rulebot diff` cases: two known versions (the default rules A, and A plus one
signal_weights overlay B) recorded in a state, diffed as text and JSON, with and without
--replay over one day of the bundled sample. Expected outputs sit beside this file;
regen.py rewrites them (review the change by hand)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))

from helpers import copy_rules, with_learned  # noqa: E402

SAMPLE = str(ROOT / "data" / "sample" / "sample.snapshots.parquet")
DAY = ["--from", "2025-05-30T00:00:00Z", "--to", "2025-05-31T00:00:00Z"]  # a day where decisions flip
CASES: dict[str, list[str]] = {
    "diff.txt": [],
    "diff.json": ["--format", "json"],
    "diff_replay.txt": ["--replay", SAMPLE, *DAY],
    "diff_replay.json": ["--replay", SAMPLE, *DAY, "--format", "json"],
}


def build(tmp: Path) -> tuple[str, str, Path]:
    """(A, B, state folder): both versions recorded live, B after A, at fixed times."""
    from adapters.store.state import StateStore
    from engine.language.compiler import compile_ruleset
    from engine.versions.live import record_live

    rules = copy_rules(tmp / "rules")
    state = tmp / "state"
    first = compile_ruleset(str(rules))
    with StateStore(state / "bot.db") as store:
        record_live(store, first.version, first.canonical, "rulebot run (paper)", created_at=1736150000.0)
        with_learned(rules)
        second = compile_ruleset(str(rules))
        record_live(store, second.version, second.canonical, "hot reload (edited)", created_at=1736150400.0)
    return str(first.version), str(second.version), state


def run(name: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    a, b, state = build(tmp)
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "diff", a, b, "--state", str(state), *CASES[name]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
