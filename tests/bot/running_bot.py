"""A real `rulebot run --paper` child process on a tail feed, for the hot-reload integration
test and benchmark: started, waited for (its READY line), fed, read (its JSON-lines logs)
and stopped with SIGTERM. Waits poll the logs with a generous bounded timeout, never a
fixed sleep."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.lifecycle.processes import HUNG, ROOT, child_env, run_cli

SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
READY = "rulebot run: live"  # engine.cli.run.READY (not imported: the child is the system under test)

T = TypeVar("T")


def sample_lines(out: Path) -> list[str]:
    """The bundled sample's snapshots as JSON lines (the tail feed refuses Parquet), written
    by the project's own converter (`rulebot snapshots convert`)."""
    done = run_cli(["snapshots", "convert", str(SAMPLE), "--out", str(out)])
    assert done.returncode == 0, done.stderr
    return out.read_text(encoding="utf-8").splitlines(keepends=True)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The complete lines of a JSON-lines log (a line still being written is left out)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]


def wait_for(probe: Callable[[], T | None], what: str, child: RunningBot | None = None, timeout: float = HUNG) -> T:
    """Poll ``probe`` until it returns something other than None/False; fail after ``timeout``
    (or at once if ``child`` died), saying what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None and found is not False:
            return found
        if child is not None and child.proc.poll() is not None:
            raise AssertionError(f"the bot exited ({child.proc.returncode}) while waiting for {what}:\n{child.stderr}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


class RunningBot:
    """`rulebot run --paper --rules RULES --feed tail:FEED --state STATE --logs LOGS`."""

    def __init__(self, rules: Path, feed: Path, state: Path, logs: Path, *, log_level: str = "info"):
        self.logs = logs
        args = ["run", "--paper", "--rules", str(rules), "--feed", f"tail:{feed}", "--state", str(state)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "--log-level", log_level, *args, "--logs", str(logs)],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._err: list[str] = []
        self.ready_line = ""
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._drain, daemon=True)  # a full pipe would block the child
        self._reader.start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._err.append(line)
            if line.startswith(READY) and not self._ready.is_set():
                self.ready_line = line.strip()
                self._ready.set()
        self._ready.set()  # the child ended: whoever waits sees it

    @property
    def stderr(self) -> str:
        return "".join(self._err)

    def wait_ready(self) -> str:
        """The live version the READY line names, once the bot runs."""
        if not self._ready.wait(HUNG) or not self.ready_line:
            raise AssertionError(f"no READY line from the bot (exit {self.proc.poll()}):\n{self.stderr}")
        return self.ready_line.split()[3]

    def log(self, name: str) -> list[dict[str, Any]]:
        return read_jsonl(self.logs / name)

    def stop(self) -> tuple[int, str, str]:
        """SIGTERM, then the exit code, stdout and stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(HUNG)
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        self._close()
        return code, out, self.stderr

    def kill(self) -> None:
        """For a test's cleanup: end the child if it still runs."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(HUNG)
        self._close()

    def _close(self) -> None:
        self._reader.join(HUNG)  # the child has ended: its stderr reaches its end
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
