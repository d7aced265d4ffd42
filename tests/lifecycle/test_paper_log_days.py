"""`rulebot paper`'s log days: across UTC days of the snapshot clock each log is closed into
``<log>.<day>.jsonl.gz`` holding exactly that day's lines, the live ``<log>.jsonl`` holds the
last day, and closed days past ``learning.logs.keep`` are deleted."""

from __future__ import annotations

import gzip
import json
import shutil
import time
from pathlib import Path

from tests.lifecycle import market
from tests.lifecycle.processes import ROOT, run_cli

STEP_S = 1800  # one snapshot every 30 minutes: four days in 192 snapshots
DAYS = ("2025-05-25", "2025-05-26", "2025-05-27", "2025-05-28")
STEMS = ("predictive_signals", "signal_universe")  # the two logs with a line per symbol and snapshot


def _spread_out(path: Path, count: int) -> Path:
    """The synthetic market, one snapshot every STEP_S seconds from market.T0 (a UTC midnight)."""
    lines = []
    for i, snap in enumerate(market.snapshots(count)):
        ts = market.T0 + STEP_S * i
        snap["ts"] = snap["fear_greed_ts"] = ts
        for values in snap["symbols"].values():
            values["candles"][0][0] = ts - 60
            values["funding_rate_ts"] = ts - ts % 3600
        lines.append(json.dumps(snap) + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def _records(path: Path) -> list[dict]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def _paper(tmp: Path, rules: Path, snapshots: Path) -> Path:
    logs = tmp / "logs"
    done = run_cli(
        ["paper", str(snapshots), "--rules", str(rules), "--state", str(tmp / "paper.db"), "--logs", str(logs)]
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("paper: ") and done.stdout.count("\n") in (1, 2), done.stdout  # no progress on stdout
    return logs


def test_each_closed_day_holds_exactly_its_lines_and_the_live_log_the_last_day(tmp_path):
    snapshots = _spread_out(tmp_path / "market.jsonl", 4 * 48)
    logs = _paper(tmp_path, ROOT / "rules", snapshots)
    for stem in STEMS:
        seen = []
        for day in DAYS[:-1]:
            records = _records(logs / f"{stem}.{day}.jsonl.gz")
            assert records and {_day(r["ts"]) for r in records} == {day}
            seen += records
        live = _records(logs / f"{stem}.jsonl")
        assert live and {_day(r["ts"]) for r in live} == {DAYS[-1]}
        seen += live
        # every snapshot's decision for every symbol, once, in order
        keys = [(r["ts"], r["symbol"]) for r in seen]
        assert keys == sorted(set(keys)) and len(keys) == 4 * 48 * len(market.PRICES)
    assert not list(logs.glob("*.partial"))


def test_closed_days_past_the_retention_are_deleted(tmp_path):
    rules = shutil.copytree(ROOT / "rules", tmp_path / "rules")
    learning = rules / "learning.yaml"
    text = learning.read_text(encoding="utf-8")
    assert text.count("trade_lookback: 168h") == 1 and text.count("keep: 30d") == 1
    learning.write_text(text.replace("trade_lookback: 168h", "trade_lookback: 24h").replace("keep: 30d", "keep: 1d"))
    logs = _paper(tmp_path, rules, _spread_out(tmp_path / "market.jsonl", 4 * 48))
    # the last step is on 05-28: days before 05-27 are past one day's retention
    assert sorted(p.name for p in logs.glob("signal_universe*")) == [
        "signal_universe.2025-05-27.jsonl.gz",
        "signal_universe.jsonl",
    ]
