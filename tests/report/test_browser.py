"""The dry-run report in a real headless browser (Chromium): it renders, every chart is
there as SVG, nothing is fetched and the console stays silent. .ci/run installs Chromium
when the machine lacks it; elsewhere the test is skipped with the reason."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from adapters.paper.broker import PaperBroker
from engine.language.compiler import compile_ruleset
from engine.market.snapshot import parse_snapshot
from engine.replay.dryrun import dry_run
from engine.replay.memstate import MemoryState
from engine.report.html import render_report
from tests.lifecycle.market import snapshots

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--log-level=0",
]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    plan = compile_ruleset(str(ROOT / "rules")).plans["paper"]
    market = [parse_snapshot(s)[0] for s in snapshots(240)]
    result, _, _ = dry_run(plan, iter(market), broker=PaperBroker.for_plan(plan), store=MemoryState())
    result.update(rules_dir="rules", snapshot_files=["synthetic"])
    assert result["metrics"]["trades"] > 0
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(result), encoding="utf-8")
    return path


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_report_renders_with_every_chart_and_a_silent_console(report, tmp_path):
    done = _chromium(tmp_path, "--dump-dom", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    charts = set(re.findall(r'data-chart="([^"]+)"', dom))
    assert {"equity", "drawdown", "exit-reasons", "attribution"} <= charts
    assert {c for c in charts if c.startswith("price-")}  # entries and exits on the prices
    assert dom.count("<svg") >= len(charts)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []  # no errors, no failed loads


def test_the_report_paints_a_screenshot(report, tmp_path):
    shot = tmp_path / "report.png"
    done = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.stat().st_size > 20_000  # a page with charts, not a blank one
