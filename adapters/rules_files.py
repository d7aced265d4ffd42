"""The rules folder as the learners write it: the folder's lock, and learned files placed
whole, under a new name, never over another file.

**The lock.** ``rules_lock(folder)`` is an ``flock`` on the rules folder itself (no lock
file to clutter it or trigger the watcher): a learner writing holds it exclusively from
before its checks until its file is placed and verified; the bot's reload compile holds it
shared, so it never reads a learned file that its learner may still take back. The kernel
releases it when the process ends, however it ends. People editing rules take no lock:
a write notices their edit by the files' content (``fingerprint``) and steps back.

**A learned file** is written to a hidden temporary file in ``learned/`` (ignored by the
loader, which reads ``*.yaml``, and by the watcher, which ignores hidden files), synced,
then hard-linked to its final name — a link never replaces an existing file
(FileExistsError) — and the folder synced. ``remove`` deletes only the file this write
placed (same inode), so a person's file that took its name meanwhile is left alone.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.language.loader import OVERLAY_DIRS
from engine.versions.writeback import WriteFailed

log = logging.getLogger(__name__)

LEARNED = "learned"
_NUMBERED = re.compile(r"^(\d+)")
_SUFFIXES = (".yaml", ".yml")


@contextmanager
def rules_lock(folder: str | os.PathLike[str], *, shared: bool = False) -> Iterator[None]:
    """Hold the rules folder's lock for the block: exclusive for a writer, ``shared`` for a
    reader (the bot's reload). Waits for the other side. WriteFailed (RB529) when the folder
    cannot be opened or locked; a reader whose filesystem has no locks goes on unlocked,
    with a warning (a rules folder on such a mount still reloads)."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        if shared:
            yield
            return
        raise WriteFailed(f"cannot lock the rules folder {folder}: this platform has no fcntl file locks") from None
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as error:
        raise WriteFailed(f"cannot open the rules folder {folder} to lock it: {error.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        except OSError as error:
            if not shared or error.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                raise WriteFailed(f"cannot lock the rules folder {folder}: {error.strerror}") from None
            log.warning("the rules folder %s cannot be locked (%s): reloading without the lock", folder, error.strerror)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@dataclass(frozen=True, slots=True)
class Staged:
    path: Path


@dataclass(frozen=True, slots=True)
class Placed:
    path: Path
    device: int
    inode: int


def _rule_files(root: Path) -> Iterator[Path]:
    """The files the loader reads: ``*.yaml``/``*.yml`` at the top, in profiles/ and learned/."""
    for folder in (root, *(root / name for name in OVERLAY_DIRS)):
        try:
            entries = sorted(folder.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as error:
            raise WriteFailed(f"cannot read the rules folder {folder}: {error.strerror}") from None
        yield from (p for p in entries if p.suffix in _SUFFIXES)


class RulesFiles:
    """engine.versions.writeback.RulesFiles on a real folder."""

    def lock(self, rules_dir: str) -> AbstractContextManager[None]:
        return rules_lock(rules_dir)

    def fingerprint(self, rules_dir: str, exclude: str | None = None) -> dict[str, str]:
        root = Path(rules_dir)
        found = {}
        for path in _rule_files(root):
            name = path.relative_to(root).as_posix()
            if exclude is not None and name == f"{LEARNED}/{exclude}":
                continue
            try:
                found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as error:  # a directory named x.yaml, a broken link: its state is its error
                found[name] = f"unreadable: {error.strerror}"
        return found

    def next_name(self, rules_dir: str, learner: str) -> str:
        folder = Path(rules_dir) / LEARNED
        names = [p.name for p in _rule_files(Path(rules_dir)) if p.parent == folder]
        numbers = [int(m.group(1)) for m in map(_NUMBERED.match, names) if m]
        name = f"{max(numbers, default=0) + 1:04d}-{learner.replace(':', '-')}.yaml"  # sweep:<name>: no ':' in names
        if names and name <= max(names):
            raise WriteFailed(
                f"no new learned file name sorts after {LEARNED}/{max(names)} (learned files apply in file-name "
                f"order): rename the learned files 0001-…, 0002-…"
            )
        return name

    def stage(self, rules_dir: str, name: str, text: str) -> Staged:
        folder = Path(rules_dir) / LEARNED
        path = folder / f".{name}.{os.getpid()}.tmp"
        try:
            folder.mkdir(exist_ok=True)
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
        except OSError as error:
            path.unlink(missing_ok=True)
            raise WriteFailed(f"cannot write {path}: {error.strerror}") from None
        return Staged(path)

    def place(self, staged: Staged, rules_dir: str, name: str) -> Placed:
        target = Path(rules_dir) / LEARNED / name
        try:
            os.link(staged.path, target)  # FileExistsError: never over another file
        except FileExistsError:
            raise
        except OSError as error:
            raise WriteFailed(f"cannot place {target}: {error.strerror}") from None
        self.discard(staged)
        info = os.stat(target)
        _sync_folder(target.parent)
        return Placed(target, info.st_dev, info.st_ino)

    def discard(self, staged: Staged) -> None:
        try:
            staged.path.unlink(missing_ok=True)
        except OSError as error:
            log.warning("could not remove the temporary file %s: %s", staged.path, error.strerror)

    def remove(self, placed: Placed) -> None:
        try:
            info = os.stat(placed.path)
        except FileNotFoundError:
            return
        if (info.st_dev, info.st_ino) != (placed.device, placed.inode):
            log.warning("%s is no longer the file this learner wrote; left as it is", placed.path)
            return
        try:
            placed.path.unlink()
            _sync_folder(placed.path.parent)
        except OSError as error:
            raise WriteFailed(f"cannot remove {placed.path} again: {error.strerror}") from None


def _sync_folder(folder: Path) -> None:
    """Make a name placed in (or removed from) ``folder`` survive a crash."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a folder; the rename is still atomic
        pass
    finally:
        os.close(fd)
