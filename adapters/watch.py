"""Watching the rules folder: one callback per finished edit, whatever way the editor saves.

Editors save in place, by writing a temporary file and renaming it over the old one, by
deleting and re-creating, or (deployments) by swapping a symlink. Each produces a burst of
file-system events, several of them on files that are not rules (``.swp``, ``4913``,
``file~``). :class:`RulesWatcher` ignores those for triggering, but not the rename that lands
the final file, and waits for ``debounce_s`` of quiet after the last relevant event before it
calls ``on_change`` once with the paths touched: by then the editor has finished writing.

A symlinked rules folder is watched at its real target, and the link itself through its
parent folder; a symlinked rule file at its target's folder. When a link changes (``ln -sfn``,
``mv -T``) the watches follow the new target before the callback runs.

The watching is watchdog's inotify observer (no polling of our own); where inotify cannot be
set up (no inotify, or the user's watch/instance limits reached) it falls back, with a
warning, to watchdog's polling observer, which notices changes within about a second.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

log = logging.getLogger(__name__)

DEFAULT_DEBOUNCE_S = 0.05
"""Quiet needed after the last event. An editor's save (in place, by rename, delete and
create) and a tool's change of several files (git checkout, cp, rsync, a link swap) land
within a few ms, so 50 ms coalesces each into one reload; a person saving files one by one
is seconds apart, beyond any debounce. It is waited on every reload, so it is kept small:
file written → new version live should stay under 300 ms (tests/benchmarks/bench_reload.py)."""

# Content events only: opening and reading (the compile reads every file) and attribute
# changes must not trigger, nor a folder's "modified" that a temp file's creation causes.
_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileClosedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


def is_editor_noise(path: str) -> bool:
    """True for the files editors write next to the real one: hidden files (``.#x``, ``.x.swp``),
    backups (``x~``), vim's swap files and its ``4913`` write test, emacs' ``#x#``."""
    name = os.path.basename(path)
    return (
        not name
        or name.startswith(".")
        or name.endswith("~")
        or name == "4913"
        or (name.startswith("#") and name.endswith("#"))
        or os.path.splitext(name)[1] in {".swp", ".swo", ".swx", ".swpx"}
    )


def _event_paths(event: FileSystemEvent) -> list[str]:
    paths = [os.fsdecode(event.src_path)]
    if event.dest_path:
        paths.append(os.fsdecode(event.dest_path))
    return paths


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class _Handler(FileSystemEventHandler):
    """Forwards relevant events of one watch to the watcher, as paths in the rules folder."""

    def __init__(self, watcher: RulesWatcher, translate: Callable[[str], str | None]):
        self._watcher = watcher
        self.translate = translate  # replaced when the links under the watched folder change

    def on_any_event(self, event: FileSystemEvent) -> None:
        if type(event) not in _EVENTS:
            return
        seen = [self.translate(p) for p in _event_paths(event) if not is_editor_noise(p)]
        relevant = frozenset(p for p in seen if p is not None)
        if relevant:
            self._watcher._touched(relevant)


class RulesWatcher:
    """Calls ``on_change(paths)`` once per finished edit of the rules folder ``rules_dir``.

    ``paths`` are the touched paths as seen through ``rules_dir`` (``rules/signals.yaml``,
    or ``rules`` itself for a swap of the folder's link). The callback runs on the watcher's
    own thread, one call at a time: it should be cheap (``Reloader.request``).
    """

    def __init__(
        self,
        rules_dir: str | os.PathLike[str],
        on_change: Callable[[frozenset[str]], None],
        *,
        debounce_s: float = DEFAULT_DEBOUNCE_S,
        polling: bool = False,
    ):
        self.rules_dir = os.path.abspath(os.fspath(rules_dir))
        if not os.path.isdir(self.rules_dir):
            raise NotADirectoryError(f"{self.rules_dir}: the rules folder to watch is not a folder")
        self.on_change = on_change
        self.debounce_s = debounce_s
        self._polling = polling
        self._cond = threading.Condition()
        self._pending: set[str] = set()
        self._last_event = 0.0
        self._stopping = False
        self._observer: BaseObserver | None = None
        self._watches: dict[tuple[str, bool], tuple[ObservedWatch, _Handler]] = {}
        self._thread: threading.Thread | None = None

    # -- the watches ---------------------------------------------------------------------

    def _wanted(self) -> dict[tuple[str, bool], Callable[[str], str | None]]:
        """The folders to watch now, (folder, recursive) → how its event paths map back to
        paths in the rules folder (None: not ours)."""
        real = os.path.realpath(self.rules_dir)
        wanted: dict[tuple[str, bool], Callable[[str], str | None]] = {}

        def in_real(path: str) -> str | None:
            if not _inside(path, real):
                return None
            return os.path.normpath(os.path.join(self.rules_dir, os.path.relpath(path, real)))

        wanted[(real, True)] = in_real
        links: dict[str, dict[str, str]] = {}  # folder outside the rules → {name in it: rules path}
        if os.path.islink(self.rules_dir):
            parent, name = os.path.split(self.rules_dir)
            links.setdefault(os.path.realpath(parent), {})[name] = self.rules_dir
        for link in _symlinked_files(real):
            target = os.path.realpath(link)
            if _inside(target, real):
                continue  # already under the recursive watch
            seen_as = os.path.normpath(os.path.join(self.rules_dir, os.path.relpath(link, real)))
            if os.path.isdir(target):  # a linked profiles/ or learned/: its files, through the link

                def in_linked_dir(path: str, target: str = target, seen_as: str = seen_as) -> str | None:
                    if not _inside(path, target):
                        return None
                    return os.path.normpath(os.path.join(seen_as, os.path.relpath(path, target)))

                wanted[(target, True)] = in_linked_dir
            folder, name = os.path.split(target)
            links.setdefault(folder, {})[name] = seen_as
        for folder, names in links.items():
            if _inside(folder, real):
                continue

            def in_links(path: str, folder: str = folder, names: dict[str, str] = names) -> str | None:
                head, name = os.path.split(path)
                return names.get(name) if head == folder else None

            wanted[(folder, False)] = in_links
        return wanted

    def _sync_watches(self) -> None:
        """Watch what ``_wanted`` says now: follows a swapped link to its new target."""
        assert self._observer is not None
        wanted = self._wanted()
        for key in [k for k in self._watches if k not in wanted]:
            self._observer.unschedule(self._watches.pop(key)[0])
        for key, translate in wanted.items():
            if key in self._watches:
                self._watches[key][1].translate = translate
                continue
            folder, recursive = key
            if not os.path.isdir(folder):
                log.warning("rules watch: %s is gone; its changes are not seen until a link names it again", folder)
                continue
            handler = _Handler(self, translate)
            watch = self._observer.schedule(handler, folder, recursive=recursive, event_filter=_EVENTS)
            self._watches[key] = (watch, handler)

    def _touched(self, paths: frozenset[str]) -> None:
        with self._cond:
            self._pending |= paths
            self._last_event = time.monotonic()
            self._cond.notify_all()

    # -- the debounce thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                # Wait for quiet: each new event moves the deadline on.
                while not self._stopping:
                    left = self._last_event + self.debounce_s - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._stopping:
                    return
                paths = frozenset(self._pending)
                self._pending.clear()
            try:
                self._sync_watches()
            except OSError as error:
                log.warning("rules watch: could not follow the rules folder's links: %s", error)
            try:
                self.on_change(paths)
            except Exception:
                log.exception("rules watch: the change callback failed for %s", sorted(paths))

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> RulesWatcher:
        """Start watching; events from now on are seen."""
        if self._thread is not None:
            raise RuntimeError("the rules watcher is already started")
        try:
            self._observe(PollingObserver() if self._polling else _inotify_observer())
        except OSError as error:
            if self._polling:
                raise
            log.warning("rules watch: inotify is unavailable (%s); falling back to polling the rules folder", error)
            self._observe(PollingObserver())
        self._thread = threading.Thread(target=self._run, name="rulebot-rules-watch", daemon=True)
        self._thread.start()
        return self

    def _observe(self, observer: BaseObserver) -> None:
        self._observer = observer
        self._watches.clear()
        self._sync_watches()
        observer.start()

    def stop(self) -> None:
        """Stop watching and join both threads; a change still in its debounce is dropped."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> RulesWatcher:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _inotify_observer() -> BaseObserver:
    """watchdog's inotify observer, or its polling one where this platform has no inotify."""
    try:
        from watchdog.observers.inotify import InotifyObserver
    except ImportError:  # not Linux
        from watchdog.observers import Observer

        return Observer()
    return InotifyObserver()


def _symlinked_files(folder: str) -> list[str]:
    """The symlinks among the rule files and folders (top level, profiles/, learned/)."""
    found = []
    for sub in (Path(folder), Path(folder) / "profiles", Path(folder) / "learned"):
        try:
            entries = list(os.scandir(sub))
        except OSError:
            continue
        found += [entry.path for entry in entries if entry.is_symlink() and not is_editor_noise(entry.path)]
    return found
