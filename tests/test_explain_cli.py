"""`rulebot explain` end to end, and the per-cycle signal log."""

from __future__ import annotations

import json
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.store.jsonl import JsonlLog
from engine.language.compiler import compile_ruleset
from engine.market.snapshot import parse_snapshot
from engine.trading.signals.engine import SignalEngine

ROOT = Path(__file__).resolve().parents[1]
T0 = 1748131200


def _snapshots(count: int = 90) -> list[dict]:
    rng = random.Random(3)
    price = {"BTCUSDT": 100000.0, "ETHUSDT": 2500.0}
    out = []
    for i in range(count):
        ts = T0 + 60 * i
        symbols = {}
        for name in price:
            o = price[name]
            c = price[name] = o * math.exp(rng.gauss(0, 0.001))
            symbols[name] = {
                "price": c,
                "candles": [[ts - 60, o, max(o, c), min(o, c), c, 1.0]],
                "liq_long_usd": 40000.0 + 1000 * i,
                "liq_short_usd": 1000.0,
            }
        out.append({"v": 1, "ts": ts, "fear_greed": 10, "fear_greed_ts": T0, "symbols": symbols})
    return out


@pytest.fixture(scope="module")
def snapshot_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("snaps") / "s.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in _snapshots()), encoding="utf-8")
    return path


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "explain", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_explain_prints_the_component_table_and_the_vote(snapshot_file):
    done = run(str(snapshot_file), "--symbol", "ETHUSDT", "--at", "2025-05-25T01:10:00Z")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ETHUSDT at 2025-05-25T01:10:00Z  (rule set rs-")
    table = {line.split()[0]: line.split() for line in lines[3:13]}
    assert table["liquidation_cascade"][2] == "SHORT" and table["liquidation_cascade"][5] == "long_cascade"
    assert table["fear_greed"][2:4] == ["LONG", "0.33"]
    votes = next(line for line in lines if line.startswith("votes:"))
    assert votes.startswith("votes: LONG 1, SHORT 1")
    assert "gate chain:" in lines and "  (not run: the signal is NEUTRAL)" in lines
    assert lines[-1] == "decision: NO_TRADE, first blocker SIGNAL_TOO_FEW_ALIGNED"


def test_explain_json_and_log(snapshot_file, tmp_path):
    log = tmp_path / "logs" / "predictive_signals.jsonl"
    done = run(str(snapshot_file), "--format", "json", "--log", str(log))
    assert done.returncode == 0, done.stderr
    decisions = json.loads(done.stdout)
    assert [d["symbol"] for d in decisions] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    assert [d["outcome"] for d in decisions] == ["NO_TRADE"] * 3
    records = [d["signal"] for d in decisions]
    assert records[0]["ts"] == T0 + 60 * 89
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert logged == records and all(r["version"].startswith("rs-") for r in logged)


@pytest.mark.parametrize(
    "args, code",
    [
        (["--at", "yesterday"], 2),
        (["--symbol", "DOGEUSDT"], 2),
        (["--at", "2020-01-01T00:00:00Z"], 1),
        (["--at", "nan"], 2),
        (["--at", "1e300"], 2),
        (["--at", "1748131200000"], 2),
        (["--at", "2999-01-01T00:00:00Z"], 2),
        (["--equity", "nan"], 2),
        (["--equity", "inf"], 2),
    ],
)
def test_explain_bad_arguments(snapshot_file, args, code):
    done = run(str(snapshot_file), *args)
    assert done.returncode == code and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "text, why",
    [
        ("1e300", "1e+300 is not epoch seconds from 2009-01-03 to 2100-01-01 UTC"),
        ("1748131200000", "it looks like milliseconds: divide by 1000"),
        ("2100-01-01T00:00:01Z", "4102444801 is not epoch seconds"),
        ("2008-12-31", "1230681600 is not epoch seconds"),
    ],
)
def test_parse_time_refuses_times_outside_market_data(text, why):
    """--at/--from/--to far out used to be accepted: explain then judged at 1e300, dry-run
    replayed an empty window. A ValueError is what the CLI turns into a usage error."""
    from engine.common.times import parse_time

    with pytest.raises(ValueError, match=re.escape(why)):
        parse_time(text)
    assert parse_time("2100-01-01T00:00:00Z") == 4_102_444_800 and parse_time("1748131200") == T0


def test_input_errors_still_explain_but_exit_1(snapshot_file, tmp_path):
    """A snapshot that cannot be read is reported; the decision over the rest is shown, and
    the exit code says the input was bad (as dry-run and paper do)."""
    lines = snapshot_file.read_text(encoding="utf-8").splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        "\n".join(lines[:40] + ['{"ts": "1748133600", "symbols": {}}'] + lines[40:]) + "\n", encoding="utf-8"
    )
    done = run(str(broken), "--symbol", "ETHUSDT")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "RB702" in done.stderr and "1 snapshot input error(s)" in done.stderr
    assert done.stdout.splitlines()[-1].startswith("decision: ")
    assert run(str(snapshot_file), "--symbol", "ETHUSDT").returncode == 0


def test_every_cycle_logs_one_line_per_symbol_with_the_version(tmp_path):
    plan = compile_ruleset(str(ROOT / "rules")).plans["paper"]
    path = tmp_path / "predictive_signals.jsonl"
    with JsonlLog(path) as log:
        engine = SignalEngine(plan, sink=log.write)
        for obj in _snapshots(5):
            engine.run_cycle(parse_snapshot(obj)[0])
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 5 * 3
    assert {line["version"] for line in lines} == {plan.version}
    assert [line["ts"] for line in lines[:3]] == [T0] * 3
