"""`rulebot dry-run --learn`: the learners run inside the replay on simulated time; what passes
the promotion gate is traded from the next cycle only; the same input gives the same versions
and trades twice; the rules given are never changed."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
from pathlib import Path

import pytest

from adapters.snapshots.columnar import read_many
from adapters.store.state import StateStore
from engine.cli import compose
from engine.cli.walkforward import ScratchRules
from engine.language.compiler import compile_ruleset
from engine.replay.memstate import LearningMemoryState
from engine.replay.walkforward import walk_forward
from engine.report.html import render_report
from engine.trading.runner import Runner
from tests.lifecycle.processes import run_cli

pytestmark = pytest.mark.slow  # replays with a promotion replay per learned candidate: about a minute

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
WINDOW = ("--from", "2025-05-20T00:00:00Z", "--to", "2025-05-20T12:00:00Z")
FROM, TO = 1747699200.0, 1747699200.0 + 12 * 3600


def _hashes(rules: Path) -> dict[str, str]:
    return {str(p.relative_to(rules)): hashlib.sha256(p.read_bytes()).hexdigest() for p in rules.rglob("*.yaml")}


def _snapshots(limit: int | None = None):
    problems: list = []
    return itertools.islice(read_many([SAMPLE], problems), limit)


def _walk(rules: Path, tmp_path: Path):
    plan = compile_ruleset(str(rules)).plans["paper"]
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    writer = ScratchRules(str(rules), "paper", str(scratch))
    result, _, _ = walk_forward(
        plan,
        _snapshots(),
        broker=compose.paper_broker(plan),
        writer=writer,
        broker_for=compose.paper_broker,
        start=FROM,
        end=TO,
    )
    return result, writer


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("walk")
    rules = tmp / "rules"
    shutil.copytree(ROOT / "rules", rules)
    return _walk(rules, tmp)


def test_learned_versions_are_traded_only_after_they_were_learned(walked):
    result, _ = walked
    learning = result["learning"]
    applied = [c for c in learning["changes"] if c["status"] == "applied"]
    assert applied, learning  # the sample's half day gives at least one promoted version
    assert learning["cycles"] >= 20  # learning_fast every 30 minutes over 12 hours
    assert learning["last_version"] == applied[-1]["version"] == result["version"]
    live_from = {c["version"]: c["ts"] for c in applied}
    first = learning["first_version"]
    for trade in result["trades"]:
        version = trade["entry_version"]
        assert version == first or version in live_from, trade
        if version in live_from:  # decided on a cycle after the one that learned it
            assert trade["entry_ts"] > live_from[version], trade
    assert any(t["entry_version"] in live_from for t in result["trades"])
    for change in applied:  # each promoted: not worse than the live version over the held-out window
        gate = change["promotion"]
        assert gate["promoted"] and gate["difference_pct"] >= gate["min_improvement_pct"]
        assert change["values"] and all(v["old"] != v["new"] for v in change["values"])
    for change in learning["changes"]:
        if change["status"] == "rejected":
            assert change["promotion"]["promoted"] is False


def test_the_learners_read_no_signal_from_the_future(walked, tmp_path):
    """Each cycle's data window ends at its own time: the audit's windows never pass it."""
    _, writer = walked
    lines = [json.loads(line) for line in (Path(writer.logs) / "learning_audit.jsonl").read_text().splitlines()]
    cycles = [line for line in lines if line.get("event") == "cycle"]
    assert cycles
    for line in cycles:
        assert line["window"]["to"] == line["ts"]


def test_the_report_marks_each_version_change(walked):
    result, _ = walked
    page = render_report(result)
    applied = [c for c in result["learning"]["changes"] if c["status"] == "applied"]
    assert 'id="learning"' in page and "a learned version goes live" in page
    for change in applied:
        assert change["version"] in page


def test_the_in_memory_store_answers_the_learners_as_the_sqlite_store_does():
    """The walk-forward's store gives the learning data a bot's state would."""
    plan = compile_ruleset(str(ROOT / "rules")).plans["paper"]
    stores = [LearningMemoryState(), StateStore(":memory:")]
    for store in stores:
        runner = Runner(plan, compose.paper_broker(plan), store, full_trail=False)
        for snapshot in _snapshots(400):
            runner.step(snapshot)
    first = next(iter(_snapshots(1))).ts
    for since, until in ((first, first + 400 * 60), (first + 3600, first + 2 * 3600), (first, first)):
        memory, sqlite = (s.learning_data(since, until) for s in stores)
        assert memory.outcomes == sqlite.outcomes
        assert memory.trades == sqlite.trades
    assert stores[0].pending_signals(first + 300 * 60) == stores[1].pending_signals(first + 300 * 60)


def test_dry_run_learn_is_deterministic_and_leaves_the_rules_alone(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    before = _hashes(rules)
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run
        ran = run_cli(["dry-run", str(SAMPLE), "--rules", str(rules), "--learn", *WINDOW, "--out", str(out)])
        assert ran.returncode == 0, ran.stderr
        outs.append(out)
    a, b = outs
    assert (a / "fingerprint.txt").read_text() == (b / "fingerprint.txt").read_text()
    assert (a / "versions.jsonl").read_text() == (b / "versions.jsonl").read_text()
    assert _hashes(a / "learned-rules") == _hashes(b / "learned-rules")
    assert _hashes(rules) == before  # the learning wrote into a scratch copy only
    changes = [json.loads(line) for line in (a / "versions.jsonl").read_text().splitlines()]
    applied = [c for c in changes if c["status"] == "applied"]
    assert applied
    learned = compile_ruleset(str(a / "learned-rules"))
    assert learned.ok and learned.version == applied[-1]["version"]
    result = json.loads((a / "result.json").read_text())
    assert result["vs"]["rule_set"].endswith("(not learning)")  # the baseline: the same rules, not learning
    assert result["vs"]["version"] == result["learning"]["first_version"]
    shown = run_cli(["diff", str(rules), str(a / "learned-rules")])
    assert shown.returncode == 0, shown.stderr
    for value in applied[-1]["values"]:
        assert value["path"] in shown.stdout


def test_learn_refuses_the_columns_path(tmp_path):
    ran = run_cli(["dry-run", str(SAMPLE), "--learn", "--replay", "columns", *WINDOW])
    assert ran.returncode == 2
    assert "--learn" in ran.stderr and "--replay columns" in ran.stderr
