"""`rulebot paper` and `rulebot run` on a replay show progress like dry-run: snapshots done of
the total, rate and ETA, on stderr and only on a terminal, so stdout (the summary line) is what
it always was. The bar lives in the one implementation both share (engine/cli/run.py)."""

from __future__ import annotations

import io
import re

from click.testing import CliRunner

import engine.cli.run as run_cli
from engine.cli.app import main
from engine.cli.options import progress
from tests.lifecycle import market
from tests.lifecycle.processes import ROOT


class Terminal(io.StringIO):
    """What tqdm writes to a terminal."""

    def isatty(self) -> bool:
        return True


def test_the_bar_shows_count_rate_and_eta_on_a_terminal(tmp_path):
    path = market.write(tmp_path / "market.jsonl", 30)
    screen = Terminal()
    with progress((str(path),), "paper rs-x", file=screen, delay=0) as bar:
        for _ in range(12):
            bar.update()
        bar.refresh()
        shown = screen.getvalue()
    assert "paper rs-x" in shown and "12/30" in shown
    assert re.search(r"cycle/s", shown) and re.search(r"<\d\d:\d\d", shown)  # rate, and the time left


def test_nothing_is_shown_off_a_terminal(tmp_path):
    path = market.write(tmp_path / "market.jsonl", 30)
    file = io.StringIO()
    with progress((str(path),), "paper rs-x", file=file, delay=0) as bar:
        bar.update(30)
    assert file.getvalue() == ""


def on_a_terminal(monkeypatch):
    """Make the run's progress bar draw on a fake terminal; the screen and the bars made."""
    screen, bars = Terminal(), []

    def on_terminal(paths, label):
        bars.append(progress(paths, label, file=screen, delay=0))
        return bars[-1]

    monkeypatch.setattr(run_cli, "progress", on_terminal)
    return screen, bars


def test_paper_counts_every_snapshot_on_the_terminal_and_leaves_stdout_alone(tmp_path, monkeypatch):
    path = market.write(tmp_path / "market.jsonl", 20)
    screen, bars = on_a_terminal(monkeypatch)
    args = ["paper", str(path), "--rules", str(ROOT / "rules"), "--state", str(tmp_path / "p.db")]
    result = CliRunner().invoke(main, [*args, "--logs", str(tmp_path / "logs")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("paper: ") and result.stdout.count("\n") == 1
    (bar,) = bars
    assert (bar.n, bar.total) == (20, 20) and bar.desc.startswith("paper rs-")
    assert "/20 [" in screen.getvalue()  # shown on the terminal (how often it redraws depends on time)


def test_run_on_a_replay_shows_the_same_bar(tmp_path, monkeypatch):
    path = market.write(tmp_path / "market.jsonl", 15)
    _, bars = on_a_terminal(monkeypatch)
    args = ["run", "--paper", "--feed", f"replay:{path}", "--rules", str(ROOT / "rules")]
    result = CliRunner().invoke(main, [*args, "--state", str(tmp_path / "state"), "--logs", str(tmp_path / "logs")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("run: ") and result.stdout.count("\n") == 1
    (bar,) = bars
    assert (bar.n, bar.total) == (15, 15) and bar.desc.startswith("run rs-")
