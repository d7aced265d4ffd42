"""`rulebot run --paper --learn` as a real process: the `learn` task runs the learners on their
jobs, a promoted version is written into the rules folder's learned/, hot-reloaded, recorded
as the learner's version with the promotion gate's numbers, and every cycle is audited once;
without --learn nothing is written; a cycle run again after a crash writes nothing twice."""

from __future__ import annotations

import collections
import hashlib
import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.snapshots.columnar import read_many, write_columnar
from adapters.store.reader import StateReader
from engine.language.compiler import compile_ruleset
from tests.lifecycle.processes import HUNG, ROOT, child_env, run_cli

SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
# 08:00 → 15:30 of the sample's first day (one snapshot a minute): the learning_fast job runs
# signal_weights every 30 minutes and the gate promotes its 14:30 proposal.
STEPS = 450


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("run-learn") / "morning.snapshots.parquet"
    write_columnar(itertools.islice(read_many([SAMPLE], []), STEPS), path)
    return path


def _args(snapshots: Path, folder: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--paper",
        "--feed",
        f"replay:{snapshots}",
        "--speed",
        "max",
        "--rules",
        str(folder / "rules"),
        "--state",
        str(folder / "state"),
        "--logs",
        str(folder / "logs"),
        *extra,
    ]


def _rules(folder: Path) -> Path:
    rules = folder / "rules"
    shutil.copytree(ROOT / "rules", rules)
    return rules


def _human(rules: Path) -> dict[str, str]:
    return {
        str(p.relative_to(rules)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in rules.rglob("*.yaml")
        if "learned" not in p.parts
    }


def _audit(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "logs" / "learning_audit.jsonl").read_text().splitlines()]


def _learned(rules: Path) -> list[Path]:
    return sorted((rules / "learned").glob("*.yaml"))


def test_run_with_learn_writes_a_promoted_overlay_hot_reloads_it_and_records_its_numbers(snapshots, tmp_path):
    rules = _rules(tmp_path)
    human = _human(rules)
    ran = run_cli(_args(snapshots, tmp_path, "--learn"))
    assert ran.returncode == 0, ran.stderr
    assert "learning on (--learn)" in ran.stderr
    learned = _learned(rules)
    assert learned and _human(rules) == human  # a human file is never written
    current = compile_ruleset(str(rules))
    assert current.ok and not current.warnings()
    assert f"version {current.version};" in ran.stdout  # the bot ended on the learned version: hot-reloaded

    reader = StateReader(tmp_path / "state" / "bot.db")
    assert any(r.new_version == current.version and r.outcome == "ok" for r in reader.reloads(limit=100))
    listed = run_cli(["versions", "--state", str(tmp_path / "state"), "--format", "json"])
    assert listed.returncode == 0, listed.stderr
    entries = json.loads(listed.stdout)["versions"]
    live = [e for e in entries if e["version_id"] == current.version and e["promotion"] == "live"]
    assert live and live[0]["author"].startswith("learner:")
    assert live[0]["numbers"]["promoted"] is True and live[0]["numbers"]["metric"] == "net_return_pct"

    lines = _audit(tmp_path)
    cycles = [line for line in lines if line["event"] == "cycle"]
    keys = [(line["ts"], line["job"]) for line in cycles]
    assert len(keys) == len(set(keys))  # every cycle once
    assert {line["job"] for line in cycles} == {"learning_fast"}  # 08:00 → 15:30: no 07:00 job
    assert len(cycles) == STEPS // 30  # every 30 minutes of the window
    applied = [o for line in cycles for o in line["outcomes"] if o["status"] == "applied"]
    assert [o["learner"] for o in applied] == [p.name.split("-", 1)[1][: -len(".yaml")] for p in learned]
    writes = [line for line in lines if line["event"] == "write" and line["status"] == "applied"]
    assert [w["version"] for w in writes] == [o["version"] for o in applied]
    runs = reader.task_runs(limit=10_000, task="learn")
    assert len(runs) == len(cycles) and all(r.status == "ok" for r in runs)
    assert any("applied" in r.summary for r in runs)


def test_run_without_learn_writes_nothing_and_says_learning_is_off(snapshots, tmp_path):
    rules = _rules(tmp_path)
    ran = run_cli(_args(snapshots, tmp_path))
    assert ran.returncode == 0, ran.stderr
    assert not _learned(rules) and not (tmp_path / "logs" / "learning_audit.jsonl").exists()
    runs = StateReader(tmp_path / "state" / "bot.db").task_runs(limit=10_000, task="learn")
    assert runs and {(r.status, r.summary) for r in runs} == {("ok", "learning is off (run with --learn)")}


def test_a_cycle_run_again_after_a_crash_writes_its_overlay_and_its_audit_line_once(snapshots, tmp_path):
    rules = _rules(tmp_path)
    killed = subprocess.run(
        [sys.executable, "-m", "tests.bot.learn_crash_child", *_args(snapshots, tmp_path, "--learn")],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=HUNG,
    )
    assert killed.returncode == -9, killed.stderr  # killed after the overlay and its audit line, before the commit
    first = _learned(rules)
    assert len(first) == 1
    written = first[0].read_bytes()
    died_at = [line for line in _audit(tmp_path) if line["event"] == "cycle"][-1]

    ran = run_cli(_args(snapshots, tmp_path, "--learn"))
    assert ran.returncode == 0, ran.stderr
    assert first[0].read_bytes() == written
    promoted = died_at["outcomes"][0]
    history = StateReader(tmp_path / "state" / "bot.db").version_history()
    started_on = [e for e in history if e.version_id == promoted["version"]]
    assert started_on and started_on[0].author == f"learner:{promoted['learner']}"
    assert dict(started_on[0].numbers) == promoted["promotion"]  # from the audit: the killed bot never reloaded it
    overlays = [json.dumps(_provenance(p)) for p in _learned(rules)]
    assert len(overlays) == len(set(overlays))  # no cycle wrote twice
    cycles = [line for line in _audit(tmp_path) if line["event"] == "cycle"]
    counted = collections.Counter((line["ts"], line["job"]) for line in cycles)
    assert counted[(died_at["ts"], died_at["job"])] == 1 and max(counted.values()) == 1
    runs = StateReader(tmp_path / "state" / "bot.db").task_runs(limit=10_000, task="learn")
    again = [r.summary for r in runs if r.started_ts == _epoch(died_at["ts"])]
    assert len(again) == 1 and f"{died_at['outcomes'][0]['learner']} done" in again[0]  # found, not written again
    writes = [line for line in _audit(tmp_path) if line["event"] == "write"]
    assert [w["file"] for w in writes if w["status"] == "applied"] == [f"learned/{p.name}" for p in _learned(rules)]


def _provenance(path: Path) -> tuple[str, str, str]:
    import yaml

    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document["learner"], document["provenance"]["data_from"], document["provenance"]["data_to"]


def _epoch(iso: str) -> float:
    from engine.common.times import parse_time

    return parse_time(iso)
