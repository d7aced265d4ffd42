"""What changed between two rule-set versions: pure functions over their canonical content.

Both sides are compared as the plan of one profile sees them: the base files with that
profile's overrides and then the learned overlays applied (as engine/language/compiler.py
applies them). Each changed value is named by its parameter path (engine/language/paths.py,
the paths of overlays and ``plan.learnables``), old → new, the change in % for numbers and
durations, and who made it: the learner (with its reason and data window) when a learned
overlay of the newer side set it, else the author of the newer side. Components and other
list elements with an ``id`` added or removed are one change each. With two dry-runs of the
same snapshots, :func:`behaviour_diff` says what the change did: decisions that flip, trades
added, removed or exiting differently, and the metric deltas.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.language.durations import parse_duration
from engine.language.paths import PathError, resolve, set_value
from engine.versions.errors import VersionError
from engine.versions.model import HUMAN, VersionRecord, learner_author

CHANGED, ADDED, REMOVED = "changed", "added", "removed"


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a diff: what was asked (an id, ``live``, a folder), the version and its content."""

    label: str
    version: str
    canonical: Mapping[str, Any]
    author: str = HUMAN  # who made this version: its history entry's author; human for a folder
    record: VersionRecord | None = None


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    kind: str  # changed | added | removed
    old: Any
    new: Any
    change_pct: float | None
    author: str
    learner: str | None = None
    reason: str | None = None
    window: tuple[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "old": self.old,
            "new": self.new,
            "change_pct": self.change_pct,
            "author": self.author,
            "learner": self.learner,
            "reason": self.reason,
            "window": None if self.window is None else list(self.window),
        }


@dataclass(frozen=True, slots=True)
class VersionDiff:
    a: Side
    b: Side
    profile: str
    changes: tuple[Change, ...]
    overlays_added: tuple[Mapping[str, Any], ...] = ()
    overlays_removed: tuple[Mapping[str, Any], ...] = ()
    behaviour: Mapping[str, Any] | None = field(default=None)


# ------------------------------------------------------------------ effective documents


def effective(canonical: Mapping[str, Any], profile: str) -> tuple[dict[str, Any], dict[tuple, int]]:
    """The base documents as ``profile``'s plan sees them, and for each value a learned
    overlay set, that overlay's index: (kind, *raw path) → index in ``canonical['learned']``."""
    try:
        docs = copy.deepcopy(dict(canonical["base"]))
        overrides = canonical["profiles"].get(profile, {}).get("overrides", {})
        origin: dict[tuple, int] = {}
        for dotted, value in overrides.items():
            kind, path = resolve(docs, dotted)
            set_value(docs[kind], path, value)
        for index, learned in enumerate(canonical["learned"]):
            for dotted, value in learned["values"].items():
                kind, path = resolve(docs, dotted)
                set_value(docs[kind], path, value)
                origin[(kind, *path)] = index
    except (KeyError, TypeError, AttributeError, PathError) as error:
        raise VersionError(f"the content is not a rule set this rulebot reads ({error})", "RB833") from None
    return docs, origin


def default_profile(canonical: Mapping[str, Any]) -> str:
    try:
        return str(canonical["base"]["ruleset"]["default_profile"])
    except (KeyError, TypeError):
        return "paper"


# ------------------------------------------------------------------ walking two documents


def _learnable(node: Any) -> bool:
    return isinstance(node, dict) and "value" in node and "learn" in node


def _ids(node: Any) -> list[str] | None:
    if isinstance(node, list) and node and all(isinstance(i, dict) and "id" in i for i in node):
        return [str(i["id"]) for i in node]
    return None


