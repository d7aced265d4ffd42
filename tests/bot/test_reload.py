"""The reloader: recompiles on its own thread, hands outcomes one at a time, never dies.

The valid and invalid cases compile the real default rules copied to tmp_path. Waits are on
events with a generous timeout that only catches a hang; "exactly one more compile" is
checked with a later, distinct request whose outcome must come next.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from adapters.watch import RulesWatcher
from engine.bot.reload import Reloader, ReloadOutcome, compile_plan
from engine.common.errors import RuleSetInvalid
from engine.language.compiler import Plan

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 10.0


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


class Outcomes:
    """Takes outcomes as the loop would: woken by ``notify``, then ``take``."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.reloader: Reloader | None = None

    def notify(self) -> None:
        self.ready.set()

    def next(self) -> ReloadOutcome:
        assert self.reloader is not None
        assert self.ready.wait(TIMEOUT), f"no reload outcome within {TIMEOUT} s"
        self.ready.clear()
        outcome = self.reloader.take()
        assert outcome is not None
        return outcome


def start(compile_fn: Callable[[], Plan], version: str, **kwargs: Any) -> tuple[Reloader, Outcomes]:
    outcomes = Outcomes()
    outcomes.reloader = Reloader(compile_fn, version, notify=outcomes.notify, **kwargs)
    return outcomes.reloader, outcomes


@pytest.fixture
def real(rules: Path) -> Iterator[tuple[Reloader, Outcomes, str]]:
    version = compile_plan(str(rules), None).version
    reloader, outcomes = start(lambda: compile_plan(str(rules), None), version)
    yield reloader, outcomes, version
    reloader.stop()


def test_valid_edit_gives_the_new_version(rules: Path, real: tuple[Reloader, Outcomes, str]) -> None:
    reloader, outcomes, version = real
    edit(rules / "risk.yaml", "max_notional_usd: 50000", "max_notional_usd: 40000")
    reloader.request("rules/risk.yaml changed")
    outcome = outcomes.next()
    assert outcome.status == "changed"
    assert outcome.old_version == version
    assert outcome.new_version == compile_plan(str(rules), None).version != version
    assert outcome.plan is not None and outcome.plan.version == outcome.new_version
    assert outcome.plan.risk is not None
    assert outcome.errors == ()
    assert outcome.reason == "rules/risk.yaml changed"
    assert outcome.requested_ts <= outcome.finished_ts
    assert reloader.current_version == version  # until the loop accepts it
    reloader.accepted(outcome)
    assert reloader.current_version == outcome.new_version


