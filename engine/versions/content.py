"""A version's canonical content (engine/language/compiler.py ``canonical_form``: base kinds,
profiles and learned overlays with defaults filled) written back as a rules folder, so a
stored version can be compiled, replayed, diffed or rolled back after the files changed.

The files are plain block YAML that the strict loader reads back to the same data (strings
that could read as something else are quoted, no anchors), so
``compile_ruleset(folder).version`` is the stored id again. Learned files are named by their
position (``0001-<learner>.yaml``…): the loader applies them in file-name order."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from engine.versions.errors import VersionError

logger = logging.getLogger(__name__)

HEADER = "# written by rulebot from the version store: version {version}\n"


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # shared default objects are written out, never as anchors
        return True


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """Quoted where the strict loader would read the plain text as something else (``07:00``
    is a YAML 1.1 trap PyYAML writes plain)."""
    from engine.language.yamlstrict import _plain

    value, trap = _plain(data)
    style = "'" if trap is not None or value != data or not isinstance(value, str) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _text)


def to_yaml(data: Any) -> str:
    """``data`` as block YAML the strict loader reads back unchanged."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=200)


def learned_name(index: int, learned: Mapping[str, Any]) -> str:
    """The file name of the ``index``-th learned overlay (its order is its file-name order)."""
    return f"{index + 1:04d}-{learned.get('learner', 'learned')}.yaml"


def files_of(canonical: Mapping[str, Any]) -> dict[str, str]:
    """Relative path → YAML text of every file of the rule set ``canonical`` describes."""
    try:
        base, profiles, learned = canonical["base"], canonical["profiles"], canonical["learned"]
        files = {f"{kind}.yaml": to_yaml(data) for kind, data in sorted(base.items())}
        files.update({f"profiles/{name}.yaml": to_yaml(data) for name, data in sorted(profiles.items())})
        files.update({f"learned/{learned_name(i, data)}": to_yaml(data) for i, data in enumerate(learned)})
    except (KeyError, TypeError, AttributeError, yaml.YAMLError) as error:
        raise VersionError(f"the stored content is not a rule set ({type(error).__name__}: {error})", "RB833") from None
    return files


def materialise(canonical: Mapping[str, Any], folder: str | Path, *, check: bool = True) -> Path:
    """Write the rule set ``canonical`` describes into ``folder`` (created; must be empty or
    absent). With ``check``, compile it and refuse (RB833) unless its version is the one the
    content hashes to."""
    from engine.language.compiler import compile_ruleset, version_of

    root = Path(folder)
    if root.exists() and any(root.iterdir()):
        raise VersionError(f"{root} is not empty: a version is written into a new folder", "RB833")
    files = files_of(canonical)
    (root / "profiles").mkdir(parents=True, exist_ok=True)
    (root / "learned").mkdir(exist_ok=True)
    for rel, text in files.items():
        (root / rel).write_text(text, encoding="utf-8")
    if check:
        expected = version_of(canonical)
        result = compile_ruleset(str(root))
        if result.version != expected:
            problems = "; ".join(f"{d.file}:{d.line}: {d.code} {d.message}" for d in result.diagnostics[:3])
            raise VersionError(
                f"version {expected} written to {root} compiles to {result.version} ({problems or 'content differs'})",
                "RB833",
            )
    logger.debug("materialised %d files into %s", len(files), root)
    return root
