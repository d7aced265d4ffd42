"""Hot reload away from the loop: recompile the whole rule set on a worker thread, hand the
result to the loop, which swaps plans between cycles (so no evaluation sees two versions).

``Reloader.request`` is all the watcher or a SIGHUP handler calls: it only notes the request
and wakes the worker. The worker compiles (and optionally prepares) the new plan and leaves a
:class:`ReloadOutcome`; the loop ``take``s it between cycles and, for a new version, swaps and
calls ``accepted``. Attempts are strictly one after another: the next compile starts only
once the previous outcome is taken (and, for a new version, accepted or declined), so its
"old version" is the live one and no outcome is ever lost; requests made meanwhile become
exactly one more compile. The reloader never touches the trading state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from engine.common.errors import RuleSetInvalid

if TYPE_CHECKING:
    from engine.language.compiler import Plan
    from engine.language.diagnostics import Diagnostic

log = logging.getLogger(__name__)

ReloadStatus = Literal["changed", "unchanged", "invalid", "failed"]


def compile_plan(rules_dir: str, profile: str | None) -> Plan:
    """The compiled plan of ``profile`` (None: the rule set's default profile), or
    RuleSetInvalid carrying every finding ``rulebot validate`` would print."""
    from engine.language.compiler import compile_ruleset

    result = compile_ruleset(rules_dir, [profile] if profile else None)
    if not result.ok:
        raise RuleSetInvalid(result.diagnostics)
    name = profile or next(iter(result.plans.values())).ruleset.default_profile
    return result.plans[name]


def diagnostic_lines(diagnostics: Iterable[Diagnostic]) -> tuple[str, ...]:
    """Each finding as ``rulebot validate`` prints it (``file:line:col: code severity: message``)."""
    from engine.language.formats import as_text

    return tuple(as_text([d]) for d in diagnostics)


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """One reload attempt. ``status``: ``changed`` (a new valid version in ``plan``, to be
    swapped), ``unchanged`` (the live version again), ``invalid`` (``errors`` as validate lists
    them; the live plan stays), ``failed`` (compiling or preparing raised; ``errors`` says
    what). ``new_version`` is None unless the set compiled; ``prepared`` is what ``prepare``
    returned for a changed plan."""

    requested_ts: float  # epoch s of the first request this attempt answers
    finished_ts: float
    reason: str
    old_version: str
    new_version: str | None
    errors: tuple[str, ...]
    duration_s: float  # compiling and preparing
    prepared: Any
    status: ReloadStatus
    plan: Plan | None = None


class Reloader:
    """Recompiles the rule set on its own thread when asked; the loop takes the outcomes.

    ``compile_fn`` reads, validates and compiles the whole set (``compile_plan``), raising
    RuleSetInvalid for an invalid one; ``prepare(plan)``, when given, runs on the worker for a
    new version (warming its features away from the loop). ``notify`` is called on the
    worker once an outcome is ready, so an idle loop can wake and take it at once.
    """

    def __init__(
        self,
        compile_fn: Callable[[], Plan],
        current_version: str,
        prepare: Callable[[Plan], Any] | None = None,
        *,
        notify: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self._compile = compile_fn
        self._prepare = prepare
        self._notify = notify
        self._clock = clock
        self._cond = threading.Condition()
        self._current = current_version
        self._requested_ts: float | None = None  # the oldest request not yet compiled
        self._reasons: list[str] = []
        self._ready: ReloadOutcome | None = None  # finished, not yet taken
        self._awaiting: ReloadOutcome | None = None  # taken new version, not yet accepted
        self._stopping = False
        self.attempts = 0
        self._thread = threading.Thread(target=self._work, name="rulebot-reload", daemon=True)
        self._thread.start()

    @property
    def current_version(self) -> str:
        with self._cond:
            return self._current

    def request(self, reason: str) -> None:
        """Ask for a reload (thread-safe, cheap: any thread, a signal handler's deferred work).
        Requests made before the worker starts the compile share that one compile."""
        with self._cond:
            if self._requested_ts is None:
                self._requested_ts = self._clock()
            if reason not in self._reasons:
                self._reasons.append(reason)
            self._cond.notify_all()

    def take(self) -> ReloadOutcome | None:
        """The finished outcome not yet taken, or None. A ``changed`` one must be followed by
        ``accepted`` (swapped) or ``declined``: the next compile waits for it."""
        with self._cond:
            outcome, self._ready = self._ready, None
            if outcome is None:
                return None  # nothing changed: the worker is not woken (the loop asks every cycle)
            if outcome.status == "changed":
                self._awaiting = outcome
            self._cond.notify_all()
            return outcome

    def accepted(self, outcome: ReloadOutcome) -> None:
        """The loop swapped to ``outcome``'s plan: its version is now the live one."""
        if outcome.new_version is None:
            raise ValueError(f"a {outcome.status} reload outcome has no version to accept")
        with self._cond:
            self._current = outcome.new_version
            if self._awaiting is outcome:
                self._awaiting = None
            self._cond.notify_all()

    def declined(self, outcome: ReloadOutcome) -> None:
        """The loop did not swap to ``outcome`` (shutting down): the live version stays."""
        with self._cond:
            if self._awaiting is outcome:
                self._awaiting = None
            self._cond.notify_all()

    def stop(self) -> None:
        """Stop the worker and join it (a compile under way finishes first; its outcome and
        any pending request are dropped)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> Reloader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (
                    self._requested_ts is None or self._ready is not None or self._awaiting is not None
                ):
                    self._cond.wait()
                if self._stopping:
                    return
                requested_ts, reason = self._requested_ts, "; ".join(self._reasons)
                self._requested_ts, self._reasons = None, []
                old_version = self._current
                self.attempts += 1
            assert requested_ts is not None
            outcome = self._attempt(requested_ts, reason, old_version)
            with self._cond:
                self._ready = outcome
                self._cond.notify_all()
            if self._notify is not None:
                try:
                    self._notify()
                except Exception:
                    log.exception("reload: waking the loop failed")

    def _attempt(self, requested_ts: float, reason: str, old_version: str) -> ReloadOutcome:
        """Compile (and prepare) once; every failure becomes an outcome, never a dead thread."""
        started = time.monotonic()
        status: ReloadStatus
        plan: Plan | None = None
        prepared: Any = None
        errors: tuple[str, ...] = ()
        try:
            plan = self._compile()
            status = "unchanged" if plan.version == old_version else "changed"
            if status == "changed" and self._prepare is not None:
                try:
                    prepared = self._prepare(plan)
                except Exception as error:
                    raise _PrepareFailed(plan.version) from error
        except RuleSetInvalid as invalid:
            status, plan, errors = "invalid", None, diagnostic_lines(invalid.diagnostics)
        except _PrepareFailed as failed:
            cause = failed.__cause__
            status, plan = "failed", None
            errors = (f"preparing {failed.version} failed: {type(cause).__name__}: {cause}",)
        except Exception as error:  # a file vanished mid-read, a bug: reported, the worker lives
            status, plan, errors = "failed", None, (f"compiling the rules failed: {type(error).__name__}: {error}",)
            log.warning("reload (%s): compiling the rules failed", reason, exc_info=True)
        outcome = ReloadOutcome(
            requested_ts=requested_ts,
            finished_ts=self._clock(),
            reason=reason,
            old_version=old_version,
            new_version=plan.version if plan is not None else None,
            errors=errors,
            duration_s=time.monotonic() - started,
            prepared=prepared,
            status=status,
            plan=plan if status == "changed" else None,
        )
        level = logging.INFO if status in ("changed", "unchanged") else logging.WARNING
        log.log(
            level,
            "reload (%s): %s %s → %s%s",
            reason,
            status,
            old_version,
            outcome.new_version,
            "".join(f"\n  {line}" for line in errors),
        )
        return outcome


class _PrepareFailed(Exception):
    def __init__(self, version: str):
        super().__init__(version)
        self.version = version
