"""`rulebot dry-run` end to end: summary, --out files, --vs, bad arguments, Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dryrun.paused_child import HUNG, start_paused
from tests.lifecycle.market import write

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "dry-run", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        **kw,
    )


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("market") / "m.jsonl", 240)


def test_summary_and_out_files(market, tmp_path):
    done = run(str(market), "--out", str(tmp_path / "out"), "--format", "json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    out = tmp_path / "out"
    trades = [json.loads(line) for line in (out / "trades.jsonl").read_text().splitlines()]
    assert summary["metrics"]["trades"] == len(trades) > 0
    assert (out / "fingerprint.txt").read_text().strip() == summary["fingerprint"]
    assert json.loads((out / "metrics.json").read_text())["metrics"] == summary["metrics"]
    decisions = [json.loads(line) for line in (out / "decisions.jsonl").read_text().splitlines()]
    assert decisions and all(d["outcome"] in ("TRADE", "NO_TRADE") for d in decisions)


def test_text_summary_lists_exit_reasons_and_attribution(market):
    done = run(str(market))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for label in (
        "trades",
        "win rate",
        "net P&L",
        "max drawdown",
        "Sharpe",
        "exposure",
        "fees paid",
        "funding (+ paid, − received)",
        "exits ",
        "P&L liquidation_cascade",
        "fingerprint",
    ):
        assert label in text, label


def test_vs_runs_both_rule_sets_and_lists_differing_decisions(market, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    text = (rules / "signals.yaml").read_text(encoding="utf-8")
    (rules / "signals.yaml").write_text(text.replace("min_aligned: 2 ", "min_aligned: 3 "), encoding="utf-8")
    done = run(str(market), "--vs", str(rules), "--format", "json", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["vs"]["version"] != summary["version"]
    assert summary["differing_decisions"] > 0
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert {d["a"].split()[0] for d in result["differing_decisions"]} <= {"TRADE", "NO_TRADE", "NEUTRAL"}


def _rows(text: str) -> dict[str, list[str]]:
    """The summary table's rows by label: cells are separated by two spaces or more."""
    import re

    rows = {}
    for line in text.splitlines():
        if line.startswith(("signal coverage", "warning:", "decisions that differ")):
            break  # the notes under the table
        label, *cells = re.split(r"\s{2,}", line.rstrip())
        rows[label] = cells
    return rows


