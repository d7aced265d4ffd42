"""Parse → validate → compile a rule-set directory into a frozen :class:`Plan`.

One pass reports everything it can at once: YAML and schema problems of every file,
overlay problems, semantic checks per kind, cross-file references. A plan is compiled
per profile (paper/live): the profile's overrides and then the learned overlays are
applied to the human files before building, and every value keeps pointing at the file
and line it came from.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, cast

from engine.language import crosscheck, schema
from engine.language.diagnostics import Collector, Diagnostic, Location, Severity, clip
from engine.language.durations import parse_duration
from engine.language.kinds import KINDS, indicators
from engine.language.kinds.base import BuildContext, Doc
from engine.language.kinds.overlays import SWEEP_PREFIX
from engine.language.loader import BASE_KINDS, BUILD_ORDER, TOP_KINDS, LoadedRuleSet, SourceFile, load_ruleset
from engine.language.paths import PathError, get, resolve, set_value, to_param_path

CODES = {
    "RB330": "learn bounds are inconsistent, or the value lies outside them",
    "RB385": "default_profile names a profile with no file in profiles/",
    "RB389": "the named profile does not exist",
    "RB520": "an override or learned value names a parameter that does not exist",
    "RB521": "a learned value targets a parameter that declares no `learn` bounds",
    "RB522": "a learned value lies outside the parameter's bounds",
    "RB523": "a learned value moves further than the parameter's max_step",
    "RB524": "a learned file names a learner that learning.yaml does not declare",
    "RB525": "a paper profile has no paper_broker settings",
    "RB526": "a learned file was tuned on another rule-set version than the one it now applies to",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Everything one profile of a rule set does, compiled and immutable."""

    version: str
    profile: str
    mode: str
    ruleset: Any
    signals: Any
    gates: Any
    requirements: Any
    risk: Any
    exits: Any
    learning: Any
    schedules: Any
    venues: Any
    indicators: Any = indicators.EMPTY  # optional file: none declared
    paper_broker: Mapping[str, Any]
    learnables: Mapping[str, Mapping[str, Any]]  # parameter path → {min, max, max_step}
    learnable_values: Mapping[str, Any]  # parameter path → its value in this plan (seconds for durations)
    # the rule set's canonical content (Result.canonical, what ``version`` hashes): the version store keeps it
    canonical: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass
class Result:
    """What validating or compiling produced: the version, every finding, the plans."""

    version: str | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    plans: dict[str, Plan] = field(default_factory=dict)
    canonical: dict | None = None  # what the version id hashes (canonical_form), kept by the version store

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]


def canonical_form(loaded: LoadedRuleSet) -> dict:
    """Merged files with defaults filled; hashing its sorted JSON gives the version id."""

    def filled(source: SourceFile) -> Any:
        return schema.fill_defaults(source.data, schema.load_schema(source.kind))

    return {
        "base": {kind: filled(src) for kind, src in sorted(loaded.base.items())},
        "profiles": {name: filled(src) for name, src in sorted(loaded.profiles.items())},
        "learned": [filled(src) for src in loaded.learned],
    }


def normal_numbers(node: Any) -> Any:
    """3.0 and 3 are the same value; write both as 3 so the hash agrees."""
    if isinstance(node, float) and node.is_integer():
        return int(node)
    if isinstance(node, dict):
        return {k: normal_numbers(v) for k, v in node.items()}
    if isinstance(node, list):
        return [normal_numbers(v) for v in node]
    return node


