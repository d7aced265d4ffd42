"""What `rulebot status` shows of a state `rulebot run --paper` left: every declared job with
its next run (not only the jobs that ran), the version live, the last cycle."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from engine.cli.app import main
from engine.cli.status import gather
from tests.lifecycle.market import write
from tests.lifecycle.processes import ROOT


def test_status_after_a_replay_lists_every_job_with_its_next_run(tmp_path: Path) -> None:
    feed = write(tmp_path / "feed.jsonl", minutes=90)
    state, logs = tmp_path / "state", tmp_path / "logs"
    args = ["run", "--paper", "--rules", str(ROOT / "rules"), "--feed", f"replay:{feed}"]
    result = CliRunner().invoke(main, [*args, "--state", str(state), "--logs", str(logs)])
    assert result.exit_code == 0, result.output
    report = gather(state, now=0.0)
    declared = yaml.safe_load((ROOT / "rules" / "schedules.yaml").read_text(encoding="utf-8"))["jobs"]
    assert sorted(e["job_id"] for e in report["schedule"]) == sorted(job["id"] for job in declared)
    last_cycle = report["version"]["last_cycle_ts"]
    entries = {e["job_id"]: e for e in report["schedule"]}
    assert entries["bot_cycle"]["last_ts"] == last_cycle and entries["bot_cycle"]["in_s"] == 60.0
    assert entries["maintenance"]["last_ts"] is None  # 07:00 never came in these 90 minutes
    assert all(e["next_ts"] > last_cycle for e in report["schedule"])
    assert report["heartbeats"] and all(b["age_s"] < 3600 for b in report["heartbeats"])  # the bot's clock