def test_invalid_edit_lists_the_errors_as_validate_does(rules: Path, real: tuple[Reloader, Outcomes, str]) -> None:
    reloader, outcomes, version = real
    edit(rules / "risk.yaml", "max_notional_usd: 50000", "max_notionl_usd: 50000")
    edit(rules / "signals.yaml", "direction_by: votes", "direction_by: vote")
    reloader.request("rules changed")
    outcome = outcomes.next()
    assert outcome.status == "invalid"
    assert outcome.new_version is None and outcome.plan is None
    validate = subprocess.run(
        [sys.executable, "-m", "engine.cli", "validate", str(rules)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert validate.returncode == 1
    *findings, verdict = validate.stdout.splitlines()
    assert verdict.endswith("invalid: 3 error(s), 0 warning(s)")
    assert list(outcome.errors) == findings
    assert any("risk.yaml" in line and "max_notionl_usd" in line for line in outcome.errors)
    assert any("signals.yaml" in line for line in outcome.errors)
    assert reloader.current_version == version
    # The next good edit is compiled as usual: the invalid one left nothing behind.
    edit(rules / "risk.yaml", "max_notionl_usd: 50000", "max_notional_usd: 50000")
    edit(rules / "signals.yaml", "direction_by: vote", "direction_by: votes")
    reloader.request("fixed")
    again = outcomes.next()
    assert (again.status, again.new_version) == ("unchanged", version)


def test_same_content_is_unchanged_and_needs_no_accept(real: tuple[Reloader, Outcomes, str]) -> None:
    reloader, outcomes, version = real
    reloader.request("SIGHUP")
    first = outcomes.next()
    assert (first.status, first.old_version, first.new_version, first.plan) == ("unchanged", version, version, None)
    reloader.request("SIGHUP again")  # not waiting for an accept: the next compile runs
    assert outcomes.next().reason == "SIGHUP again"


def fake_plan(version: str) -> Plan:
    return cast(Plan, SimpleNamespace(version=version))


def test_requests_during_a_compile_give_exactly_one_more() -> None:
    started: queue.Queue[int] = queue.Queue()
    release = threading.Event()
    calls = 0

    def compile_fn() -> Plan:
        nonlocal calls
        calls += 1
        started.put(calls)
        assert release.wait(TIMEOUT)
        return fake_plan(f"rs-{calls}")

    reloader, outcomes = start(compile_fn, "rs-0")
    try:
        reloader.request("a")
        assert started.get(timeout=TIMEOUT) == 1
        reloader.request("b")  # both while compile 1 runs
        reloader.request("c")
        reloader.request("b")
        release.set()
        first = outcomes.next()
        assert (first.reason, first.old_version, first.new_version) == ("a", "rs-0", "rs-1")
        reloader.accepted(first)
        second = outcomes.next()
        assert (second.reason, second.old_version, second.new_version) == ("b; c", "rs-1", "rs-2")
        reloader.accepted(second)
        reloader.request("sentinel")  # the next outcome is the sentinel's: no third for b/c came
        third = outcomes.next()
        assert (third.reason, third.new_version) == ("sentinel", "rs-3")
        assert calls == 3 == reloader.attempts
    finally:
        release.set()
        reloader.stop()


def test_the_next_compile_waits_for_the_taken_version_to_be_accepted() -> None:
    """So its old version is the live one: a compile of the same content is unchanged."""
    reloader, outcomes = start(lambda: fake_plan("rs-new"), "rs-old")
    try:
        reloader.request("edit")
        first = outcomes.next()
        assert first.status == "changed"
        reloader.request("edit again")
        reloader.accepted(first)
        second = outcomes.next()
        assert (second.status, second.old_version, second.new_version) == ("unchanged", "rs-new", "rs-new")
    finally:
        reloader.stop()


def test_a_declined_version_stays_out() -> None:
    reloader, outcomes = start(lambda: fake_plan("rs-new"), "rs-old")
    try:
        reloader.request("edit")
        first = outcomes.next()
        reloader.declined(first)
        reloader.request("again")
        second = outcomes.next()
        assert (second.status, second.old_version) == ("changed", "rs-old")
    finally:
        reloader.stop()


def test_compile_raising_is_a_failed_outcome_and_the_worker_lives() -> None:
    results: list[Any] = [FileNotFoundError(2, "No such file or directory", "rules/signals.yaml"), "rs-2"]

    def compile_fn() -> Plan:
        result = results.pop(0)
        if isinstance(result, Exception):
            raise result
        return fake_plan(result)

    reloader, outcomes = start(compile_fn, "rs-1")
    try:
        reloader.request("rules/signals.yaml changed")
        failed = outcomes.next()
        assert failed.status == "failed" and failed.new_version is None
        assert failed.errors == (
            "compiling the rules failed: FileNotFoundError: [Errno 2] No such file or directory: 'rules/signals.yaml'",
        )
        assert reloader.is_alive()
        reloader.request("retry")
        assert outcomes.next().new_version == "rs-2"
    finally:
        reloader.stop()
    assert not reloader.is_alive()


def test_prepare_runs_on_the_worker_for_a_new_version_only() -> None:
    seen: list[tuple[str, str]] = []

    def prepare(plan: Plan) -> str:
        seen.append((plan.version, threading.current_thread().name))
        if plan.version == "rs-bad":
            raise RuntimeError("feature warm-up blew up")
        return f"warm {plan.version}"

    versions = ["rs-1", "rs-1", "rs-bad"]
    reloader, outcomes = start(lambda: fake_plan(versions.pop(0)), "rs-0", prepare=prepare)
    try:
        reloader.request("one")
        first = outcomes.next()
        assert first.prepared == "warm rs-1"
        reloader.accepted(first)
        reloader.request("two")
        assert outcomes.next().status == "unchanged"  # the live version again: nothing to prepare
        reloader.request("three")
        bad = outcomes.next()
        assert bad.status == "failed" and bad.prepared is None and bad.plan is None
        assert bad.errors == ("preparing rs-bad failed: RuntimeError: feature warm-up blew up",)
        assert reloader.current_version == "rs-1"
    finally:
        reloader.stop()
    assert seen == [("rs-1", "rulebot-reload"), ("rs-bad", "rulebot-reload")]


def test_accepting_an_outcome_without_a_version_is_refused() -> None:
    reloader, outcomes = start(lambda: (_ for _ in ()).throw(RuleSetInvalid([])), "rs-1")
    try:
        reloader.request("x")
        invalid = outcomes.next()
        with pytest.raises(ValueError, match="a invalid reload outcome has no version"):
            reloader.accepted(invalid)
    finally:
        reloader.stop()


def test_watcher_and_reloader_together(rules: Path) -> None:
    """A rename-save of a real rule file, seen by the watcher, becomes one new version."""
    version = compile_plan(str(rules), None).version
    reloader, outcomes = start(lambda: compile_plan(str(rules), None), version)

    def on_change(paths: frozenset[str]) -> None:
        reloader.request(", ".join(os.path.relpath(p, rules.parent) for p in sorted(paths)) + " changed")

    try:
        with RulesWatcher(rules, on_change, debounce_s=0.5):
            text = (rules / "risk.yaml").read_text(encoding="utf-8")
            temp = rules / ".risk.yaml.tmp"
            temp.write_text(text.replace("max_notional_usd: 50000", "max_notional_usd: 45000"), encoding="utf-8")
            os.replace(temp, rules / "risk.yaml")
            outcome = outcomes.next()
            assert outcome.reason == "rules/risk.yaml changed"
            assert outcome.status == "changed" and outcome.new_version == compile_plan(str(rules), None).version
            reloader.accepted(outcome)
            (rules / "NOTES.txt").write_text("sentinel\n")  # the next outcome is the sentinel's
            sentinel = outcomes.next()
            assert (sentinel.reason, sentinel.status) == ("rules/NOTES.txt changed", "unchanged")
    finally:
        reloader.stop()