def version_of(canonical: Mapping) -> str:
    text = json.dumps(normal_numbers(canonical), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "rs-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def compile_ruleset(root: str, profiles: Iterable[str] | None = None) -> Result:
    """Load ``root`` and compile the named profiles (default: every profile present)."""
    loaded = load_ruleset(root)
    result = Result(version=None, diagnostics=list(loaded.diagnostics))
    if loaded.diagnostics and any(d.is_error for d in loaded.diagnostics) and not loaded.base:
        return _finish(result)
    complete = all(kind in loaded.base for kind in BASE_KINDS)
    if complete and result.ok:
        canonical = canonical_form(loaded)
        result.version = version_of(canonical)
        result.canonical = normal_numbers(canonical)
        result.diagnostics.extend(_check_learned_bases(loaded, canonical))
    names = _profiles_to_compile(loaded, profiles, result)
    for name in names:
        plan, found = _compile_profile(loaded, name, result.version or "unversioned")
        result.diagnostics.extend(found)
        if plan is not None and complete:
            result.plans[name] = replace(plan, canonical=result.canonical)
    if not names:
        _, found = _compile_profile(loaded, None, "unversioned")
        result.diagnostics.extend(found)
    return _finish(result)


def _check_learned_bases(loaded: LoadedRuleSet, canonical: Mapping) -> list[Diagnostic]:
    """RB526: learned file i must name the version of the rule set with learned files 0..i-1
    (a learner's write names the version it started from; DESIGN "Rule sets, versions")."""
    found = []
    for index, learned in enumerate(loaded.learned):
        expected = version_of({**canonical, "learned": canonical["learned"][:index]})
        if learned.data["base_version"] != expected:
            found.append(
                learned.locate(("base_version",)).diagnostic(
                    "RB526",
                    f"tuned on {learned.data['base_version']}, but the rule set it applies to is now "
                    f"{expected}: the human files (or an earlier learned file) changed since",
                    path="/base_version",
                    severity=Severity.WARNING,
                    suggestion="re-run the learner, or remove this file if its values no longer fit",
                )
            )
    return found


def _finish(result: Result) -> Result:
    unique = {(d.code, d.file, d.line, d.col, d.path, d.message): d for d in result.diagnostics}
    result.diagnostics = sorted(unique.values(), key=Diagnostic.sort_key)
    if not result.ok:
        result.plans.clear()
    return result


def _profiles_to_compile(loaded: LoadedRuleSet, wanted: Iterable[str] | None, result: Result) -> list[str]:
    names = list(wanted) if wanted is not None else sorted(loaded.profiles)
    for name in names:
        if name not in loaded.profiles and name not in loaded.unloaded_profiles:
            result.diagnostics.append(
                Diagnostic(
                    "RB389",
                    f"no profile '{name}' in {loaded.root}/profiles/",
                    file=loaded.root,
                    suggestion=f"profiles present: {', '.join(sorted(loaded.profiles)) or 'none'}",
                )
            )
    ruleset = loaded.base.get("ruleset")
    default = ruleset.data["default_profile"] if ruleset is not None else None
    if ruleset is not None and default not in loaded.profiles and default not in loaded.unloaded_profiles:
        result.diagnostics.append(
            ruleset.locate(("default_profile",)).diagnostic(
                "RB385",
                f"default_profile '{ruleset.data['default_profile']}' has no file in profiles/",
                path="/default_profile",
                suggestion=f"add profiles/{ruleset.data['default_profile']}.yaml",
            )
        )
    return [n for n in names if n in loaded.profiles]


# ------------------------------------------------------------------ one profile


@dataclass
class _Workspace:
    """Mutable copies of the base documents while overlays are applied."""

    loaded: LoadedRuleSet
    data: dict[str, Any]
    overlay_at: dict[tuple, Location] = field(default_factory=dict)  # (kind, *path) → overlay entry
    collector: Collector = field(default_factory=Collector)

    def locate(self, kind: str) -> Any:
        source = self.loaded.base[kind]

        def where(path: tuple, key: bool = False) -> Location:
            for depth in range(len(path), 0, -1):
                hit = self.overlay_at.get((kind, *path[:depth]))
                if hit is not None:
                    return hit
            return source.locate(path, key)

        return where


def _compile_profile(loaded: LoadedRuleSet, name: str | None, version: str) -> tuple[Plan | None, list]:
    space = _Workspace(
        loaded, {k: schema.fill_defaults(copy.deepcopy(s.data), schema.load_schema(k)) for k, s in loaded.base.items()}
    )
    profile = loaded.profiles.get(name) if name else None
    if profile is not None:
        _apply_overrides(space, profile)
        if profile.data["mode"] == "paper" and "paper_broker" not in profile.data:
            space.collector.add(
                profile.locate(("mode",)).diagnostic(
                    "RB525",
                    "a paper profile needs paper_broker settings (starting_balance_usd, slippage_bps)",
                    path="/mode",
                    suggestion="add `paper_broker: {starting_balance_usd: 10000, slippage_bps: 2}`",
                )
            )
    for learned in loaded.learned:
        _apply_learned(space, learned)
    revalidated = _revalidate(space)
    thresholds = profile.data["thresholds"] if profile is not None else "paper"
    ctx = BuildContext(profile=name or "paper", thresholds=thresholds, collector=space.collector)
    specs, docs, (learnables, learnable_values) = _build_all(space, revalidated, ctx)
    complete = all(kind in specs for kind in BASE_KINDS)
    if complete:
        crosscheck.check_all(specs, docs, ctx)
    if profile is None or name is None or space.collector.has_errors or not complete:
        return None, space.collector.items
    plan = Plan(
        version=version,
        profile=name,
        mode=profile.data["mode"],
        paper_broker=MappingProxyType(dict(profile.data.get("paper_broker", {}))),
        learnables=MappingProxyType(learnables),
        learnable_values=MappingProxyType(learnable_values),
        **specs,
    )
    return plan, space.collector.items


def _apply_overrides(space: _Workspace, profile: SourceFile) -> None:
    for dotted, value in profile.data["overrides"].items():
        where = profile.locate(("overrides", dotted), True)
        target = _target(space, dotted, where)
        if target is not None:
            set_value(space.data[target[0]], target[1], value)
            space.overlay_at[(target[0], *target[1])] = where


def _target(space: _Workspace, dotted: str, where: Location) -> tuple[str, tuple] | None:
    if _kind_file_invalid(space.loaded, dotted.split(".", 1)[0]):
        return None
    try:
        return resolve(space.data, dotted)
    except PathError as error:
        space.collector.add(where.diagnostic("RB520", f"'{dotted}': {error}", suggestion=error.suggestion))
        return None


def _kind_file_invalid(loaded: LoadedRuleSet, kind: str) -> bool:
    """True when ``kind``'s file exists but failed to load (or an unreadable file may be it):
    its own findings say why, and an overlay error "no rule file of kind …" would mislead."""
    return kind in TOP_KINDS and kind not in loaded.base and (kind in loaded.seen_kinds or loaded.undetermined > 0)


def _apply_learned(space: _Workspace, learned: SourceFile) -> None:
    learners = [entry.get("id") for entry in space.data.get("learning", {}).get("learners", [])]
    author = learned.data["learner"]
    if "learning" in space.data and author not in learners and not author.startswith(SWEEP_PREFIX):
        space.collector.add(
            learned.locate(("learner",)).diagnostic(
                "RB524",
                f"learner '{learned.data['learner']}' is not declared in learning.yaml",
                path="/learner",
                severity=Severity.WARNING,
                suggestion=f"declared learners: {', '.join(learners)}",
            )
        )
    for dotted, value in learned.data["values"].items():
        where = learned.locate(("values", dotted), True)
        target = _target(space, dotted, where)
        if target is None:
            continue
        kind, path = target
        current = get(space.data[kind], path)
        if not (isinstance(current, dict) and "learn" in current):
            space.collector.add(
                where.diagnostic(
                    "RB521",
                    f"'{dotted}' declares no learn bounds, so no learner may change it",
                    suggestion="add `learn: {min, max, max_step}` to the value in the human file",
                )
            )
            continue
        if _within_bounds(current, value, dotted, where, space):
            set_value(space.data[kind], path, value)
            space.overlay_at[(kind, *path)] = where


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return parse_duration(value)
    except ValueError:
        return None


def _brief(value: Any) -> str:
    """A value as a message quotes it: cut to 40 characters (like RB206), so a 400-digit
    number does not fill the screen."""
    return clip(str(value), 40)


def _within_bounds(current: Mapping, value: Any, dotted: str, where: Location, space: _Workspace) -> bool:
    new, old = _number(value), _number(current["value"])
    # the schema types every bound like its value, a number or a duration: none reads as None
    bounds = cast(dict[str, float], {k: _number(v) for k, v in current["learn"].items()})
    if new is None or old is None:
        space.collector.add(where.diagnostic("RB522", f"'{dotted}': {_brief(repr(value))} is not a number or duration"))
        return False
    if not bounds["min"] <= new <= bounds["max"]:
        space.collector.add(
            where.diagnostic(
                "RB522",
                f"'{dotted}': {_brief(value)} is outside its bounds {_brief(current['learn']['min'])} … "
                f"{_brief(current['learn']['max'])}",
            )
        )
        return False
    if abs(new - old) > bounds["max_step"] + 1e-12:
        space.collector.add(
            where.diagnostic(
                "RB523",
                f"'{dotted}': moving {_brief(current['value'])} → {_brief(value)} exceeds max_step "
                f"{_brief(current['learn']['max_step'])}",
            )
        )
        return False
    return True


def _revalidate(space: _Workspace) -> set[str]:
    """Schema-check documents an overlay touched; returns the kinds that are still valid."""
    touched = {key[0] for key in space.overlay_at}
    valid = set(space.data)
    for kind in touched:
        problems = schema.validate(kind, space.data[kind], space.locate(kind))
        space.collector.extend(problems)
        if problems:
            valid.discard(kind)
    return valid


def _build_all(space: _Workspace, valid: set[str], ctx: BuildContext):
    specs, docs, learnables, values = {}, {}, {}, {}
    invalid = space.loaded.rejected.get("indicators", space.data.get("indicators"))
    if invalid is not None and "indicators" not in valid:  # its own errors say why: no "unknown name" on top
        ctx.declare(indicators.guessed_vocabulary(invalid))
    for kind in BUILD_ORDER:
        if kind not in valid or kind not in space.data:
            continue
        data = space.data[kind]

        def on_learnable(path: tuple, bounds: Mapping, value: Any, kind=kind, data=data) -> None:
            dotted = to_param_path(kind, data, path)
            learnables[dotted], values[dotted] = bounds, value

        frozen = schema.freeze(data, schema.load_schema(kind), on_learnable=on_learnable)
        doc = Doc(kind=kind, data=data, frozen=frozen, locate=space.locate(kind))
        _check_learn_bounds(doc, ctx)
        module = KINDS[kind]
        spec = module.build(doc, ctx)
        module.check(spec, doc, ctx)
        specs[kind], docs[kind] = spec, doc
        if kind == "indicators":
            ctx.declare(spec.vocabulary())
    return specs, docs, (learnables, values)


def _check_learn_bounds(doc: Doc, ctx: BuildContext, node: Any = None, path: tuple = ()) -> None:
    """RB330: min ≤ value ≤ max, min < max and 0 < max_step ≤ max − min, for every learnable."""
    node = doc.data if node is None else node
    if isinstance(node, dict) and set(node) == {"value", "learn"}:
        value, maybe_bounds = _number(node["value"]), {k: _number(v) for k, v in node["learn"].items()}
        if value is None or None in maybe_bounds.values():
            return
        b = cast(dict[str, float], maybe_bounds)  # no bound is None: that returned just above
        problem = None
        if not b["min"] < b["max"]:
            problem = "min must be below max"
        elif not b["min"] <= value <= b["max"]:
            problem = (
                f"value {_brief(node['value'])} is outside min {_brief(node['learn']['min'])} … "
                f"max {_brief(node['learn']['max'])}"
            )
        elif not 0 < b["max_step"] <= b["max"] - b["min"]:
            problem = "max_step must be above 0 and at most max − min"
        if problem:
            ctx.report(doc, path, "RB330", problem)
        return
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        _check_learn_bounds(doc, ctx, child, path + (key,))
