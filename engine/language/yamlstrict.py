"""Strict YAML loading for rule files: plain data plus a location for every value.

Why not ``yaml.safe_load``: it silently reads ``no`` as False, ``010`` as 8, ``1e-3`` as
a string and dates as datetimes, keeps the last of duplicate keys and expands aliases
(billion laughs). A rule must mean what it looks like, so the data is built here from
PyYAML's pure-Python parse events (no composer: it recurses and expands aliases) and
every trap becomes a :class:`Diagnostic` instead of a guess.

Plain (unquoted) scalars follow the YAML 1.2 core schema, made stricter:
``~``/``null``/``Null``/``NULL``/empty -> None; ``true``/``True``/``TRUE`` (and false) ->
bool; decimal ints (``-12``, ``+3``); floats incl. scientific notation (``.5``, ``1e-3``).
Dates and timestamps stay strings, never datetimes (RB107 is reserved for them and never
emitted); quoted and block scalars are always strings. Rejected, keeping the raw text as
the value: ``yes/no/on/off/y/n`` in any case (RB105); leading zeros, ``0o``/``0x``/``0b``,
sexagesimal ``1:30`` and digit underscores ``1_000`` (RB106: YAML 1.1 and 1.2 disagree);
``.inf``, ``.nan`` and out-of-range numbers such as ``1e999`` (RB108).

Contract: an empty document (empty file, comments only, ``~``) is data None with no
diagnostic (RB115 reserved, never emitted); a non-mapping top level is not checked here.
The document is None only when it cannot be built (syntax, encoding, size, node or depth
limit); otherwise it comes back with every problem found, so always check for errors.
Of duplicate keys the first wins; a second document is reported and ignored.
"""

from __future__ import annotations

import codecs
import math
import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import yaml
from yaml import events as ev

from engine.language.diagnostics import Diagnostic, Location, clip

MAX_FILE_BYTES = 200_000
MAX_NODES = 20_000
MAX_DEPTH = 64

CODES: dict[str, str] = {
    "RB101": "YAML syntax error",
    "RB102": "duplicate mapping key (the first one is used)",
    "RB103": "YAML anchor (&a) or alias (*a); write the value out instead",
    "RB104": "tag other than !!str/!!int/!!float/!!bool/!!null/!!map/!!seq, or a value not matching its tag",
    "RB105": "unquoted yes/no/on/off/y/n (YAML 1.1 boolean trap)",
    "RB106": "ambiguous number: leading zero, 0o/0x/0b prefix, sexagesimal (1:30) or digit underscores",
    "RB108": "non-finite or out-of-range number (.inf, .nan, 1e999)",
    "RB109": "mapping key that is not a string",
    "RB110": "file larger than the size limit",
    "RB111": "too many YAML nodes",
    "RB112": f"nesting deeper than {MAX_DEPTH} levels",
    "RB113": "not valid UTF-8 text (an invalid byte, or an escape such as `\\ud800` that is not a character), "
    "or contains control characters",
    "RB114": "more than one YAML document in a file",
    "RB116": "file cannot be read",
}

_CORE = "tag:yaml.org,2002:"
_KNOWN = {
    "": None,
    "~": None,
    "null": None,
    "Null": None,
    "NULL": None,
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}
_TRAP_BOOL = {"yes", "no", "on", "off", "y", "n"}
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_NONFINITE = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_AMBIGUOUS = re.compile(
    r"[-+]?(?:0[0-9_]+(?:[eE][-+]?[0-9]+)?|0[oO][0-7_]+|0[xX][0-9a-fA-F_]+|0[bB][01_]+"
    r"|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)"
)
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE  # exactly what PyYAML rejects
_SURROGATE = re.compile("[\ud800-\udfff]")  # what a quoted "\ud800" escape can produce; not text
_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # what PyYAML counts as a new line
_TRAPS = {
    "RB105": ("`{s}` is a YAML 1.1 boolean", "write true/false, or quote it if you meant the text"),
    "RB106": (
        "`{s}` is an ambiguous number (octal, hex, sexagesimal or underscores)",
        "write a plain decimal (10, not 010 or 1_0), or quote it if you meant the text",
    ),
    "RB108": ("`{s}` is not a finite number in range", "use a finite decimal number"),
}
_TOKEN_NAMES = (
    ("<block end>", "the end of the indented block"),
    ("'?'", "a mapping key"),
    ("<block mapping start>", "a mapping"),
    ("<block sequence start>", "a list"),
    ("<stream end>", "the end of the file"),
    ("<document start>", "'---'"),
    ("<scalar>", "a value"),
)  # PyYAML token ids -> words
_SYNTAX_HINTS = (
    ("'\\t'", "indent with spaces; YAML does not allow tabs here"),
    ("<block end>", "check this line's indentation against the lines above"),
    ("mapping values are not allowed", "quote a value that contains ': ', or fix the indentation"),
    ("expected ':'", "add the missing ':' after the key, or quote the text"),
    ("expected ',' or", "close the bracket, or quote values containing , [ ] { }"),
    ("end of stream", "close the open quote or bracket"),
    ("cannot start any token", "quote values that start with @, ` or %"),
)


