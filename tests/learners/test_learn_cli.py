"""`rulebot learn` as a real process on a real paper bot's state: one cycle over the signals
the bot resolved and the trades it closed, each learner's write through the promotion gate,
the version store and the audit log."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
from pathlib import Path

import pytest

from adapters.snapshots.columnar import read_many, write_columnar
from adapters.store.reader import StateReader
from engine.language.compiler import compile_ruleset
from tests.lifecycle.processes import run_cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
DAYS = 4


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    """A paper bot's state after four days of the sample, and those snapshots."""
    folder = tmp_path_factory.mktemp("learn")
    snapshots = folder / "days.snapshots.parquet"
    write_columnar(itertools.islice(read_many([SAMPLE], []), DAYS * 1440), snapshots)
    state, logs = folder / "state", folder / "bot-logs"
    ran = run_cli(
        [
            "run",
            "--paper",
            "--feed",
            f"replay:{snapshots}",
            "--speed",
            "max",
            "--state",
            str(state),
            "--logs",
            str(logs),
        ]
    )
    assert ran.returncode == 0, ran.stderr
    return snapshots, state


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    return dst


def _hashes(rules: Path) -> dict[str, str]:
    return {
        str(p.relative_to(rules)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in rules.rglob("*.yaml")
        if "learned" not in p.parts
    }


def test_learn_applies_what_the_gate_promotes_and_stores_what_it_rejects(bot, tmp_path):
    snapshots, state = bot
    state, rules, logs = _copy(state, tmp_path), _copy(ROOT / "rules", tmp_path), tmp_path / "logs"
    human = _hashes(rules)
    ran = run_cli(
        [
            "learn",
            "--rules",
            str(rules),
            "--state",
            str(state),
            "--logs",
            str(logs),
            "--snapshots",
            str(snapshots),
            "--format",
            "json",
        ]
    )
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    outcomes = {o["learner"]: o for o in report["outcomes"]}
    assert outcomes and {o["status"] for o in outcomes.values()} <= {"applied", "rejected", "refused"}
    assert report["inputs"]["outcomes"] > 1000 and report["inputs"]["trades"] >= 20
    assert _hashes(rules) == human  # a human file is never written
    learned = sorted(p.name for p in (rules / "learned").glob("*.yaml"))
    applied = [o for o in outcomes.values() if o["status"] == "applied"]
    assert [name.split("-", 1)[1][: -len(".yaml")] for name in learned] == [o["learner"] for o in applied]
    current = compile_ruleset(str(rules))
    assert current.ok and not current.warnings()
    history = StateReader(state / "bot.db").version_history()
    by_version = {entry.version_id: entry for entry in history}
    for o in outcomes.values():
        if o["status"] in ("applied", "rejected"):
            entry = by_version[o["version"]]
            assert entry.author == f"learner:{o['learner']}"
            assert entry.promotion == ("live" if o["status"] == "applied" else "rejected")
            assert entry.numbers["live"]["net_return_pct"] == o["promotion"]["live"]["net_return_pct"]
    if applied:
        assert history[0].version_id == current.version
    lines = [json.loads(line) for line in (logs / "learning_audit.jsonl").read_text().splitlines()]
    assert lines[-1]["event"] == "cycle" and lines[-1]["outcomes"] == report["outcomes"]
    assert [line["learner"] for line in lines if line["event"] == "write"] == [o["learner"] for o in applied]


def test_dry_writes_nothing_and_an_unknown_learner_is_a_usage_error(bot, tmp_path):
    _, state = bot
    rules, logs = _copy(ROOT / "rules", tmp_path), tmp_path / "logs"
    before = len(StateReader(state / "bot.db").version_history())
    ran = run_cli(
        ["learn", "--rules", str(rules), "--state", str(state), "--logs", str(logs), "--dry", "--learner", "hold_time"]
    )
    assert ran.returncode == 0, ran.stderr
    assert "hold_time: dry — would write" in ran.stdout
    assert not list((rules / "learned").glob("*.yaml")) and not logs.exists()
    assert len(StateReader(state / "bot.db").version_history()) == before
    bad = run_cli(["learn", "--rules", str(rules), "--state", str(state), "--learner", "no_such"])
    assert bad.returncode == 2 and "no learner 'no_such'" in bad.stderr
