"""`rulebot dry-run --learn`: the walk-forward replay (engine/replay/walkforward.py) wired to
the outside world — the learners write into a scratch copy of the rules folder, never into
the rules given; ``--out`` keeps the learned rules, the versions and the learning audit."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.cli import compose
from engine.cli.options import Window, progress, report_problems
from engine.common import interrupts
from engine.common.files import whole_file
from engine.replay.walkforward import Candidate

if TYPE_CHECKING:
    from engine.language.compiler import Plan, Result
    from engine.language.diagnostics import Diagnostic
    from engine.learners.base import Proposal
    from engine.learners.cycle import Cycle

LEARNED_RULES = "learned-rules"  # --out: the rules folder as the learning left it
VERSIONS = "versions.jsonl"  # --out: each version change, one line
AUDIT = "learning_audit.jsonl"  # --out: the learning audit (cycles and write-back attempts)


class ScratchRules:
    """The CandidateWriter of a walk-forward: a scratch copy of the rules folder that the
    learned overlays are written into with the real write-back and its checks (bounds,
    max_step, base version). A candidate is the current rules plus its overlay; a rejected
    one's overlay is removed again before the next. The clock of every write is the cycle's
    time on the snapshots' clock, so the versions are the same on every run.

    The folder keeps one path, so a compile result is remembered by the files' content: the
    write-back's compile of the current rules and the candidate's are each done once."""

    MEMO = 4  # compile results kept (the current rules and the last candidates)

    def __init__(self, rules_dir: str, profile: str, scratch: str) -> None:
        self.scratch, self.profile = Path(scratch), profile
        self.logs = str(self.scratch / "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.folder = str(self.scratch / "rules")
        shutil.copytree(rules_dir, self.folder, ignore=shutil.ignore_patterns(".*"))
        self.memo: dict[tuple, Result] = {}
        self.version = self.compile(self.folder).version or ""
        self.pending: str | None = None  # the learned file of the candidate not accepted (yet)

    def compile(self, folder: str) -> Result:
        """``compile_ruleset(folder)``, remembered by the content of every rule file."""
        from engine.language.compiler import compile_ruleset

        key = (folder, tuple(sorted(compose.rules_fingerprint(folder).items())))
        if key not in self.memo:
            while len(self.memo) >= self.MEMO:
                self.memo.pop(next(iter(self.memo)))
            self.memo[key] = compile_ruleset(folder)
        return self.memo[key]

    def candidate(self, proposals: tuple[Proposal, ...], cycle: Cycle) -> Candidate:
        from engine.versions.writeback import WriteRequest

        self._drop_pending()
        request = WriteRequest.from_proposals(proposals, base_version=self.version, data=cycle.data)
        written = compose.write_learned(self.folder, request, self.logs, lambda: cycle.ts, compiler=self.compile)
        if not written.applied or written.file is None:
            return Candidate(request.learner, None, None, f"{written.code}: {written.reason}")
        self.pending = written.file
        result = self.compile(self.folder)
        plan = result.plans.get(self.profile)
        if plan is None or result.version is None:  # the write-back compiled it: a bug if this happens
            self._drop_pending()
            return Candidate(request.learner, None, None, f"the candidate has no {self.profile} plan")
        return Candidate(request.learner, plan, result.version)

    def accept(self, candidate: Candidate) -> None:
        assert candidate.version is not None and self.pending is not None
        self.pending, self.version = None, candidate.version

    def audit(self, record: dict[str, Any]) -> None:
        from engine.versions.audit import AUDIT_LOG

        with compose.append_log(os.path.join(self.logs, AUDIT_LOG), fsync=False) as log:
            log.write(record)

    def keep(self, out_dir: str, changes: list[dict]) -> None:
        """Into ``out_dir``: the learned rules folder, the version changes, the audit."""
        from engine.versions.audit import AUDIT_LOG

        self._drop_pending()
        out = Path(out_dir)
        target = out / LEARNED_RULES
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(self.folder, target)
        audit = Path(self.logs) / AUDIT_LOG
        with whole_file(out / AUDIT) as tmp:
            tmp.write_text(audit.read_text(encoding="utf-8") if audit.exists() else "", encoding="utf-8")
        with whole_file(out / VERSIONS) as tmp:
            tmp.write_text("".join(json.dumps(c) + "\n" for c in changes), encoding="utf-8")

    def _drop_pending(self) -> None:
        """Take the rejected candidate's overlay out: the folder holds the current rules again."""
        if self.pending is not None:
            os.remove(os.path.join(self.folder, "learned", self.pending))
            self.pending = None


def learning_dry_run(
    guard: interrupts.Guard,
    plan: Plan,
    rules_dir: str,
    snapshots: tuple[str, ...],
    window: Window,
    symbols: set[str] | None,
    out_dir: str | None,
) -> dict[str, Any]:
    """One walk-forward replay (Ctrl-C stops it; the result covers what was done)."""
    from engine.replay.walkforward import walk_forward

    guard.live()
    problems: list[Diagnostic] = []
    with tempfile.TemporaryDirectory(prefix="rulebot-walk-forward-") as scratch:
        writer = ScratchRules(rules_dir, plan.profile, scratch)
        with progress(snapshots, f"dry-run --learn {plan.version}") as bar:
            result, _, _ = walk_forward(
                plan,
                compose.read_snapshots(snapshots, problems),
                broker=compose.paper_broker(plan),
                writer=writer,
                broker_for=compose.paper_broker,
                start=window[0],
                end=window[1],
                symbols=symbols,
                on_cycle=lambda snapshot: bar.update(1),
            )
        if out_dir:
            writer.keep(out_dir, result["learning"]["changes"])
    report_problems(problems)
    result["input_errors"] = sum(p.is_error for p in problems)
    result["replay"] = "scalar (walk-forward learning reads every signal)"
    return result
