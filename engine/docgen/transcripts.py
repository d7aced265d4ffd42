"""Replaying the ```console blocks of hand-written pages, so their outputs cannot drift.

Each block is a real shell session: docgen runs its commands again in a fresh copy of rules/
(with the bundled sample beside it, in data/sample/) and rewrites each command's output,
leaving commands and prose untouched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from engine.docgen.locations import ROOT, RULES, SAMPLE

#: Hand-written pages whose ```console blocks are replayed.
TRANSCRIPT_PAGES = ("docs/getting-started.md", "docs/ci.md", "docs/rules/exits.md")
_CONSOLE = re.compile(r"^```console\n(.*?)^```", re.S | re.M)
_COMMAND_TIMEOUT_S = 120


def parse_transcript(block: str) -> list[tuple[str, str]]:
    """(command, output) pairs of a console block: `$ ` starts a command, `> ` continues it
    (here-documents), every other line is output of the command above."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps and not steps[-1][1] and (line.startswith("> ") or line == ">"):
            command, output = steps[-1]
            steps[-1] = (command + "\n" + line[2:], output)
        elif steps:
            steps[-1][1].append(line)
        else:
            raise ValueError(f"console block must start with `$ `: {line!r}")
    return [(command, "\n".join(output)) for command, output in steps]


def render_transcript(steps: list[tuple[str, str]]) -> str:
    """The console block text of (command, output) pairs: the inverse of :func:`parse_transcript`."""
    lines = []
    for command, output in steps:
        first, *rest = command.split("\n")
        lines.append("$ " + first)
        lines += ["> " + line if line else ">" for line in rest]
        if output:
            lines.append(output)
    return "\n".join(lines) + "\n"


def _shell_env() -> dict[str, str]:
    """This interpreter's bin directory first on PATH (so ``rulebot`` is this rulebot), and a
    plain, fixed-width, UTF-8 terminal so outputs do not depend on who runs docgen."""
    return dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        NO_COLOR="1",
        COLUMNS="100",
        LC_ALL="C.UTF-8",
    )


def run_transcripts(text: str, workdir: Path) -> str:
    """``text`` with the output of every console command replaced by what it prints now.

    Commands run with bash in ``workdir`` (which must hold a copy of rules/), in order,
    with stderr merged into stdout, as a terminal shows them."""
    env = _shell_env()

    def replay(match: re.Match[str]) -> str:
        steps = []
        for command, _ in parse_transcript(match.group(1)):
            run = subprocess.run(
                ["bash", "-c", command],
                cwd=workdir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=_COMMAND_TIMEOUT_S,
            )
            steps.append((command, run.stdout.rstrip("\n")))
        return "```console\n" + render_transcript(steps) + "```"

    return _CONSOLE.sub(replay, text)


def replay_transcripts() -> dict[str, str]:
    """Repo-relative path → content of each transcript page with its outputs replayed now."""
    result = {}
    for rel in TRANSCRIPT_PAGES:
        path = ROOT / rel
        if not path.exists():
            continue
        with tempfile.TemporaryDirectory(prefix="rulebot-docs-") as tmp:
            shutil.copytree(RULES, Path(tmp) / "rules")
            shutil.copytree(SAMPLE, Path(tmp) / "data" / "sample")  # for the dry-run transcripts
            result[rel] = run_transcripts(path.read_text(encoding="utf-8"), Path(tmp))
    return result
