"""The rules watcher gives exactly one callback per finished edit, whatever way it is saved.

Real files, a real (inotify) watcher. "Exactly one" is asserted without sleeping: after the
edit's callback, a second, distinct sentinel edit is made, and the next callback must be the
sentinel's alone (an extra callback for the edit would come first). Every wait is bounded by
a generous timeout that only catches a hang. The debounce is 0.5 s here (0.05 s by default):
each edit below is a handful of system calls, so a busy machine does not split one.
"""

from __future__ import annotations

import os
import queue
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from adapters.watch import RulesWatcher, is_editor_noise

TIMEOUT = 10.0
DEBOUNCE = 0.5


class Recorder:
    """The callbacks, with the content of the watched file at the moment of each."""

    def __init__(self, watched: Path):
        self.watched = watched
        self.calls: queue.Queue[tuple[frozenset[str], str | None]] = queue.Queue()

    def __call__(self, paths: frozenset[str]) -> None:
        try:
            content = self.watched.read_text()
        except OSError:
            content = None
        self.calls.put((paths, content))

    def next(self) -> tuple[frozenset[str], str | None]:
        try:
            return self.calls.get(timeout=TIMEOUT)
        except queue.Empty:
            pytest.fail(f"no callback within {TIMEOUT} s")


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    for sub in ("profiles", "learned"):
        (folder / sub).mkdir(parents=True)
    (folder / "signals.yaml").write_text("v: 1\n")
    (folder / "risk.yaml").write_text("r: 1\n")
    (folder / "profiles" / "paper.yaml").write_text("p: 1\n")
    return folder


@contextmanager
def watching(folder: Path, watched: Path) -> Iterator[Recorder]:
    recorder = Recorder(watched)
    with RulesWatcher(folder, recorder, debounce_s=DEBOUNCE):
        yield recorder


def assert_then_quiet(recorder: Recorder, sentinel: Path) -> None:
    """The next callback is the sentinel's alone: nothing else came after the edit's one."""
    sentinel.write_text("sentinel\n")
    paths, _ = recorder.next()
    assert paths == frozenset({str(sentinel)})


def test_in_place_write(rules: Path) -> None:
    target = rules / "signals.yaml"
    with watching(rules, target) as recorder:
        with open(target, "w") as f:  # truncate, then write in two pieces
            f.write("v: ")
            f.flush()
            f.write("2\n")
        paths, content = recorder.next()
        assert paths == {str(target)}
        assert content == "v: 2\n"
        assert_then_quiet(recorder, rules / "sentinel.txt")


def test_write_temp_then_rename(rules: Path) -> None:
    target = rules / "signals.yaml"
    with watching(rules, target) as recorder:
        temp = rules / ".signals.yaml.tmp123"
        temp.write_text("v: 3\n")
        os.replace(temp, target)
        paths, content = recorder.next()
        assert paths == {str(target)}  # the temp file never triggers; its rename does
        assert content == "v: 3\n"
        assert_then_quiet(recorder, rules / "sentinel.txt")


def test_delete_and_create(rules: Path) -> None:
    target = rules / "profiles" / "paper.yaml"
    with watching(rules, target) as recorder:
        target.unlink()
        target.write_text("p: 2\n")
        paths, content = recorder.next()
        assert paths == {str(target)}
        assert content == "p: 2\n"
        assert_then_quiet(recorder, rules / "sentinel.txt")


def test_vim_swap_file_dance(rules: Path) -> None:
    """vim: write-test file 4913, swap file, original renamed to a backup, new file written,
    backup removed: one callback, with the new content."""
    target = rules / "signals.yaml"
    with watching(rules, target) as recorder:
        swap = rules / ".signals.yaml.swp"
        swap.write_bytes(b"\0" * 64)
        probe = rules / "4913"
        probe.write_text("")
        probe.unlink()
        backup = rules / "signals.yaml~"
        os.rename(target, backup)
        target.write_text("v: 4\n")
        backup.unlink()
        swap.unlink()
        paths, content = recorder.next()
        assert paths == {str(target)}
        assert content == "v: 4\n"
        assert_then_quiet(recorder, rules / "sentinel.txt")


def test_editor_noise_alone_triggers_nothing(rules: Path) -> None:
    target = rules / "signals.yaml"
    with watching(rules, target) as recorder:
        (rules / ".#signals.yaml").write_text("lock")
        (rules / "#signals.yaml#").write_text("autosave")
        (rules / "signals.yaml.swp").write_text("swap")
        (rules / "learned" / "x.yaml~").write_text("backup")
        assert_then_quiet(recorder, rules / "sentinel.txt")