def _walk(a: Any, b: Any, dotted: str, raw: tuple) -> Iterator[tuple[str, str, tuple, Any, Any]]:
    """(kind of change, dotted path, raw path, old, new) for every difference under a and b."""
    if a == b:
        return
    if _learnable(a) or _learnable(b):
        old = a["value"] if _learnable(a) else a
        new = b["value"] if _learnable(b) else b
        if old != new:
            yield CHANGED, dotted, raw, old, new
        yield from _walk(
            a.get("learn") if _learnable(a) else None,
            b.get("learn") if _learnable(b) else None,
            dotted + ".learn",
            raw + ("learn",),
        )
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            step = (*raw, key)
            if key not in b:
                yield REMOVED, f"{dotted}.{key}", step, a[key], None
            elif key not in a:
                yield ADDED, f"{dotted}.{key}", step, None, b[key]
            else:
                yield from _walk(a[key], b[key], f"{dotted}.{key}", step)
        return
    ids_a, ids_b = _ids(a), _ids(b)
    if ids_a is not None and ids_b is not None:
        by_a, by_b = dict(zip(ids_a, a, strict=True)), dict(zip(ids_b, b, strict=True))
        for key in [*ids_a, *(k for k in ids_b if k not in by_a)]:
            if key not in by_b:
                yield REMOVED, f"{dotted}.{key}", (*raw, ids_a.index(key)), by_a[key], None
            elif key not in by_a:
                yield ADDED, f"{dotted}.{key}", (*raw, ids_b.index(key)), None, by_b[key]
            else:
                yield from _walk(by_a[key], by_b[key], f"{dotted}.{key}", (*raw, ids_b.index(key)))
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(isinstance(i, dict) for i in a + b):
        for index, (item_a, item_b) in enumerate(zip(a, b, strict=True)):
            yield from _walk(item_a, item_b, f"{dotted}.{index}", (*raw, index))
        return
    if a is None and b is not None:
        yield ADDED, dotted, raw, None, b
    elif b is None and a is not None:
        yield REMOVED, dotted, raw, a, None
    else:
        yield CHANGED, dotted, raw, a, b


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            return None
    return None


def change_pct(old: Any, new: Any) -> float | None:
    """(new − old) / |old| in %, for numbers and durations; None otherwise or from 0."""
    a, b = _number(old), _number(new)
    if a is None or b is None or a == 0:
        return None
    pct = (b - a) / abs(a) * 100.0
    return round(pct, 6) if math.isfinite(pct) else None


# ------------------------------------------------------------------ the diff


def _overlay_summary(index: int, learned: Mapping[str, Any]) -> dict[str, Any]:
    provenance = learned.get("provenance", {})
    return {
        "index": index,
        "learner": learned.get("learner"),
        "created": learned.get("created"),
        "base_version": learned.get("base_version"),
        "values": len(learned.get("values", {})),
        "data_from": provenance.get("data_from"),
        "data_to": provenance.get("data_to"),
        "message": provenance.get("message", ""),
    }


def _reason(learned: Mapping[str, Any], dotted: str) -> str:
    provenance = learned.get("provenance", {})
    reasons = provenance.get("reasons")
    if isinstance(reasons, Mapping) and dotted in reasons:
        return str(reasons[dotted])
    return str(provenance.get("message", ""))


def _attribute(
    kind: str, dotted: str, raw: tuple, sides: tuple[Side, Side], origins: tuple[dict, dict]
) -> dict[str, Any]:
    """Who made the change at ``raw``: the learned overlay of B that set it, else B's author."""
    a, b = sides
    key = (raw[0], *raw[1:])
    found = origins[1].get(key)
    if found is not None:
        learned = b.canonical["learned"][found]
        provenance = learned.get("provenance", {})
        return {
            "author": learner_author(str(learned["learner"])),
            "learner": str(learned["learner"]),
            "reason": _reason(learned, dotted) or None,
            "window": (str(provenance.get("data_from", "")), str(provenance.get("data_to", ""))),
        }
    gone = origins[0].get(key)
    if gone is not None:
        learner = a.canonical["learned"][gone]["learner"]
        return {"author": b.author, "reason": f"learned value of {learner} no longer applied"}
    return {"author": b.author}


