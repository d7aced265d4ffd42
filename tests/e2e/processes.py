"""The real ``rulebot`` CLI as a child process for the end-to-end tests: an environment
without any venue keys of the machine's (only those a test gives), a copy of the rules
whose bot cycle runs every second, waiting on files with a bounded poll, and the scan for
the canary keys in everything a run wrote or printed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from tests.e2e.fake_market import CANARIES
from tests.lifecycle.processes import HUNG, ROOT, child_env

KEY_PREFIXES = ("KRAKEN_FUTURES_", "BLOFIN_", "COINGLASS_", "EXCHANGE")


def env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child's environment: this checkout, no venue variable of the machine's, ``extra``."""
    base = {k: v for k, v in child_env().items() if not k.startswith(KEY_PREFIXES)}
    return {**base, **(extra or {})}


def command(args: Iterable[str]) -> list[str]:
    return [sys.executable, "-m", "engine.cli", *args]


def rulebot(
    args: Iterable[str], extra: Mapping[str, str] | None = None, timeout: float = HUNG
) -> subprocess.CompletedProcess[str]:
    """``rulebot ARGS`` to its end, its output captured."""
    return subprocess.run(command(args), cwd=ROOT, env=env(extra), capture_output=True, text=True, timeout=timeout)


def fast_rules(folder: Path) -> Path:
    """A copy of rules/ whose ``bot_cycle`` job runs every second (not every minute)."""
    copy = folder / "rules"
    shutil.copytree(ROOT / "rules", copy)
    schedules = copy / "schedules.yaml"
    text = schedules.read_text(encoding="utf-8")
    edited, count = re.subn(r"\{id: bot_cycle, every: 60s,", "{id: bot_cycle, every: 1s,", text)
    assert count == 1, "rules/schedules.yaml no longer declares the bot cycle as this test expects"
    schedules.write_text(edited, encoding="utf-8")
    return copy


def wait_for(condition: Callable[[], bool], what: str, *, child: subprocess.Popen[str] | None = None) -> None:
    """Poll ``condition`` until it holds; fails after HUNG seconds (only a hung child takes
    that long) or when ``child`` ended first."""
    deadline = time.monotonic() + HUNG
    while not condition():
        if child is not None and child.poll() is not None:
            raise AssertionError(f"the child ended (exit {child.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {HUNG} s")
        time.sleep(0.1)


GZIP_MAGIC = b"\x1f\x8b"


def gunzip(raw: bytes) -> bytes:
    """Every gzip member of ``raw`` unpacked, a torn last one as far as it goes."""
    out = []
    while raw[:2] == GZIP_MAGIC:
        unpacker = zlib.decompressobj(wbits=31)
        try:
            out.append(unpacker.decompress(raw))
        except zlib.error:
            break
        raw = unpacker.unused_data
    return b"".join(out)


def leaks(folders: Iterable[Path], outputs: Mapping[str, str]) -> tuple[list[tuple[str, str]], int]:
    """Where any canary (the key, the secret, its decoded text) appears: in a file under
    ``folders`` (read as bytes, gzip members unpacked) or a captured output; and how many
    files and outputs were scanned."""
    texts = dict(outputs)
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if not path.is_file():
                continue
            raw = path.read_bytes()
            if raw[:2] == GZIP_MAGIC:
                raw += gunzip(raw)
            texts[str(path)] = raw.decode("latin-1")
    found = [(where, canary) for where, text in texts.items() for canary in CANARIES if canary in text]
    return found, len(texts)


def no_canary_in_environment() -> None:
    """The keys live in the children's environments only, never in the test process's."""
    assert not any(canary in value for value in os.environ.values() for canary in CANARIES)
