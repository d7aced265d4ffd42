"""Rolling back: making an earlier version live again by changing ``rules/learned/`` only.

Humans own the base files and profiles; no program rewrites them. So a rollback is possible
only when the target version's human files are the current ones (else it is refused, naming
the files that differ: RB832). The learned overlays are then brought to the target's: when
the target's overlays are the first of the current ones, the newer files are removed;
otherwise every current overlay is replaced by the target's. Each file is written whole
(engine/common/files.py), removals last. A running bot picks the change up through its file
watcher, like any edit; the caller records the new version entry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.common.files import whole_file
from engine.versions.content import learned_name, to_yaml
from engine.versions.errors import HumanFilesDiffer

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RollbackPlan:
    """What a rollback does in ``rules/learned/``: files removed and files written (name → text)."""

    remove: tuple[str, ...]
    write: tuple[tuple[str, str], ...]

    @property
    def empty(self) -> bool:
        return not self.remove and not self.write


def human_differences(target: Mapping[str, Any], current: Mapping[str, Any], names: Mapping[str, str]) -> list[str]:
    """The human files (base kinds, profiles) whose content differs between the two versions;
    ``names`` maps a kind or ``profiles/<name>`` to the current file's name."""
    found = []
    for kind in sorted(set(target["base"]) | set(current["base"])):
        if target["base"].get(kind) != current["base"].get(kind):
            found.append(names.get(kind, f"{kind}.yaml"))
    for name in sorted(set(target["profiles"]) | set(current["profiles"])):
        if target["profiles"].get(name) != current["profiles"].get(name):
            found.append(names.get(f"profiles/{name}", f"profiles/{name}.yaml"))
    return found


def plan_rollback(
    target: Mapping[str, Any],
    target_id: str,
    current: Mapping[str, Any],
    current_files: list[str],
    names: Mapping[str, str] | None = None,
) -> RollbackPlan:
    """What to change in ``learned/`` (whose files, in load order, are ``current_files``) to
    go from ``current`` to ``target``; HumanFilesDiffer (RB832) when a human file differs."""
    differ = human_differences(target, current, names or {})
    if differ:
        raise HumanFilesDiffer(
            f"cannot roll back to {target_id}: its human files differ from the current ones "
            f"({', '.join(differ)}); rollback changes rules/learned/ only and never rewrites a human file. "
            f"Restore those files by hand first (`rulebot diff {target_id} live` shows the differences)",
            differ,
        )
    wanted, present = list(target["learned"]), list(current["learned"])
    if len(present) != len(current_files):
        raise ValueError(f"{len(current_files)} learned files for {len(present)} learned overlays")
    if present[: len(wanted)] == wanted:  # the target is an earlier state: remove what came after
        return RollbackPlan(tuple(current_files[len(wanted) :]), ())
    writes = tuple((learned_name(i, data), to_yaml(data)) for i, data in enumerate(wanted))
    written = {name for name, _ in writes}
    return RollbackPlan(tuple(f for f in current_files if f not in written), writes)


def apply_rollback(plan: RollbackPlan, learned_dir: Path, header: str = "") -> None:
    """Write, then remove, in ``learned_dir``; each file whole."""
    learned_dir.mkdir(parents=True, exist_ok=True)
    for name, text in plan.write:
        with whole_file(learned_dir / name) as tmp:
            tmp.write_text(header + text, encoding="utf-8")
    for name in plan.remove:
        (learned_dir / name).unlink(missing_ok=True)
    logger.warning("rollback: wrote %d and removed %d files in %s", len(plan.write), len(plan.remove), learned_dir)