def test_text_summary_names_the_rule_set_its_equity_and_where_it_wrote(market, tmp_path):
    figures = json.loads(run(str(market), "--format", "json").stdout)
    report, out = tmp_path / "r.html", tmp_path / "out"
    done = run(str(market), "--report", str(report), "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = _rows(done.stdout)
    assert figures["rule_set"] == "seed-predictive-flow"
    assert rows["rule set"] == [f"seed-predictive-flow {figures['version']}"]
    metrics = figures["metrics"]
    assert rows["starting equity"] == [f"{metrics['starting_equity_usd']:,.2f} USD"]
    assert rows["ending equity"] == [f"{metrics['ending_equity_usd']:,.2f} USD"]
    assert rows["funding (+ paid, − received)"] == [f"{metrics['funding_usd']:+,.2f} USD"]
    assert f"report written to {report} (open it in a browser)" in done.stdout.splitlines()
    assert any(line.startswith(f"files written to {out}: trades.jsonl") for line in done.stdout.splitlines())
    assert report.is_file() and (out / "trades.jsonl").is_file()
    as_json = run(str(market), "--format", "json", "--report", str(report))
    assert json.loads(as_json.stdout)["version"] == figures["version"]  # stdout stays JSON
    assert f"report written to {report}" in as_json.stderr


def test_vs_text_shows_first_minus_second_for_every_numeric_row(market, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    text = (rules / "signals.yaml").read_text(encoding="utf-8")
    (rules / "signals.yaml").write_text(text.replace("min_aligned: 2 ", "min_aligned: 3 "), encoding="utf-8")
    figures = json.loads(run(str(market), "--vs", str(rules), "--format", "json").stdout)
    first, second = figures["metrics"], figures["vs"]["metrics"]
    assert first["trades"] != second["trades"]
    done = run(str(market), "--vs", str(rules))
    assert done.returncode == 0, done.stderr
    rows = _rows(done.stdout)
    assert rows[""] == ["first: --rules rules", f"second: --vs {rules}", "first − second"]
    assert rows["trades"] == [str(first["trades"]), str(second["trades"]), f"{first['trades'] - second['trades']:+,}"]
    assert rows["net P&L"][2] == f"{first['net_pnl_usd'] - second['net_pnl_usd']:+,.2f} USD"
    assert rows["fees paid"][2] == f"{first['fees_usd'] - second['fees_usd']:+,.2f} USD"
    assert rows["win rate"][2] == f"{(first['win_rate'] - second['win_rate']) * 100:+.2f} pp"
    assert rows["cycles"][2] == "+0" and rows["starting equity"][2] == "+0.00 USD"
    numeric = [label for label in rows if label.startswith(("exits ", "P&L ")) or label in ("ending equity", "Sharpe")]
    assert numeric and all(len(rows[label]) == 3 for label in numeric)
    assert all(len(rows[label]) == 2 for label in ("rule set", "window", "fingerprint", "replay"))


def test_window_and_symbols_restrict_the_run(market):
    done = run(
        str(market),
        "--from",
        "2025-05-25T01:00:00Z",
        "--to",
        "2025-05-25T02:00:00Z",
        "--symbols",
        "BTCUSDT",
        "--format",
        "json",
    )
    summary = json.loads(done.stdout)
    assert summary["cycles"] == 61 and summary["symbols"] == ["BTCUSDT"]


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "soon"],
        ["--symbols", "DOGEUSDT"],
        ["--rules", "no/such/dir"],
        ["--from", "2025-05-25T02:00:00Z", "--to", "2025-05-25T01:00:00Z"],
        ["--from", "nan"],
        ["--to", "inf"],
        ["--symbols", ",,,"],
        ["--from", "1e300"],
        ["--to", "1748131200000"],
        ["--to", "3000-01-01"],
    ],
)
def test_bad_arguments_exit_2(market, args):
    done = run(str(market), *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "window", [["--from", "2030-01-01"], ["--to", "2010-01-01"], ["--from", "2030-01-01", "--vs", "rules"]]
)
def test_a_window_with_no_snapshot_is_an_error_naming_the_data_s_time_range(market, tmp_path, window):
    """Exit 1 (invalid input), nothing printed on stdout and no file written: the message
    names the window asked for and the time range the snapshots do cover."""
    from engine.common.times import iso_utc
    from tests.lifecycle.market import snapshots

    times = [row["ts"] for row in snapshots(240)]
    out, report = tmp_path / "out", tmp_path / "r.html"
    done = run(str(market), *window, "--out", str(out), "--report", str(report))
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    asked = f"--from {window[1]}T00:00:00Z" if window[0] == "--from" else f"--to {window[1]}T00:00:00Z"
    assert (
        f"no snapshot falls in {asked}: the snapshots cover {iso_utc(min(times))} → {iso_utc(max(times))}"
        in done.stderr
    )
    assert not list(out.iterdir()) and not report.exists()  # the folder was checked (created), not written


def test_a_symbol_asked_for_but_not_in_the_snapshots_is_warned_of(tmp_path):
    from tests.lifecycle.market import snapshots

    rows = snapshots(60)
    for row in rows:
        del row["symbols"]["SOLUSDT"]
    path = tmp_path / "no-sol.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    done = run(str(path), "--symbols", "SOLUSDT,BTCUSDT")
    assert done.returncode == 0, done.stderr
    assert "warning: --symbols SOLUSDT: not in the snapshots replayed" in done.stdout
    assert "--symbols" not in run(str(path), "--symbols", "BTCUSDT").stdout


