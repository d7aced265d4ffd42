"""Write-back: a learner's values become a learned overlay, or the write is refused (RB527
the rules moved, RB528 a value not allowed, RB529 not writable), a human file is never
touched, and every attempt is audited. The concurrency tests inject a person's edit at each
step of the write (the ``at`` hook, and a real second process), without sleeping."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import select
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from adapters.rules_files import rules_lock
from engine.cli.compose import write_learned
from engine.language.compiler import compile_ruleset
from engine.learners.base import LearningData, Proposal
from engine.versions.audit import AUDIT_LOG
from engine.versions.writeback import WriteRequest
from tests.lifecycle.processes import HUNG, child_env
from tests.rules.conftest import edit_once

NOW = 1_736_146_800.0  # 2025-01-06T07:00:00Z
WEEK = 7 * 86400.0
HOLD = "exits.optimal_hold.default"  # a duration: 2h, bounds 30m … 8h, max_step 15m
TARGET = "exits.tiers.profit_target.targets.0.pnl_pct"  # 2.0, bounds 1 … 5, max_step 0.25
ALLOCATION_LINE = "base_allocation_pct: {value: 10,"


def clock() -> float:
    return NOW


def request(base: str, values: dict | None = None, learner: str = "hold_time", **more) -> WriteRequest:
    fields = {
        "counts": {"outcomes": 120, "trades": 42},
        "metrics": {"hit_rate": 0.55},
        "message": "winners run past the hold",
        "reasons": {HOLD: "trades peak at 2h15m", TARGET: "targets hit 71 % of the time"},
    }
    return WriteRequest(
        learner=learner,
        base_version=base,
        values=values if values is not None else {HOLD: 8100.0, TARGET: 2.25},
        window_from=NOW - WEEK,
        window_to=NOW,
        **(fields | more),
    )


def version(rules: Path) -> str:
    result = compile_ruleset(str(rules))
    assert result.ok and result.version
    return result.version


def hashes(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` → the hash of its bytes."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def human(files: dict[str, str]) -> dict[str, str]:
    return {name: digest for name, digest in files.items() if not name.startswith("learned/")}


def learned_files(rules: Path) -> list[str]:
    return sorted(p.name for p in (rules / "learned").iterdir() if p.name != ".gitkeep")


def audit(logs: Path) -> list[dict]:
    path = logs / AUDIT_LOG
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


# ------------------------------------------------------------------ applied


def test_a_valid_write_applies_its_values_and_is_audited(rules, tmp_path):
    logs, base = tmp_path / "logs", version(rules)
    before = hashes(rules)
    outcome = write_learned(str(rules), request(base), str(logs), clock)
    assert outcome.applied and outcome.code is None
    assert outcome.file == "0001-hold_time.yaml"
    assert learned_files(rules) == ["0001-hold_time.yaml"]
    result = compile_ruleset(str(rules))
    assert result.ok and result.version == outcome.version != base
    assert not result.diagnostics  # no RB526: its base is the set it applies to
    for plan in result.plans.values():
        assert plan.learnable_values[HOLD] == 8100.0
        assert plan.learnable_values[TARGET] == 2.25
    assert human(hashes(rules)) == human(before)
    text = (rules / "learned" / "0001-hold_time.yaml").read_text(encoding="utf-8")
    assert f"{HOLD}: 135m" in text  # a duration written as the human file spells it
    assert "trades peak at 2h15m" in text and "base_version: " + base in text
    [line] = audit(logs)
    assert line["event"] == "write" and line["status"] == "applied" and line["learner"] == "hold_time"
    assert line["base_version"] == base and line["version"] == outcome.version
    assert line["file"] == "learned/0001-hold_time.yaml"
    assert {c["path"]: (c["old"], c["new"]) for c in line["changes"]} == {HOLD: (7200.0, 8100.0), TARGET: (2.0, 2.25)}
    assert line["window"] == {"from": "2024-12-30T07:00:00Z", "to": "2025-01-06T07:00:00Z"}


def test_writes_chain_each_on_the_version_the_previous_made(rules, tmp_path):
    first = write_learned(str(rules), request(version(rules)), str(tmp_path), clock)
    second = write_learned(str(rules), request(first.version or "", {HOLD: 9000.0}), str(tmp_path), clock)
    assert first.applied and second.applied
    assert learned_files(rules) == ["0001-hold_time.yaml", "0002-hold_time.yaml"]
    result = compile_ruleset(str(rules))
    assert result.ok and not result.diagnostics and result.version == second.version
    assert result.plans["paper"].learnable_values[HOLD] == 9000.0


def test_from_proposals_carries_values_reasons_window_and_counts():
    data = LearningData(window_from=NOW - WEEK, window_to=NOW, outcomes=(), trades=())
    proposals = [
        Proposal("hold_time", HOLD, 7200.0, 8100.0, "longer", 10),
        Proposal("hold_time", TARGET, 2.0, 2.25, "higher", 10),
    ]
    made = WriteRequest.from_proposals(proposals, base_version="rs-0000000000000000", data=data, message="m")
    assert made.learner == "hold_time" and dict(made.values) == {HOLD: 8100.0, TARGET: 2.25}
    assert dict(made.reasons) == {HOLD: "longer", TARGET: "higher"}
    assert dict(made.counts) == {"outcomes": 0, "trades": 0} and made.window_to == NOW
    with pytest.raises(ValueError, match="one learner"):
        WriteRequest.from_proposals(
            [*proposals, Proposal("other", HOLD, 1, 2, "", 1)], base_version="rs-0000000000000000", data=data
        )


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("values", "learner", "why"),
    [
        ({"signals.voting.min_aligned": 3}, "hold_time", "not a learnable value"),
        ({"signals.no_such.value": 3}, "hold_time", "not a learnable value"),
        ({HOLD: 30000.0}, "hold_time", "outside its bounds"),
        ({HOLD: 9000.0}, "hold_time", "exceeds max_step"),
        ({TARGET: float("nan")}, "hold_time", "not a finite number"),
        ({TARGET: True}, "hold_time", "not a finite number"),
        ({}, "hold_time", "no values"),
        ({TARGET: 2.25}, "nobody", "not declared in learning.yaml"),
    ],
)
def test_a_value_not_allowed_is_refused_rb528(rules, tmp_path, values, learner, why):
    before = hashes(rules)
    outcome = write_learned(str(rules), request(version(rules), values, learner), str(tmp_path), clock)
    assert not outcome.applied and outcome.code == "RB528" and why in outcome.reason
    assert hashes(rules) == before
    [line] = audit(tmp_path)
    assert line["status"] == "refused" and line["code"] == "RB528" and line["reason"] == outcome.reason


def test_values_that_break_the_rule_set_are_taken_back_rb528(rules, tmp_path):
    """One weight moved alone breaks the sum of 1 (RB301): only compiling with the file
    placed shows it; the learner removes its own file."""
    before = hashes(rules)
    values = {"signals.components.funding_rate.weight": 0.17}
    outcome = write_learned(str(rules), request(version(rules), values, "signal_weights"), str(tmp_path), clock)
    assert outcome.code == "RB528" and "does not compile" in outcome.reason and "RB301" in outcome.reason
    assert hashes(rules) == before


def test_a_write_on_an_old_base_is_refused_rb527(rules, tmp_path):
    base = version(rules)
    edit_once(rules / "risk.yaml", ALLOCATION_LINE, "base_allocation_pct: {value: 11,")
    before = hashes(rules)
    outcome = write_learned(str(rules), request(base), str(tmp_path), clock)
    assert outcome.code == "RB527" and base in outcome.reason and version(rules) in outcome.reason
    assert hashes(rules) == before
    assert audit(tmp_path)[0]["code"] == "RB527"


def test_a_rule_set_that_does_not_compile_now_is_refused_rb527(rules, tmp_path):
    base = version(rules)
    edit_once(rules / "risk.yaml", ALLOCATION_LINE, "base_allocation_pct: {value: 99,")
    outcome = write_learned(str(rules), request(base), str(tmp_path), clock)
    assert outcome.code == "RB527" and "does not compile" in outcome.reason
    assert learned_files(rules) == []


def test_no_name_sorting_after_the_learned_files_is_refused_rb529(rules, tmp_path):
    first = write_learned(str(rules), request(version(rules)), str(tmp_path), clock)
    (rules / "learned" / "0001-hold_time.yaml").rename(rules / "learned" / "zz-hand-named.yaml")
    before = hashes(rules)
    outcome = write_learned(str(rules), request(first.version or "", {HOLD: 9000.0}), str(tmp_path), clock)
    assert outcome.code == "RB529" and "sorts after learned/zz-hand-named.yaml" in outcome.reason
    assert hashes(rules) == before


@pytest.mark.parametrize(
    ("more", "why"),
    [
        ({"window_to": float("nan")}, "data window"),
        ({"window_from": NOW + WEEK}, "ends before it starts"),
        ({"window_from": 1_736_146_800_000.0}, "data window"),  # milliseconds
        ({"metrics": {"sharpe": float("inf")}}, "metric 'sharpe'"),
        ({"counts": {"trades": -1}}, "count 'trades'"),
        ({"message": "\ud800"}, "would not read back"),
    ],
)
def test_provenance_that_cannot_be_written_is_refused_rb529(rules, tmp_path, more, why):
    before = hashes(rules)
    fields = {
        "learner": "hold_time",
        "base_version": version(rules),
        "values": {TARGET: 2.25},
        "window_from": NOW - WEEK,
        "window_to": NOW,
    }
    outcome = write_learned(str(rules), WriteRequest(**(fields | more)), str(tmp_path), clock)
    assert outcome.code == "RB529" and why in outcome.reason
    assert hashes(rules) == before
    assert audit(tmp_path)[0]["code"] == "RB529"


def test_hostile_text_is_written_so_that_it_reads_back(rules, tmp_path):
    message = "yes: no\n# not a comment\x1b[31m " + "x" * 3000
    outcome = write_learned(str(rules), request(version(rules), message=message), str(tmp_path), clock)
    assert outcome.applied
    result = compile_ruleset(str(rules))
    assert result.ok and result.version == outcome.version


# ------------------------------------------------------------------ a person's edit meanwhile


@pytest.mark.parametrize("step", ["checked", "staged", "placed"])
def test_a_human_edit_while_the_learner_writes_wins(rules, tmp_path, step):
    """The Done-when: a human edit lands while a learner is writing; the learner's write is
    refused, the human's edit survives intact, the refusal is audited."""
    base, risk = version(rules), rules / "risk.yaml"
    edited = risk.read_text(encoding="utf-8").replace(ALLOCATION_LINE, "base_allocation_pct: {value: 11,")
    seen = []

    def at(now: str) -> None:
        seen.append(now)
        if now == step:
            risk.write_text(edited, encoding="utf-8")

    outcome = write_learned(str(rules), request(base), str(tmp_path), clock, at=at)
    assert outcome.code == "RB527" and "risk.yaml changed" in outcome.reason
    assert seen == ["checked", "staged", "placed"]  # noticed once placed; never "verified"
    assert risk.read_text(encoding="utf-8") == edited
    assert sorted(os.listdir(rules / "learned")) == [".gitkeep"]  # nothing staged or placed is left
    result = compile_ruleset(str(rules))
    assert result.ok and result.plans["paper"].risk.sizing.base_allocation_pct == 11
    [line] = audit(tmp_path)
    assert (line["status"], line["code"], line["reason"]) == ("refused", "RB527", outcome.reason)