def pointer(path: Sequence) -> str:
    """JSON-pointer-style text for a path (``~``->``~0``, ``/``->``~1``); root is ``""``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """Plain data plus where each value (``locations``) and mapping key came from."""

    file: str
    data: Any
    locations: Mapping[tuple, Location]
    key_locations: Mapping[tuple, Location]

    def location_of(self, path: Sequence) -> Location:
        """Location of the value at ``path``, else of its nearest known ancestor."""
        try:
            p = () if isinstance(path, (str, bytes)) else tuple(path)
        except TypeError:
            p = ()
        for n in range(len(p), 0, -1):
            try:
                loc = self.locations.get(p[:n])
            except TypeError:  # unhashable element: no such value
                continue
            if loc is not None:
                return loc
        return self.locations.get((), Location(self.file, 1, 1))

    def key_location_of(self, path: Sequence) -> Location:
        """Location of the key of the entry at ``path`` (for "unknown key" errors)."""
        try:
            loc = self.key_locations.get(tuple(path))
        except TypeError:
            loc = None
        return loc if loc is not None else self.location_of(path)


class _TooDeep(yaml.MarkedYAMLError):
    """Flow nesting over MAX_DEPTH, found by the scanner."""


class _Events(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's pure-Python reader, scanner and parser only (libyaml differs in error
    texts). Flow nesting is capped in the scanner: its look-ahead over a run of ``[``
    is quadratic in depth, so ``[[[[...`` must stop before it, not after."""

    def __init__(self, text: str):
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)

    def fetch_flow_collection_start(self, token_class: type) -> None:
        if self.flow_level >= MAX_DEPTH:
            raise _TooDeep(problem_mark=self.get_mark())
        super().fetch_flow_collection_start(token_class)


def _plain(s: str) -> tuple[Any, str | None]:
    """Value of a plain scalar and the trap code, if any (then the value is ``s``)."""
    if s in _KNOWN:
        return _KNOWN[s], None
    if s.lower() in _TRAP_BOOL:
        return s, "RB105"
    underscored = "_" in s and s.lstrip("+-")[:1] != "_" and _FLOAT.fullmatch(s.replace("_", ""))
    if underscored or _AMBIGUOUS.fullmatch(s):
        return s, "RB106"
    if _NONFINITE.fullmatch(s):
        return s, "RB108"
    try:
        if _INT.fullmatch(s):
            return int(s), None
        if _FLOAT.fullmatch(s):
            f = float(s)
            return (f, None) if math.isfinite(f) else (s, "RB108")
    except ValueError:  # more digits than int() accepts
        return s, "RB108"
    return s, None


def _short(s: str) -> str:
    return clip(s, 40)


def _line_col(prefix: str) -> tuple[int, int]:
    """1-based line/col just after ``prefix``, counting line breaks as PyYAML does."""
    lines = _BREAK.split(prefix)
    return len(lines), len(lines[-1]) + 1


class _Frame:
    """An open mapping or sequence. ``pending`` is None while a mapping waits for a
    key, else (key, keep) for the coming value; ``keep`` False = detached, dropped."""

    __slots__ = ("box", "keep", "path", "pending", "seen")

    def __init__(self, box: dict | list, path: tuple, keep: bool):
        self.box, self.path, self.keep = box, path, keep
        self.pending: tuple | None = None
        self.seen: dict[str, Location] = {}


