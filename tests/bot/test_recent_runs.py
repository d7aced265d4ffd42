"""The task runs a task reads (``ctx.recent_runs``) are kept by the loop as it writes them
(engine/bot/loop.py ``Bot.recent_runs``) instead of read from the store per task: at every
task call they must be exactly what the store's own query gives, across a restart too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from engine.bot import loop
from engine.bot.tasks import TASKS
from engine.cli.app import main
from tests.lifecycle.market import write
from tests.lifecycle.processes import ROOT


def _key(run: Any) -> tuple:
    return (run.job_id, run.task, float(run.scheduled_ts), float(run.started_ts), run.status, run.summary)


def test_recent_runs_match_the_store_at_every_task_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop, "RECENT_RUNS", 7)  # small, so that the kept runs are trimmed
    seen: list[tuple[list[tuple], list[tuple]]] = []
    watchdog = TASKS["watchdog"]
    original = watchdog.run

    def run(params: Any, ctx: Any) -> Any:
        kept = [_key(r) for r in ctx.recent_runs]
        stored = [_key(r) for r in ctx._bot.store.task_runs(limit=7)]  # the store's view, in the open group
        seen.append((kept, stored))
        return original(params, ctx)

    monkeypatch.setattr(watchdog, "run", run)
    state, logs = tmp_path / "state", tmp_path / "logs"
    for minutes in (50, 100):  # the second run resumes the first's state with a longer feed
        feed = write(tmp_path / f"feed{minutes}.jsonl", minutes=minutes)
        args = ["run", "--paper", "--rules", str(ROOT / "rules"), "--feed", f"replay:{feed}"]
        result = CliRunner().invoke(main, [*args, "--state", str(state), "--logs", str(logs)])
        assert result.exit_code == 0, result.output
    assert len(seen) >= 15  # the watchdog runs every 5 minutes
    assert any(len(kept) == 7 for kept, _ in seen)
    for kept, stored in seen:
        assert kept == stored