@pytest.mark.parametrize("step", ["checked", "staged"])
def test_a_person_taking_the_learned_files_name_keeps_it(rules, tmp_path, step):
    mine = "kind: learned\n# a person's draft\n"
    target = rules / "learned" / "0001-hold_time.yaml"

    def at(now: str) -> None:
        if now == step:
            target.write_text(mine, encoding="utf-8")

    outcome = write_learned(str(rules), request(version(rules)), str(tmp_path), clock, at=at)
    assert outcome.code == "RB527"
    assert target.read_text(encoding="utf-8") == mine
    assert sorted(os.listdir(rules / "learned")) == [".gitkeep", "0001-hold_time.yaml"]


def test_an_edit_after_the_write_is_verified_stays_and_the_compiler_flags_the_file(rules, tmp_path):
    """The one window no lock closes (people take none): an edit after the last check. The
    file stays, the edit too, and compiling says the file was tuned on another version."""
    risk = rules / "risk.yaml"

    def at(now: str) -> None:
        if now == "verified":
            edit_once(risk, ALLOCATION_LINE, "base_allocation_pct: {value: 11,")

    outcome = write_learned(str(rules), request(version(rules)), str(tmp_path), clock, at=at)
    assert outcome.applied
    result = compile_ruleset(str(rules))
    assert [d.code for d in result.diagnostics] == ["RB526"]
    assert "value: 11," in risk.read_text(encoding="utf-8")