class _Builder:
    """Turns parse events into plain data and locations, iteratively (no recursion)."""

    def __init__(self, file: str, max_nodes: int):
        self.file, self.max_nodes = file, max_nodes
        self.diags: list[Diagnostic] = []
        self.locs: dict[tuple, Location] = {}
        self.klocs: dict[tuple, Location] = {}
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.nodes = self.docs = 0

    def loc(self, mark: Any) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def err(self, code: str, mark: Any, path: tuple, message: str, hint: str) -> None:
        self.diags.append(self.loc(mark).diagnostic(code, message, path=pointer(path), suggestion=hint))

    def run(self, events: _Events) -> bool:
        """Consume the stream; False when the document cannot be built."""
        while not events.check_event(ev.StreamEndEvent):
            event = events.get_event()
            if isinstance(event, ev.DocumentStartEvent):
                self.docs += 1
                if self.docs > 1:
                    self.err(
                        "RB114",
                        event.start_mark,
                        (),
                        "a second YAML document starts here",
                        "keep one document per file: remove the extra '---' or split the file",
                    )
                    return True
            elif isinstance(event, (ev.MappingEndEvent, ev.SequenceEndEvent)):
                self.stack.pop()
            elif isinstance(event, ev.NodeEvent) and not self.node(event):
                return False
        return True

    def node(self, event: ev.NodeEvent) -> bool:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            self.err(
                "RB111",
                event.start_mark,
                self.path(),
                f"more than {self.max_nodes} YAML nodes",
                "split the file into smaller ones",
            )
            return False
        parent = self.stack[-1] if self.stack else None
        path: tuple
        if parent is None:
            path, keep = (), True
        elif isinstance(parent.box, list):
            path, keep = parent.path + (len(parent.box),), parent.keep
        elif parent.pending is None:
            return self.key(parent, event)
        else:
            (key, keep), parent.pending = parent.pending, None
            path = parent.path if key is None else parent.path + (key,)
        self.anchor(event, path)
        value: Any  # a fresh container, or a resolved scalar (None for an alias)
        if isinstance(event, ev.CollectionStartEvent):
            value = self.collection(event, path)
        else:
            value = self.scalar(event, path) if isinstance(event, ev.ScalarEvent) else None
        if keep:
            self.locs[path] = self.loc(event.start_mark)
        if parent is None:
            self.root = value
        elif isinstance(parent.box, list):
            parent.box.append(value)
        elif keep:
            parent.box[path[-1]] = value
        return self.push(value, path, keep, event.start_mark) if isinstance(value, (dict, list)) else True

    def path(self) -> tuple:
        return self.stack[-1].path if self.stack else ()

    def push(self, box: dict | list, path: tuple, keep: bool, mark: Any) -> bool:
        if len(self.stack) >= MAX_DEPTH:
            self.too_deep(mark)
            return False
        self.stack.append(_Frame(box, path, keep))
        return True

    def too_deep(self, mark: Any) -> None:
        self.err("RB112", mark, self.path(), f"nesting deeper than {MAX_DEPTH} levels", "flatten the structure")

    def key(self, parent: _Frame, event: ev.NodeEvent) -> bool:
        self.anchor(event, parent.path)
        key = self.scalar(event, parent.path + (event.value,)) if isinstance(event, ev.ScalarEvent) else None
        if not isinstance(key, str):
            return self.bad_key(parent, event)
        path, mark = parent.path + (key,), event.start_mark
        first = parent.seen.get(key)
        if first is not None:
            self.err(
                "RB102",
                mark,
                path,
                f"duplicate key `{_short(key)}` (first defined at line {first.line})",
                "remove or rename one of them; only the first is used",
            )
            parent.pending = (key, False)
            return True
        parent.seen[key] = self.loc(mark)
        parent.pending = (key, parent.keep)
        if parent.keep:
            self.klocs[path] = self.loc(mark)
        return True

    def bad_key(self, parent: _Frame, event: ev.NodeEvent) -> bool:
        """RB109; the entry's value is then built detached and dropped."""
        if isinstance(event, ev.ScalarEvent):
            shown = f"key `{_short(event.value)}`" if event.value else "an empty key"
        else:
            shown = "an alias key" if isinstance(event, ev.AliasEvent) else "a complex key (mapping or list)"
        self.err(
            "RB109",
            event.start_mark,
            parent.path,
            f"{shown} is not a string",
            'mapping keys must be strings: quote it, e.g. "1": ...',
        )
        parent.pending = (None, False)
        if isinstance(event, ev.CollectionStartEvent):
            return self.push(self.collection(event, parent.path), parent.path, False, event.start_mark)
        return True

    def anchor(self, event: ev.NodeEvent, path: tuple) -> None:
        hint = "write the value out in full; anchors and aliases are not allowed in rules"
        if isinstance(event, ev.AliasEvent):
            self.err("RB103", event.start_mark, path, f"alias `*{event.anchor}` is not allowed", hint)
        elif event.anchor is not None:
            self.err("RB103", event.start_mark, path, f"anchor `&{event.anchor}` is not allowed", hint)

    def bad_tag(self, tag: str, mark: Any, path: tuple) -> None:
        shown = "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag
        self.err(
            "RB104",
            mark,
            path,
            f"tag `{_short(shown)}` is not allowed here",
            "remove the tag; only !!str, !!int, !!float, !!bool, !!null, !!map, !!seq are allowed",
        )

    def collection(self, event: ev.CollectionStartEvent, path: tuple) -> dict | list:
        kind = "map" if isinstance(event, ev.MappingStartEvent) else "seq"
        if event.tag not in (None, _CORE + kind):
            self.bad_tag(event.tag, event.start_mark, path)
        return {} if kind == "map" else []

    def scalar(self, event: ev.ScalarEvent, path: tuple) -> Any:
        """Resolve a scalar (see the module docstring), reporting traps and tag misuse."""
        tag, s, mark = event.tag, self.text(event.value, event.start_mark, path), event.start_mark
        name = None if tag is None else tag[len(_CORE) :] if tag.startswith(_CORE) else "!"
        if tag is not None and name not in (None, "str", "int", "float", "bool", "null"):  # untagged: name is None
            self.bad_tag(tag, mark, path)
            return s
        if name == "str" or (name is None and event.style is not None):  # quoted or block
            return s
        value, code = _plain(s)
        if code is not None:
            message, hint = _TRAPS[code]
            self.err(code, mark, path, message.format(s=_short(s)), hint)
            return value
        fits = {
            None: True,
            "null": value is None,
            "bool": isinstance(value, bool),
            "int": type(value) is int,
            "float": type(value) in (int, float),
        }[name]
        if not fits:
            self.err("RB104", mark, path, f"`{_short(s)}` is not a valid !!{name}", "fix the value or remove the tag")
            return s
        return float(value) if name == "float" else value

    def text(self, s: str, mark: Any, path: tuple) -> str:
        """``s`` without lone surrogates (RB113 for each scalar that had one).

        A double-quoted ``"\\ud800"`` escape yields a code point that is not a character: it
        cannot be written as UTF-8, so hashing the rule set or printing a message quoting it
        would fail far from here. It becomes U+FFFD after the error is recorded."""
        found = _SURROGATE.search(s)
        if found is None:
            return s
        self.err(
            "RB113",
            mark,
            path,
            f"escape for U+{ord(found.group()):04X} is a UTF-16 surrogate, not a character",
            "write the character itself, or escape characters above U+FFFF as \\U0001F600 (8 hex digits)",
        )
        return _SURROGATE.sub("\ufffd", s)

    def document(self) -> LoadedDocument:
        self.locs.setdefault((), Location(self.file, 1, 1))
        return LoadedDocument(self.file, self.root, MappingProxyType(self.locs), MappingProxyType(self.klocs))