def test_a_symbol_in_the_snapshots_but_not_in_the_rules_is_noted(tmp_path):
    from tests.lifecycle.market import snapshots

    rows = snapshots(30)
    for row in rows:
        row["symbols"]["DOGEUSDT"] = dict(row["symbols"]["SOLUSDT"])
    path = tmp_path / "doge.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    done = run(str(path))
    assert done.returncode == 0, done.stderr
    assert "note: DOGEUSDT in the snapshots but not in the rule set: not traded" in done.stdout


def test_files_with_no_readable_snapshot_say_so_without_blaming_a_window(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    done = run(str(empty))
    assert done.returncode == 1
    assert "no snapshot could be read: nothing was replayed" in done.stdout
    assert "falls in the window" not in done.stdout


def test_an_output_failing_after_the_run_still_prints_the_result(market, tmp_path):
    """The folder is writable, so the run goes ahead; one file cannot be replaced (a folder
    stands where it goes). The summary is printed first, the failure names the file (exit 5),
    and the files written whole are there — none half-written."""
    out = tmp_path / "out"
    (out / "decisions.jsonl").mkdir(parents=True)
    done = run(str(market), "--out", str(out), "--format", "json")
    assert done.returncode == 5, done.stderr
    assert json.loads(done.stdout)["metrics"]["trades"] > 0
    assert "decisions.jsonl" in done.stderr and "Traceback" not in done.stderr
    trades = (out / "trades.jsonl").read_text().splitlines()
    assert trades and all(json.loads(line)["net_pnl"] is not None for line in trades)
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_ctrl_c_stops_cleanly_and_still_writes(tmp_path):
    """SIGINT reaches the child while it waits before its 300th step of 600, so it lands
    mid-run however fast or loaded the machine is."""
    market = write(tmp_path / "long.jsonl", 600)
    out = tmp_path / "out"
    process, before = start_paused(300, ["dry-run", str(market), "--out", str(out), "--format", "json"], cwd=ROOT)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=HUNG)
    assert process.returncode == 130, before + stderr.decode()
    summary = json.loads(stdout)
    assert summary["interrupted"] is True and summary["cycles"] == 299  # the bundled rules step every minute
    assert (out / "fingerprint.txt").read_text().strip() == summary["fingerprint"]
    trades = (out / "trades.jsonl").read_text().splitlines()
    assert 0 < len(trades) == summary["metrics"]["trades"]


def test_a_bad_print_in_the_snapshots_is_refused_and_reported(market, tmp_path):
    """A price jumping 1,000× for one minute is refused by the sanity layer (with the quotes
    that came with it): the summary says so, naming the symbol, the inputs and the time, and
    the JSON output counts them. A clean file reports nothing refused."""
    from tests.lifecycle.market import snapshots

    rows = snapshots(120)
    spike = rows[60]["symbols"]["ETHUSDT"]
    spike["price"] *= 1000
    spike["bid"], spike["ask"] = spike["price"] * 0.9999, spike["price"] * 1.0001
    path = tmp_path / "spiked.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    text = run(str(path))
    assert text.returncode == 0, text.stderr
    assert (
        "warning: 3 market value(s) refused as implausible and treated as missing "
        "(ETHUSDT ask ×1, ETHUSDT bid ×1, ETHUSDT price ×1), the first at 2025-05-25T01:00:00Z: ETHUSDT price"
    ) in text.stdout
    summary = json.loads(run(str(path), "--format", "json").stdout)["market_data"]
    assert summary["refused"] == 3
    assert summary["by_input"] == {"ETHUSDT": {"ask": 1, "bid": 1, "price": 1}}
    assert [r["ts"] for r in summary["first"]] == [rows[60]["ts"]] * 3
    assert summary["states"] == []  # one bad minute is not a persistent failure
    clean = json.loads(run(str(market), "--format", "json").stdout)["market_data"]
    assert clean == {"refused": 0, "by_input": {}, "first": [], "states": []}