# ------------------------------------------------------------------ real processes

CHILD = """
import os, sys
from engine.cli.compose import write_learned
from engine.versions.writeback import WriteRequest
rules, logs, base, pause, ready, go = sys.argv[1:7]
def at(step):
    if step == pause:
        os.write(int(ready), b"r")
        os.read(int(go), 1)
request = WriteRequest(learner="hold_time", base_version=base, values={"exits.optimal_hold.default": 8100.0},
                       window_from=1736000000.0, window_to=1736146800.0)
outcome = write_learned(rules, request, logs, lambda: 1736146800.0, at=at)
print(outcome.status, outcome.code or "", flush=True)
"""


class Learner:
    """A learner writing in a child process that stops after ``pause`` until told to go on."""

    def __init__(self, rules: Path, logs: Path, base: str, pause: str = "") -> None:
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()
        self.child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(rules), str(logs), base, pause, str(ready_w), str(go_r)],
            env=child_env(),
            pass_fds=(ready_w, go_r),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(ready_w)
        os.close(go_r)
        self.ready, self.go = ready_r, go_w

    def paused(self) -> None:
        """Returns once the child stopped at its pause (fails if it ended instead)."""
        readable, _, _ = select.select([self.ready], [], [], HUNG)
        if not (readable and os.read(self.ready, 1) == b"r"):
            self.child.kill()
            out, err = self.child.communicate(timeout=HUNG)
            pytest.fail(f"the learner ended before its pause: {out}{err}")

    def finish(self) -> tuple[str, ...]:
        os.write(self.go, b"g")
        out, err = self.child.communicate(timeout=HUNG)
        os.close(self.ready)
        os.close(self.go)
        assert self.child.returncode == 0, err
        return tuple(out.split())


