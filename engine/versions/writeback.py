"""Write-back: a learner's accepted values become a ``kind: learned`` overlay in
``rules/learned/``, or the write is refused with a reason.

A write names the version the learner started from (``base_version``). It is checked
against the rule set as it is now, compiled: the version must still be ``base_version``
(else RB527, the rule set moved underneath), and every value must name a learnable
parameter, lie within its ``min`` … ``max`` and move at most ``max_step`` from its current
value in every profile (else RB528). The file that results is written by the rules-folder
adapter (``RulesFiles``, adapters/rules_files.py) under an exclusive lock on the folder:
staged beside its final name, placed without overwriting anything, then the rule set is
compiled again; if a file changed meanwhile (a human edit landed) or the set no longer
compiles with the values, the learner removes its own file and the write is refused. A
human file is never written. A refusal is an ordinary result, logged at INFO.

:func:`check`, :func:`learned_document` and :func:`verify` are pure; :func:`write_back`
drives the steps against a ``RulesFiles`` and a clock, calling ``at(step)`` after each step
(tests inject a human edit there, without sleeping).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol

import yaml

from engine.common.errors import RulebotError
from engine.common.times import TIME_RANGE, iso_utc, plausible_time
from engine.language import schema
from engine.language.compiler import compile_ruleset, version_of
from engine.language.diagnostics import Location, clip
from engine.language.durations import format_duration
from engine.language.kinds.overlays import SWEEP_PREFIX
from engine.language.paths import PathError, get, resolve
from engine.language.yamlstrict import load_yaml_text

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from engine.language.compiler import Result
    from engine.learners.base import LearningData, Proposal

log = logging.getLogger(__name__)

MOVED = "RB527"
NOT_ALLOWED = "RB528"
NOT_WRITTEN = "RB529"
CODES = {
    MOVED: "a learner's write was refused: the rule set moved underneath it (its base version is no longer the "
    "current version, or a rule file changed while the learned file was being written); its file was not kept",
    NOT_ALLOWED: "a learner's write was refused: a value is not allowed (not learnable, outside min … max, further "
    "than max_step from the current value, or the rule set does not compile with it); its file was not kept",
    NOT_WRITTEN: "a learner's learned file could not be written (the rules folder could not be locked or written, "
    "or the request would not make a valid learned file); nothing was kept",
}

Status = Literal["applied", "refused"]
APPLIED: Status = "applied"
REFUSED: Status = "refused"
#: The steps of a write after which ``at(step)`` is called: the checks passed, the file is
#: staged (a hidden temporary file in learned/), placed under its final name, verified.
STEPS = ("checked", "staged", "placed", "verified")
_REASON_CHARS = 500  # a per-path reason in the file (schema: provenance.reasons)
_MESSAGE_CHARS = 2000  # provenance.message
_TOLERANCE = 1e-12  # as the compiler's max_step check (engine/language/compiler.py)


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteRequest:
    """What a learner asks to write: its id, the version it learned on, the new values by
    parameter path, and where they came from (data window in epoch seconds, what it read
    counted, metrics, a message and a reason per path)."""

    learner: str
    base_version: str
    values: Mapping[str, float]
    window_from: float
    window_to: float
    counts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    metrics: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    message: str = ""
    reasons: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_proposals(
        cls,
        proposals: Sequence[Proposal],
        *,
        base_version: str,
        data: LearningData,
        metrics: Mapping[str, float] | None = None,
        message: str | None = None,
    ) -> WriteRequest:
        """One learner's proposals of one cycle as a write (all by the same learner); the
        message says each change (``path old → new``) unless given."""
        learners = {p.learner for p in proposals}
        if len(learners) != 1:
            raise ValueError(f"a write carries one learner's proposals, not {sorted(learners) or 'none'}")
        return cls(
            learner=learners.pop(),
            base_version=base_version,
            values=MappingProxyType({p.path: p.new for p in proposals}),
            window_from=data.window_from,
            window_to=data.window_to,
            counts=MappingProxyType({"outcomes": len(data.outcomes), "trades": len(data.trades)}),
            metrics=MappingProxyType(dict(metrics or {})),
            message="; ".join(f"{p.path} {p.old:g} → {p.new:g}" for p in proposals) if message is None else message,
            reasons=MappingProxyType({p.path: p.reason for p in proposals}),
        )


@dataclass(frozen=True, slots=True)
class Change:
    """One value a write changes: ``old`` is its value in the plan now (None when the path
    names no learnable value), ``new`` what the learner asks for."""

    path: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteOutcome:
    """What became of one write: ``applied`` (``file`` is the learned file's name in
    learned/, ``version`` the rule set's new version) or ``refused`` (``code`` and
    ``reason`` say why; nothing the learner wrote was kept)."""

    status: Status
    learner: str
    base_version: str
    changes: tuple[Change, ...]
    code: str | None = None
    reason: str = ""
    file: str | None = None
    version: str | None = None

    @property
    def applied(self) -> bool:
        return self.status == APPLIED


class RulesFiles(Protocol):
    """The rules folder as write-back needs it (adapters/rules_files.py)."""

    def lock(self, rules_dir: str) -> AbstractContextManager[Any]:
        """The folder's exclusive writer lock (the bot's reload takes it shared)."""

    def fingerprint(self, rules_dir: str, exclude: str | None = None) -> Mapping[str, str]:
        """Every rule file the loader reads → a hash of its bytes (``exclude``: a learned
        file's name to leave out)."""

    def next_name(self, rules_dir: str, learner: str) -> str:
        """A new learned file name that sorts after every file in learned/."""

    def stage(self, rules_dir: str, name: str, text: str) -> Any:
        """``text`` written whole and synced to a hidden temporary file in learned/."""

    def place(self, staged: Any, rules_dir: str, name: str) -> Any:
        """The staged file under its final name, never over an existing file
        (FileExistsError); returns what ``remove`` needs to remove exactly this file."""

    def discard(self, staged: Any) -> None:
        """Remove a staged file that is not placed."""

    def remove(self, placed: Any) -> None:
        """Remove the placed file, only if it is still the one placed."""


class WriteFailed(RulebotError):
    """The rules folder could not be locked, read or written (raised by the adapter)."""

    code = NOT_WRITTEN


# ------------------------------------------------------------------ pure checks


def changes_of(request: WriteRequest, result: Result) -> tuple[Change, ...]:
    """The write's changes against ``result``'s default plan (old None where the path is not
    a learnable value of it, or the set did not compile)."""
    plan = _default_plan(result)
    current = plan.learnable_values if plan is not None else {}
    return tuple(Change(path, current.get(path), new) for path, new in request.values.items())


def check(request: WriteRequest, result: Result) -> Refusal | None:
    """Why ``request`` may not be written over the rule set compiled as ``result`` (the set
    as it is now), or None. RB527: the set is not ``base_version`` any more; RB528: a value
    is not allowed; RB529: its provenance cannot be written (a window that is not two
    plausible times, a count or metric that is not a number)."""
    if result.version != request.base_version or not result.ok or not result.plans:
        now = result.version if result.ok and result.version else "a rule set that does not compile"
        return Refusal(MOVED, f"based on {request.base_version}, but the rules are now {now}")
    if not request.values:
        return Refusal(NOT_ALLOWED, "no values to write")
    plans = sorted(result.plans.values(), key=lambda plan: plan.profile)
    declared = {learner.id for learner in plans[0].learning.learners}
    if request.learner not in declared and not request.learner.startswith(SWEEP_PREFIX):
        return Refusal(NOT_ALLOWED, f"learner '{request.learner}' is not declared in learning.yaml")
    for path, new in request.values.items():
        problem = _value_problem(path, new, plans)
        if problem is not None:
            return Refusal(NOT_ALLOWED, f"'{clip(path, 80)}': {problem}")
    problem = _provenance_problem(request)
    return Refusal(NOT_WRITTEN, problem) if problem is not None else None


def _provenance_problem(request: WriteRequest) -> str | None:
    """Why the request's provenance cannot be written into a learned file, or None."""
    window = (request.window_from, request.window_to)
    if not all(_finite(t) for t in window) or not all(plausible_time(t) for t in window):
        return f"the data window {window[0]!r} … {window[1]!r} is not two times from {TIME_RANGE}"
    if window[0] > window[1]:
        return "the data window ends before it starts"
    for name, count in request.counts.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            return f"count '{clip(str(name), 40)}' is {clip(repr(count), 40)}, not a whole number ≥ 0"
    for name, metric in request.metrics.items():
        if not _finite(metric):
            return f"metric '{clip(str(name), 40)}' is {clip(repr(metric), 40)}, not a finite number"
    return None


def _finite(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _value_problem(path: str, new: Any, plans: Sequence[Any]) -> str | None:
    bounds = plans[0].learnables.get(path)
    if bounds is None:
        return "not a learnable value (only values whose human file declares `learn` bounds)"
    if not _finite(new):
        return f"{clip(repr(new), 40)} is not a finite number"
    low, high, step = float(bounds["min"]), float(bounds["max"]), float(bounds["max_step"])
    if not low <= new <= high:
        return f"{new:g} is outside its bounds {low:g} … {high:g}"
    for plan in plans:
        old = float(plan.learnable_values[path])
        if abs(new - old) > step + _TOLERANCE:
            return f"moving {old:g} → {new:g} ({plan.profile}) exceeds max_step {step:g}"
    return None


def learned_document(request: WriteRequest, result: Result, created_ts: float) -> dict[str, Any]:
    """The ``kind: learned`` document of a checked request: each value spelled as its human
    file spells it (a duration as ``2h15m``-style text, a number as a number)."""
    documents = (result.canonical or {}).get("base", {})
    values = {path: _spelled(documents, path, new) for path, new in request.values.items()}
    counts = {str(k): int(v) for k, v in request.counts.items()}
    provenance: dict[str, Any] = {
        "data_from": iso_utc(request.window_from),
        "data_to": iso_utc(request.window_to),
        "trades": counts.get("trades", counts.get("outcomes", 0)),
        "counts": counts,
        "metrics": {str(k): float(v) for k, v in request.metrics.items()},
        "message": clip(request.message, _MESSAGE_CHARS),
        "reasons": {p: clip(str(r), _REASON_CHARS) for p, r in request.reasons.items() if p in request.values},
    }
    return {
        "kind": "learned",
        "learner": request.learner,
        "base_version": request.base_version,
        "created": iso_utc(created_ts),
        "values": values,
        "provenance": provenance,
    }


def _spelled(documents: Mapping[str, Any], path: str, new: float) -> Any:
    try:
        kind, raw_path = resolve(documents, path)
        current = get(documents[kind], raw_path)
    except (PathError, KeyError, IndexError, TypeError):
        return new
    value = current.get("value") if isinstance(current, dict) else current
    if isinstance(value, str):  # a duration: the engine's seconds back to the file's spelling
        return format_duration(float(new))
    return int(new) if isinstance(new, float) and new.is_integer() and isinstance(value, int) else new


def learned_text(document: Mapping[str, Any]) -> str:
    """The file's text: a header naming its owner, then the document as YAML."""
    header = (
        "# yaml-language-server: $schema=../../schemas/learned.schema.json\n"
        f"# Written by rulebot (learner {document['learner']}); machine-owned: do not edit. "
        "Remove the file to undo it.\n"
    )
    return header + yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=100)


def document_problem(text: str, document: Mapping[str, Any]) -> str | None:
    """Why ``text`` is not a valid learned file that reads back as ``document``, or None."""
    loaded, problems = load_yaml_text(text, "learned file")
    if loaded is None or any(p.is_error for p in problems):
        first = problems[0].message if problems else "unreadable"
        return f"the learned file would not read back: {first}"
    if loaded.data != document:
        return "the learned file would not read back as written"

    def locate(path: tuple, key: bool = False) -> Location:
        return loaded.key_location_of(path) if key else loaded.location_of(path)

    found = schema.validate("learned", loaded.data, locate)
    return f"the learned file would be invalid: {found[0].message} ({found[0].path})" if found else None


def verify(after: Result, name: str, request: WriteRequest) -> Refusal | None:
    """With the file ``name`` placed, why it may not stay, or None: the set must compile,
    the file must be the last learned file and its base the set without it."""
    if not after.ok:
        errors = [d for d in after.diagnostics if d.is_error]
        first = errors[0] if errors else None
        where = f"{first.code} {first.message}" if first is not None else "it does not compile"
        return Refusal(NOT_ALLOWED, f"the rule set does not compile with the values: {where}")
    learned = (after.canonical or {}).get("learned", [])
    base = version_of({**(after.canonical or {}), "learned": learned[:-1]})
    last = learned[-1] if learned else {}
    last_is_ours = last.get("learner") == request.learner and last.get("base_version") == request.base_version
    if base != request.base_version or not last_is_ours:
        return Refusal(MOVED, f"based on {request.base_version}, but the rules under {name} are now {base}")
    return None


def _default_plan(result: Result) -> Any:
    if not result.plans:
        return None
    first = next(iter(result.plans.values()))
    return result.plans.get(first.ruleset.default_profile, first)


def _changed(before: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    return sorted(name for name in set(before) | set(now) if before.get(name) != now.get(name))


# ------------------------------------------------------------------ the write


def write_back(
    rules_dir: str,
    request: WriteRequest,
    files: RulesFiles,
    clock: Callable[[], float],
    *,
    at: Callable[[str], None] | None = None,
    compiler: Callable[[str], Result] = compile_ruleset,
) -> WriteOutcome:
    """Check ``request`` against the rules in ``rules_dir`` and write its learned file, or
    refuse; never raises for a refusal or a folder that cannot be written (RB529).
    ``compiler`` compiles the folder (a walk-forward passes one that remembers results by
    the files' content)."""
    step = at or (lambda _step: None)
    changes: tuple[Change, ...] = tuple(Change(path, None, new) for path, new in request.values.items())
    try:
        with files.lock(rules_dir):
            before = files.fingerprint(rules_dir)
            result = compiler(rules_dir)
            changes = changes_of(request, result)
            refusal = check(request, result)
            if refusal is not None:
                return _refused(request, changes, refusal)
            document = learned_document(request, result, clock())
            text = learned_text(document)
            problem = document_problem(text, document)
            if problem is not None:
                return _refused(request, changes, Refusal(NOT_WRITTEN, problem))
            step("checked")
            name = files.next_name(rules_dir, request.learner)
            staged = files.stage(rules_dir, name, text)
            try:
                step("staged")
                placed = files.place(staged, rules_dir, name)
            except FileExistsError:
                files.discard(staged)
                return _refused(request, changes, Refusal(MOVED, f"learned/{name} appeared while it was written"))
            except BaseException:
                files.discard(staged)
                raise
            try:
                step("placed")
                after = compiler(rules_dir)
                moved = _changed(before, files.fingerprint(rules_dir, exclude=name))
                refusal = (
                    Refusal(MOVED, f"{', '.join(moved)} changed while learned/{name} was written")
                    if moved
                    else verify(after, name, request)
                )
            except BaseException:
                files.remove(placed)
                raise
            if refusal is not None:
                files.remove(placed)
                return _refused(request, changes, refusal)
            step("verified")
    except WriteFailed as error:
        return _refused(request, changes, Refusal(NOT_WRITTEN, str(error)))
    log.info(
        "learner %s wrote learned/%s: %d value(s), %s → %s",
        request.learner,
        name,
        len(changes),
        request.base_version,
        after.version,
    )
    return WriteOutcome(
        status=APPLIED,
        learner=request.learner,
        base_version=request.base_version,
        changes=changes,
        file=name,
        version=after.version,
    )


def _refused(request: WriteRequest, changes: Iterable[Change], refusal: Refusal) -> WriteOutcome:
    log.info("learner %s's write refused: %s %s", request.learner, refusal.code, refusal.reason)
    return WriteOutcome(
        status=REFUSED,
        learner=request.learner,
        base_version=request.base_version,
        changes=tuple(changes),
        code=refusal.code,
        reason=refusal.reason,
    )
