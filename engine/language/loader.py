"""Reading a rule-set directory: which file is which kind, and is each one well-formed.

A rule set is a directory: one file per base kind at the top (``signals.yaml`` …),
paper/live overlays in ``profiles/``, learner-written overlays in ``learned/`` (applied
in file-name order). Each file says what it is with ``kind:``; the file name does not
matter at the top level. Everything found is reported at once: YAML problems, wrong or
duplicate kinds, missing kinds and schema violations.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.language import schema
from engine.language.diagnostics import Diagnostic, Location, Severity
from engine.language.yamlstrict import LoadedDocument, load_yaml_file

BASE_KINDS = ("ruleset", "signals", "gates", "requirements", "risk", "exits", "learning", "schedules", "venues")
#: Top-level kinds a rule set may leave out (a plan then holds the kind's empty spec).
OPTIONAL_KINDS = ("indicators",)
TOP_KINDS = BASE_KINDS + OPTIONAL_KINDS
#: The order the compiler builds the top-level kinds in: indicators add vocabulary names
#: the expressions of the later kinds read.
BUILD_ORDER = ("ruleset", "indicators", *BASE_KINDS[1:])
OVERLAY_DIRS = {"profiles": "profile", "learned": "learned"}
ALL_KINDS = TOP_KINDS + tuple(OVERLAY_DIRS.values())
MAX_FILES = 200

CODES = {
    "RB501": "rules directory does not exist or is not a directory",
    "RB502": "a required rule-file kind is missing",
    "RB503": "two files declare the same kind",
    "RB504": "unknown kind",
    "RB505": "file is not a mapping with a `kind:` key",
    "RB506": "file of this kind is in the wrong folder",
    "RB507": "YAML file in a folder rulebot does not read (ignored)",
    "RB508": "profile `name` does not match its file name",
    "RB509": "too many files in the rule set",
}


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One loaded, schema-valid rule file."""

    kind: str
    display: str
    document: LoadedDocument

    @property
    def data(self):
        return self.document.data

    def locate(self, path: tuple, key: bool = False) -> Location:
        return self.document.key_location_of(path) if key else self.document.location_of(path)


@dataclass
class LoadedRuleSet:
    root: str
    base: dict[str, SourceFile] = field(default_factory=dict)
    profiles: dict[str, SourceFile] = field(default_factory=dict)
    learned: list[SourceFile] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    seen_kinds: set[str] = field(default_factory=set)
    undetermined: int = 0
    # stems of files in profiles/ that did not load (their own findings say why): a check that
    # a profile exists must not add "no such profile" for them
    unloaded_profiles: set[str] = field(default_factory=set)
    # top-level kind → the data of its file that failed the schema (its findings say why):
    # the compiler reads the names an invalid indicators.yaml meant to declare
    rejected: dict[str, object] = field(default_factory=dict)

    def all_files(self) -> list[SourceFile]:
        return [*self.base.values(), *self.profiles.values(), *self.learned]


def _yaml_files(folder: Path) -> list[Path]:
    """Every entry named like a rule file, whatever it is: a directory, a broken symlink or a
    symlink loop named ``x.yaml`` is then reported by name (RB116) when it is read, instead
    of being skipped so that only a vague "no ruleset file" remains."""
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))


def _display(root: str, path: Path, base: Path) -> str:
    return os.path.join(root, os.path.relpath(path, base))


def load_ruleset(root: str | os.PathLike) -> LoadedRuleSet:
    """Read every rule file under ``root``; never raises for bad content."""
    root_text = os.fspath(root)
    base = Path(root_text)
    result = LoadedRuleSet(root=root_text)
    if not base.is_dir():
        result.diagnostics.append(
            Diagnostic(
                "RB501",
                f"'{root_text}' is not a directory of rule files",
                file=root_text,
                suggestion="pass the folder that holds ruleset.yaml, e.g. `rulebot validate rules/`",
            )
        )
        return result
    places: list[tuple[Path, str | None]] = [(p, None) for p in _yaml_files(base)]  # (file, overlay kind)
    for folder, kind in OVERLAY_DIRS.items():
        if (base / folder).is_dir():
            places += [(p, kind) for p in _yaml_files(base / folder)]
    _warn_unread(base, root_text, result)
    if len(places) > MAX_FILES:
        result.diagnostics.append(
            Diagnostic("RB509", f"{len(places)} rule files; at most {MAX_FILES} are read", file=root_text)
        )
        places = places[:MAX_FILES]
    for path, expected in places:
        _load_one(path, expected, _display(root_text, path, base), result)
        if expected == "profile" and path.stem not in result.profiles:
            result.unloaded_profiles.add(path.stem)
    _check_missing(result)
    return result