def _syntax(exc: yaml.MarkedYAMLError, file: str) -> Diagnostic:
    """RB101 from a PyYAML scanner/parser error, at its problem mark."""
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    found, problem = f"{exc.problem} {exc.context}", exc.problem or exc.context or "invalid YAML"
    for token, words in _TOKEN_NAMES:
        problem = problem.replace(token, words)
    message = f"YAML syntax error: {problem}"
    if exc.problem and exc.context:
        where = exc.context_mark
        at = f" at line {where.line + 1}, col {where.column + 1}" if where else ""
        message += f" ({exc.context}{at})"
    hint = next((h for needle, h in _SYNTAX_HINTS if needle in found), "check indentation and quoting here")
    return Diagnostic("RB101", message, file, line, col, "", hint)


def _bad_text(text: str, file: str) -> Diagnostic | None:
    """RB113 at the first character PyYAML refuses (NUL, most control characters)."""
    match = _NON_PRINTABLE.search(text)
    if match is None:
        return None
    line, col = _line_col(text[: match.start()])
    more = sum(1 for _ in _NON_PRINTABLE.finditer(text, match.end()))
    extra = f" (and {more} more)" if more else ""
    return Diagnostic(
        "RB113",
        f"control character U+{ord(match.group()):04X} is not allowed{extra}",
        file,
        line,
        col,
        "",
        "remove it; rule files are UTF-8 text",
    )