def test_a_human_edit_while_a_learner_process_writes_wins(rules, tmp_path):
    base, risk = version(rules), rules / "risk.yaml"
    learner = Learner(rules, tmp_path, base, pause="staged")
    learner.paused()
    edit_once(risk, ALLOCATION_LINE, "base_allocation_pct: {value: 11,")
    edited = risk.read_bytes()
    assert learner.finish() == ("refused", "RB527")
    assert risk.read_bytes() == edited
    assert sorted(os.listdir(rules / "learned")) == [".gitkeep"]
    assert [(line["status"], line["code"]) for line in audit(tmp_path)] == [("refused", "RB527")]


def test_two_learners_on_one_base_do_not_both_land(rules, tmp_path):
    """The first holds the rules folder's lock while it writes; the second, on the same
    base, gets the lock after it and finds the rules moved."""
    base = version(rules)
    first = Learner(rules, tmp_path, base, pause="checked")
    first.paused()  # holds the lock now
    second = Learner(rules, tmp_path, base)
    assert first.finish() == ("applied",)
    assert second.finish() == ("refused", "RB527")
    assert learned_files(rules) == ["0001-hold_time.yaml"]
    assert sorted((line["status"], line["code"]) for line in audit(tmp_path)) == [
        ("applied", None),
        ("refused", "RB527"),
    ]


# ------------------------------------------------------------------ the lock


def _try(folder: Path, mode: int) -> bool:
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_the_reload_lock_is_shared_and_waits_for_a_writer(rules):
    with rules_lock(rules, shared=True):
        assert _try(rules, fcntl.LOCK_SH)  # readers share it
        assert not _try(rules, fcntl.LOCK_EX)  # a writer waits for them
    with rules_lock(rules):
        assert not _try(rules, fcntl.LOCK_SH)  # a reload waits for the writer
    assert _try(rules, fcntl.LOCK_EX)  # released on leaving


def test_a_reload_never_sees_a_learned_file_its_learner_takes_back(rules, tmp_path):
    """The bot's reload compiles under the shared lock: started while a learner's placed file
    is about to be taken back (a person's edit landed), it sees the set only after, without it."""
    risk = rules / "risk.yaml"
    seen: list[str | None] = []

    def reload() -> None:
        with rules_lock(rules, shared=True):
            seen.append(compile_ruleset(str(rules)).version)

    thread = threading.Thread(target=reload)

    def at(step: str) -> None:
        if step == "placed":
            edit_once(risk, ALLOCATION_LINE, "base_allocation_pct: {value: 11,")
            thread.start()

    outcome = write_learned(str(rules), request(version(rules)), str(tmp_path), clock, at=at)
    thread.join(HUNG)
    assert outcome.code == "RB527"
    assert seen == [version(rules)] and learned_files(rules) == []
