"""`rulebot rollback` (a real process): an earlier version live again as a new version entry
whose parent is the live one; only rules/learned/ changes; a human file that differs refuses it."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from adapters.store.state import StateStore
from engine.language.compiler import compile_ruleset

from .golden.harness import ROOT, build


def _rulebot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _human_files(rules: Path) -> dict[str, str]:
    return {
        str(p.relative_to(rules)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(rules.rglob("*.yaml"))
        if p.parent.name != "learned"
    }


def test_rollback_removes_the_newer_overlay_and_records_a_new_version(tmp_path):
    a, b, state = build(tmp_path)
    rules = tmp_path / "rules"
    human = _human_files(rules)
    done = _rulebot("rollback", a[:8], "--rules", str(rules), "--state", str(state))
    assert done.returncode == 0, done.stderr
    assert "removed learned/0001-signal-weights.yaml" in done.stdout
    assert list((rules / "learned").glob("*.yaml")) == []
    assert compile_ruleset(str(rules)).version == a
    assert _human_files(rules) == human  # byte-identical
    with StateStore(state / "bot.db") as store:
        entry = store.live_version()
        assert (entry.seq, entry.version_id, entry.parent, entry.author) == (3, a, b, "human")
        assert entry.message == f"rollback to {a}"
    again = _rulebot("rollback", a, "--rules", str(rules), "--state", str(state))
    assert again.returncode == 0 and "nothing to roll back" in again.stdout


def test_rolling_forward_writes_the_target_overlay_back(tmp_path):
    _, b, state = build(tmp_path)
    rules = tmp_path / "rules"
    (rules / "learned" / "0001-signal-weights.yaml").unlink()
    done = _rulebot("rollback", b, "--rules", str(rules), "--state", str(state))
    assert done.returncode == 0, done.stderr
    assert [p.name for p in (rules / "learned").glob("*.yaml")] == ["0001-signal_weights.yaml"]
    assert compile_ruleset(str(rules)).version == b


def test_a_human_file_that_differs_refuses_the_rollback(tmp_path):
    a, _, state = build(tmp_path)
    rules = tmp_path / "rules"
    risk = rules / "risk.yaml"
    risk.write_text(risk.read_text(encoding="utf-8").replace("  default: 3 ", "  default: 4 ", 1), encoding="utf-8")
    human, learned = _human_files(rules), sorted(p.name for p in (rules / "learned").glob("*.yaml"))
    done = _rulebot("rollback", a, "--rules", str(rules), "--state", str(state))
    assert done.returncode == 1
    assert "RB832" in done.stderr and "risk.yaml" in done.stderr
    assert _human_files(rules) == human and sorted(p.name for p in (rules / "learned").glob("*.yaml")) == learned


def test_an_unknown_version_and_a_missing_state_are_errors(tmp_path):
    _, _, state = build(tmp_path)
    done = _rulebot("rollback", "rs-ffff", "--rules", str(tmp_path / "rules"), "--state", str(state))
    assert done.returncode == 1 and "RB830" in done.stderr
    done = _rulebot("versions", "--state", str(tmp_path / "nowhere"))
    assert done.returncode == 1 and "RB836" in done.stderr


def test_versions_lists_the_history_newest_first(tmp_path):
    _, b, state = build(tmp_path)
    done = _rulebot("versions", "--state", str(state), "--limit", "1")
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and lines[0].split()[:3] == ["seq", "time", "version"]
    assert len(lines) == 2 and b in lines[1] and "learner:signal_weights" in lines[1]