def diff_versions(a: Side, b: Side, profile: str | None = None) -> VersionDiff:
    """Every parameter change from ``a`` to ``b`` as ``profile``'s plan sees them (default:
    ``b``'s default profile), sorted by path; and the learned overlays added and removed."""
    name = profile or default_profile(b.canonical)
    docs_a, origin_a = effective(a.canonical, name)
    docs_b, origin_b = effective(b.canonical, name)
    changes = []
    for kind in sorted(set(docs_a) | set(docs_b)):
        for what, dotted, raw, old, new in _walk(docs_a.get(kind), docs_b.get(kind), kind, (kind,)):
            who = _attribute(kind, dotted, raw, (a, b), (origin_a, origin_b))
            changes.append(Change(dotted, what, old, new, change_pct(old, new) if what == CHANGED else None, **who))
    prof_a = {k: v for k, v in a.canonical["profiles"].get(name, {}).items() if k != "overrides"}
    prof_b = {k: v for k, v in b.canonical["profiles"].get(name, {}).items() if k != "overrides"}
    for what, dotted, _, old, new in _walk(prof_a or None, prof_b or None, f"profile.{name}", ()):
        changes.append(Change(dotted, what, old, new, change_pct(old, new) if what == CHANGED else None, b.author))
    learned_a, learned_b = list(a.canonical["learned"]), list(b.canonical["learned"])
    added = tuple(_overlay_summary(i, x) for i, x in enumerate(learned_b) if x not in learned_a)
    removed = tuple(_overlay_summary(i, x) for i, x in enumerate(learned_a) if x not in learned_b)
    return VersionDiff(a, b, name, tuple(sorted(changes, key=lambda c: c.path)), added, removed)


# ------------------------------------------------------------------ behaviour (two dry-runs)

_TRADE_KEY = ("symbol", "direction", "entry_ts")


def _label(decision: Mapping[str, Any] | None) -> str:
    if decision is None:
        return "NEUTRAL"
    if decision["outcome"] == "TRADE":
        return f"TRADE {decision['direction']}"
    return f"NO_TRADE {decision.get('first_blocker')}"


def _entry(label: str) -> bool:
    return label.startswith("TRADE")


def behaviour_diff(a: Mapping[str, Any], b: Mapping[str, Any], limit: int = 200) -> dict[str, Any]:
    """What two dry-run results (engine/replay/dryrun.py ``result_of``) of the same snapshots
    did differently: entry decisions that flip, trades added or removed, trades that exit
    differently, and each metric's delta (b − a)."""
    index_a = {(d["ts"], d["symbol"]): d for d in a["decisions"]}
    index_b = {(d["ts"], d["symbol"]): d for d in b["decisions"]}
    flips = []
    for key in sorted(set(index_a) | set(index_b)):
        la, lb = _label(index_a.get(key)), _label(index_b.get(key))
        if la != lb:
            change = "entry added" if _entry(lb) and not _entry(la) else "entry removed" if _entry(la) else "changed"
            if _entry(la) and _entry(lb):
                change = "direction changed"
            flips.append({"ts": key[0], "symbol": key[1], "a": la, "b": lb, "change": change})
    trades_a = {tuple(t[k] for k in _TRADE_KEY): t for t in a["trades"]}
    trades_b = {tuple(t[k] for k in _TRADE_KEY): t for t in b["trades"]}
    added = [_trade(t) for k, t in sorted(trades_b.items()) if k not in trades_a]
    removed = [_trade(t) for k, t in sorted(trades_a.items()) if k not in trades_b]
    exits = [
        {"a": _trade(trades_a[k]), "b": _trade(t)}
        for k, t in sorted(trades_b.items())
        if k in trades_a and (_exit(trades_a[k]) != _exit(t))
    ]
    metrics = {}
    for key, old in a["metrics"].items():
        new = b["metrics"].get(key)
        if _plain_number(old) and _plain_number(new):
            metrics[key] = {"a": old, "b": new, "delta": new - old}
    return {
        "cycles": [a["cycles"], b["cycles"]],
        "fingerprints": [a["fingerprint"], b["fingerprint"]],
        "decisions_flipped": len(flips),
        "flips": flips[:limit],
        "trades_added": added[:limit],
        "trades_removed": removed[:limit],
        "exits_changed": exits[:limit],
        "metrics": metrics,
    }


def _plain_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _exit(trade: Mapping[str, Any]) -> tuple:
    return (trade["exit_ts"], trade["exit_reason"], trade["exit_tier"])


def _trade(trade: Mapping[str, Any]) -> dict[str, Any]:
    keys: Sequence[str] = (
        "symbol",
        "direction",
        "entry_ts",
        "exit_ts",
        "entry_price",
        "exit_price",
        "exit_reason",
        "exit_tier",
        "net_pnl",
        "entry_version",
    )
    return {k: trade.get(k) for k in keys}