def _warn_unread(base: Path, root_text: str, result: LoadedRuleSet) -> None:
    for path in sorted(base.rglob("*.y*ml")):
        rel = path.relative_to(base)
        if len(rel.parts) == 1 or (len(rel.parts) == 2 and rel.parts[0] in OVERLAY_DIRS):
            continue
        result.diagnostics.append(
            Diagnostic(
                "RB507",
                "rulebot does not read YAML files in this folder; the file is ignored",
                file=_display(root_text, path, base),
                severity=Severity.WARNING,
                suggestion="move it to the rules folder, profiles/ or learned/",
            )
        )


def _load_one(path: Path, expected: str | None, display: str, result: LoadedRuleSet) -> None:
    document, problems = load_yaml_file(path, display_name=display)
    result.diagnostics.extend(problems)
    if document is None or any(p.is_error for p in problems):
        result.undetermined += 1
        return
    kind = _kind_of(document, display, result)
    if kind is None:
        result.undetermined += 1
        return
    result.seen_kinds.add(kind)
    if not _in_right_place(kind, expected, document, display, result):
        return
    source = SourceFile(kind, display, document)
    schema_problems = schema.validate(kind, document.data, source.locate)
    result.diagnostics.extend(schema_problems)
    if schema_problems:
        result.rejected.setdefault(kind, document.data)
        return
    _register(source, path, result)


def _kind_of(document: LoadedDocument, display: str, result: LoadedRuleSet) -> str | None:
    data = document.data
    if not isinstance(data, dict) or "kind" not in data:
        result.diagnostics.append(
            document.location_of(()).diagnostic(
                "RB505",
                "a rule file must be a mapping whose `kind:` says what it is",
                suggestion=f"start the file with `kind: <one of {', '.join(ALL_KINDS)}>`",
            )
        )
        return None
    kind = data["kind"]
    if kind not in ALL_KINDS:
        close = difflib.get_close_matches(str(kind), ALL_KINDS, n=1)
        result.diagnostics.append(
            document.location_of(("kind",)).diagnostic(
                "RB504",
                f"unknown kind {kind!r}; known kinds: {', '.join(ALL_KINDS)}",
                path="/kind",
                suggestion=f"did you mean '{close[0]}'?" if close else "",
            )
        )
        return None
    return kind


def _in_right_place(
    kind: str, expected: str | None, document: LoadedDocument, display: str, result: LoadedRuleSet
) -> bool:
    if expected == kind or (expected is None and kind in TOP_KINDS):
        return True
    folder = {v: k for k, v in OVERLAY_DIRS.items()}.get(kind)
    where = f"the {folder}/ folder" if folder else "the top of the rules folder"
    result.diagnostics.append(
        document.location_of(("kind",)).diagnostic(
            "RB506", f"a `{kind}` file belongs in {where}", path="/kind", suggestion=f"move it to {where}"
        )
    )
    return False


def _register(source: SourceFile, path: Path, result: LoadedRuleSet) -> None:
    if source.kind == "profile":
        name = source.data["name"]
        if name != path.stem:
            result.diagnostics.append(
                source.locate(("name",)).diagnostic(
                    "RB508",
                    f"profile name '{name}' does not match its file name '{path.name}'",
                    path="/name",
                    suggestion=f"rename the file to {name}.yaml",
                )
            )
            return
        result.profiles[name] = source
    elif source.kind == "learned":
        result.learned.append(source)
    elif source.kind in result.base:
        first = result.base[source.kind]
        result.diagnostics.append(
            source.locate(("kind",)).diagnostic(
                "RB503",
                f"a second `{source.kind}` file; the first is {first.display}",
                path="/kind",
                suggestion="merge the two files into one",
            )
        )
    else:
        result.base[source.kind] = source


def _check_missing(result: LoadedRuleSet) -> None:
    if result.undetermined:
        return  # an unreadable file may be the missing kind; report it once it reads
    for kind in BASE_KINDS:
        if kind not in result.seen_kinds:
            result.diagnostics.append(
                Diagnostic(
                    "RB502",
                    f"no `{kind}` file in the rule set",
                    file=result.root,
                    suggestion=f"add {kind}.yaml with `kind: {kind}` (see docs/reference/{kind}.md)",
                )
            )
