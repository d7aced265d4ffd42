"""The report's decision time is the one `rulebot explain --at` needs: end to end, a dry-run
over a synthetic market, its report, then `explain` at a trade's decision time shows the TRADE
and the very order that opened the trade."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.common.times import iso_utc
from engine.report.html import _table_time, decision_times
from engine.trading.entry import order_digest
from tests.lifecycle.market import write
from tests.report.test_htmlreport import _column, parse

ROOT = Path(__file__).resolve().parents[2]


def rulebot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("decided")
    market = write(folder / "m.jsonl", 240)
    shipped = folder / "shipped-rules"
    shutil.copytree(ROOT / "rules", shipped)
    done = rulebot(
        "dry-run", str(market), "--vs", str(shipped), "--out", str(folder / "out"), "--report", str(folder / "r.html")
    )
    assert done.returncode == 0, done.stderr
    result = json.loads((folder / "out" / "result.json").read_text(encoding="utf-8"))
    assert result["trades"]
    return {"market": market, "shipped": shipped, "result": result, "html": (folder / "r.html").read_text("utf-8")}


def test_every_trade_has_the_decision_that_sent_its_order(run):
    result = run["result"]
    decided = decision_times(result)
    assert set(decided) == {t["id"] for t in result["trades"]}
    for trade in result["trades"]:
        ts = decided[trade["id"]]
        assert ts < trade["entry_ts"]  # the order fills on a later cycle than its decision
        assert trade["id"].endswith(order_digest(trade["entry_version"], trade["symbol"], trade["direction"], ts))
    table = parse(run["html"]).find(id="trades-a")
    shown = [tr.find_all("td")[_column(table, "decided (UTC)")].all_text() for tr in table.find("tbody").find_all("tr")]
    assert sorted(shown) == sorted(_table_time(decided[t["id"]], t["entry_ts"]) for t in result["trades"])


def test_explain_at_the_decision_time_shows_the_trade(run):
    trade = min(run["result"]["trades"], key=lambda t: t["entry_ts"])  # the first: the account was flat, as in explain
    at = iso_utc(decision_times(run["result"])[trade["id"]])
    done = rulebot("explain", str(run["market"]), "--at", at, "--symbol", trade["symbol"])
    assert done.returncode == 0, done.stderr
    assert "decision: TRADE" in done.stdout
    assert f"client id {trade['id']}" in done.stdout  # the very order that opened the trade


def test_the_compared_report_names_both_rule_folders(run):
    assert run["result"]["vs"]["rules_dir"] == str(run["shipped"])
    facts = parse(run["html"]).find(id="run-facts")
    folders = next(tr for tr in facts.find_all("tr") if tr.find("th").all_text() == "Rules folder")
    assert [td.all_text() for td in folders.find_all("td")] == ["A: rules", f"B: {run['shipped']}"]
