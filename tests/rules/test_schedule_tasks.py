"""Every task name in schedules.yaml resolves through the task registry (RB352 with a
did-you-mean otherwise, each unknown name its own error); `tasks:` parameters compile into
plan.schedules.task_params, and parameters for a task no job runs are a warning (RB353)."""

from __future__ import annotations

from pathlib import Path

from engine.bot.tasks import TASKS, fee_audit, watchdog
from engine.language.compiler import compile_ruleset
from tests.rules.conftest import edit_once

ROOT = Path(__file__).resolve().parents[2]


def _findings(rules: Path) -> list[tuple[str, str, str, str]]:
    result = compile_ruleset(str(rules))
    return [(d.code, d.severity.value, d.message, d.suggestion) for d in result.diagnostics]


def test_default_rules_compile_every_tasks_params():
    result = compile_ruleset(str(ROOT / "rules"))
    assert result.ok, [str(d) for d in result.diagnostics]
    params = result.plans["paper"].schedules.task_params
    assert set(params) == set(TASKS)
    assert params["watchdog"] == watchdog.Params(heartbeat_stale_after_s=180.0)  # three 60 s cycles
    assert params["fee_audit"] == fee_audit.Params()
    scheduled = {name for job in result.plans["paper"].schedules.jobs for name in job.tasks}
    assert scheduled == set(TASKS)  # the default rules run every registered task


def test_two_unknown_tasks_give_two_errors_with_a_suggestion_where_one_is_close(rules):
    edit_once(rules / "schedules.yaml", "tasks: [watchdog]}", "tasks: [watchdgo, make_coffee]}")
    found = [f for f in _findings(rules) if f[0] == "RB352"]
    assert [(code, severity, suggestion) for code, severity, _, suggestion in found] == [
        ("RB352", "error", "did you mean 'watchdog'?"),
        ("RB352", "error", ""),
    ]
    assert "job watchdog: no task 'watchdgo'" in found[0][2] and "no task 'make_coffee'" in found[1][2]
    assert not compile_ruleset(str(rules)).ok


def test_params_set_compile_with_durations_in_seconds(rules):
    edit_once(
        rules / "schedules.yaml", "  fee_audit: {tolerance_pct: 10, lookback: 10m}", "  fee_audit: {lookback: 1h}"
    )
    edit_once(rules / "schedules.yaml", "    stuck_order_after: 10m\n", "    heartbeat_stale_after: 5m\n")
    result = compile_ruleset(str(rules))
    assert result.ok, [str(d) for d in result.diagnostics]
    params = result.plans["live"].schedules.task_params
    assert params["fee_audit"] == fee_audit.Params(tolerance_pct=10.0, lookback_s=3600.0)
    assert params["watchdog"].heartbeat_stale_after_s == 300.0 and params["watchdog"].stuck_order_after_s == 600.0


def test_without_a_tasks_section_every_task_takes_its_defaults(rules):
    path = rules / "schedules.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("\n# Task parameters")] + "\n", encoding="utf-8")
    result = compile_ruleset(str(rules))
    assert result.ok, [str(d) for d in result.diagnostics]
    params = result.plans["paper"].schedules.task_params
    assert params["digest"].window_s == 86400.0 and params["recovery_cycle"].order_grace_s == 120.0


def test_params_for_a_task_no_job_runs_are_a_warning(rules):
    edit_once(rules / "schedules.yaml", "digest, learn]}", "learn]}")
    found = _findings(rules)
    assert [(c, s) for c, s, _, _ in found] == [("RB353", "warning")]
    assert "task digest, which no job runs" in found[0][2]
    assert compile_ruleset(str(rules)).ok


def test_a_staleness_limit_within_one_cycle_is_an_error(rules):
    edit_once(rules / "schedules.yaml", "    stuck_order_after: 10m\n", "    heartbeat_stale_after: 1m\n")
    found = _findings(rules)
    assert [(c, s) for c, s, _, _ in found] == [("RB354", "error")]
    assert "not longer than the bot cycle (1m)" in found[0][2] and found[0][3] == "use at least 3m (three cycles)"


def test_an_unknown_task_params_entry_is_a_schema_error_with_a_suggestion(rules):
    edit_once(rules / "schedules.yaml", "  digest: {window: 24h}", "  digets: {window: 24h}")
    found = _findings(rules)
    assert [c for c, _, _, _ in found] == ["RB201"] and found[0][3] == "did you mean 'digest'?"


def test_a_learner_whose_job_does_not_list_learn_suggests_the_closest_job_that_does(rules):
    edit_once(
        rules / "schedules.yaml",
        "tasks: [expire_manual_overrides, digest, learn]}",
        "tasks: [expire_manual_overrides, digest]}",
    )
    found = [f for f in _findings(rules) if f[0] == "RB391"]
    assert found == [
        (
            "RB391",
            "error",
            "learner counterfactual: job 'nightly' does not run the learn task, so the learner never runs",
            "add learn to the tasks of job nightly",
        )
    ]
    edit_once(rules / "learning.yaml", "schedule: learning_fast", "schedule: watchdog")
    found = [f for f in _findings(rules) if f[0] == "RB391"]
    assert [f[3] for f in found] == ["add learn to the tasks of job watchdog", "add learn to the tasks of job nightly"]