def _decode(raw: bytes, file: str) -> str | Diagnostic:
    """UTF-8 text (a BOM is dropped), or RB113 at the first invalid byte."""
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(raw[: exc.start].decode("utf-8", "replace"))
        message = f"not valid UTF-8 (byte 0x{raw[exc.start]:02X} at offset {exc.start})"
        return Diagnostic("RB113", message, file, line, col, "", "save the file as UTF-8")


def load_yaml_text(
    text: str, file: str, *, max_nodes: int = MAX_NODES
) -> tuple[LoadedDocument | None, list[Diagnostic]]:
    """Load one strict YAML document (see the module docstring); never raises.
    No size cap here: untrusted files go through :func:`load_yaml_file`."""
    if isinstance(text, (bytes, bytearray)):
        decoded = _decode(bytes(text), file)
        if isinstance(decoded, Diagnostic):
            return None, [decoded]
        text = decoded
    text = text.removeprefix("\ufeff")
    bad = _bad_text(text, file)
    if bad is not None:
        return None, [bad]
    builder, ok = _Builder(file, max_nodes), False
    try:
        ok = builder.run(_Events(text))
    except _TooDeep as exc:
        builder.too_deep(exc.problem_mark)
    except yaml.MarkedYAMLError as exc:
        builder.diags.append(_syntax(exc, file))
    except yaml.YAMLError as exc:  # reader errors; the pre-scan catches them first
        builder.diags.append(
            Diagnostic(
                "RB113",
                f"unreadable YAML text: {exc}",
                file,
                1,
                1,
                "",
                "remove control characters; rule files are UTF-8 text",
            )
        )
    diags = sorted(builder.diags, key=Diagnostic.sort_key)
    return (builder.document() if ok else None), diags


def _unreadable(path: str | os.PathLike, exc: Exception) -> str:
    """Why ``path`` cannot be opened, in words; a symlink whose target is gone says so."""
    if isinstance(exc, FileNotFoundError) and os.path.islink(path):
        return "broken symbolic link (its target does not exist)"
    return getattr(exc, "strerror", None) or str(exc)


def load_yaml_file(
    path: str | os.PathLike,
    *,
    display_name: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_nodes: int = MAX_NODES,
) -> tuple[LoadedDocument | None, list[Diagnostic]]:
    """Read and load a rule file; never raises. The size cap applies before parsing.
    File-level problems (RB110, RB116) are reported at line 1, col 1."""
    name = display_name if display_name is not None else os.fsdecode(path)
    top = Location(name, 1, 1)
    hint = "check that the path exists, is a regular file and is readable"
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):  # directories, FIFOs (would block), devices
            what = "it is a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            return None, [top.diagnostic("RB116", f"cannot read file: {what}", suggestion=hint)]
        with open(path, "rb") as fh:
            raw = b"" if info.st_size > max_bytes else fh.read(max_bytes + 1)
    except (OSError, ValueError) as exc:
        reason = _unreadable(path, exc)
        return None, [top.diagnostic("RB116", f"cannot read file: {reason}", suggestion=hint)]
    size = max(info.st_size, len(raw))
    if size > max_bytes:
        return None, [
            top.diagnostic(
                "RB110",
                f"file is {size:,} bytes; the limit is {max_bytes:,}",
                suggestion="split the rules into smaller files",
            )
        ]
    text = _decode(raw, name)
    if isinstance(text, Diagnostic):
        return None, [text]
    return load_yaml_text(text, name, max_nodes=max_nodes)