def test_multi_file_change_within_the_window_is_one_callback(rules: Path) -> None:
    target = rules / "risk.yaml"
    with watching(rules, target) as recorder:
        (rules / "signals.yaml").write_text("v: 5\n")
        (rules / "learned" / "step.yaml").write_text("l: 1\n")
        target.write_text("r: 5\n")
        paths, content = recorder.next()
        assert paths == {str(rules / "signals.yaml"), str(rules / "learned" / "step.yaml"), str(target)}
        assert content == "r: 5\n"
        assert_then_quiet(recorder, rules / "sentinel.txt")


def release(tmp_path: Path, name: str, value: int) -> Path:
    folder = tmp_path / "releases" / name
    shutil.copytree(tmp_path / "rules", folder)
    (folder / "signals.yaml").write_text(f"v: {value}\n")
    return folder


@pytest.mark.parametrize("how", ["ln -sfn", "mv -T"])
def test_symlink_swap_of_the_rules_folder(rules: Path, tmp_path: Path, how: str) -> None:
    """A deployment swaps the link `live` → releases/b; edits after it are seen in the new
    target, not in the old one."""
    a, b = release(tmp_path, "a", 10), release(tmp_path, "b", 20)
    live = tmp_path / "live"
    live.symlink_to(a)
    with watching(live, live / "signals.yaml") as recorder:
        if how == "ln -sfn":  # not atomic: unlink, then a new link
            live.unlink()
            live.symlink_to(b)
        else:  # atomic: a new link renamed over the old one
            (tmp_path / "live.new").symlink_to(b)
            os.replace(tmp_path / "live.new", live)
        paths, content = recorder.next()
        assert paths == {str(live)}
        assert content == "v: 20\n"
        (a / "signals.yaml").write_text("v: 11\n")  # the old target no longer counts...
        (b / "signals.yaml").write_text("v: 21\n")  # ...the new one does
        paths, content = recorder.next()
        assert str(live / "signals.yaml") in paths
        assert content == "v: 21\n"
        assert_then_quiet(recorder, live / "sentinel.txt")


def test_symlink_swap_of_one_file(rules: Path, tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "signals-1.yaml").write_text("v: 1\n")
    (versions / "signals-2.yaml").write_text("v: 2\n")
    target = rules / "signals.yaml"
    target.unlink()
    target.symlink_to(versions / "signals-1.yaml")
    with watching(rules, target) as recorder:
        link = rules / ".signals.yaml.new"
        link.symlink_to(versions / "signals-2.yaml")
        os.replace(link, target)
        paths, content = recorder.next()
        assert paths == {str(target)}
        assert content == "v: 2\n"
        (versions / "signals-1.yaml").write_text("v: 9\n")  # no longer linked: not ours
        (versions / "signals-2.yaml").write_text("v: 3\n")  # the linked file, edited where it lives
        paths, content = recorder.next()
        assert paths == {str(target)}
        assert content == "v: 3\n"
        assert_then_quiet(recorder, rules / "sentinel.txt")


def test_stop_joins_and_a_second_start_is_refused(rules: Path) -> None:
    watcher = RulesWatcher(rules, lambda paths: None).start()
    with pytest.raises(RuntimeError, match="already started"):
        watcher.start()
    watcher.stop()
    assert watcher._thread is not None and not watcher._thread.is_alive()
    assert watcher._observer is not None and not watcher._observer.is_alive()


def test_polling_fallback_sees_an_edit(rules: Path) -> None:
    target = rules / "signals.yaml"
    recorder = Recorder(target)
    with RulesWatcher(rules, recorder, debounce_s=DEBOUNCE, polling=True):
        target.write_text("v: 7\n")
        paths, content = recorder.next()
        assert paths == {str(target)}
        assert content == "v: 7\n"


def test_a_missing_folder_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError, match="nothere: the rules folder to watch is not a folder"):
        RulesWatcher(tmp_path / "nothere", lambda paths: None)


@pytest.mark.parametrize(
    ("name", "noise"),
    [
        ("signals.yaml", False),
        ("4913", True),
        (".signals.yaml.swp", True),
        ("signals.yaml.swp", True),
        ("signals.yaml~", True),
        (".#signals.yaml", True),
        ("#signals.yaml#", True),
        (".hidden", True),
        ("learned", False),
    ],
)
def test_editor_noise_names(name: str, noise: bool) -> None:
    assert is_editor_noise(f"/r/{name}") is noise
