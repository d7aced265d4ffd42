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
    assert [d["symbol"] for d in decisions] == ["BTCUSDT", "ETHUSDT"]  # SOLUSDT is not in the snapshots
    assert [d["outcome"] for d in decisions] == ["NO_TRADE"] * 2
    records = [d["signal"] for d in decisions]
    assert records[0]["ts"] == T0 + 60 * 89
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert logged == records and all(r["version"].startswith("rs-") for r in logged)


@pytest.mark.parametrize(
    "args, code",
    [
        (["--at", "yesterday"], 2),
        (["--symbol", "DOGEUSDT"], 2),
        (["--symbol", "SOLUSDT"], 2),  # in the rule set, not in the snapshots
        (["--replay", "columns"], 2),  # a .jsonl file cannot be replayed as columns
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


def test_a_symbol_not_in_the_snapshots_is_a_usage_error_naming_those_present(snapshot_file):
    done = run(str(snapshot_file), "--symbol", "ETHUSDT", "--symbol", "SOLUSDT")
    assert done.returncode == 2 and not done.stdout
    assert "SOLUSDT not in the snapshots (they hold BTCUSDT, ETHUSDT)" in done.stderr


def test_a_jsonl_file_is_replayed_snapshot_by_snapshot_and_says_so(snapshot_file):
    done = run(str(snapshot_file), "--symbol", "ETHUSDT")
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "rulebot explain: replayed snapshot by snapshot (RB720: the column replay reads .parquet files)\n"
    )
    scalar = run(str(snapshot_file), "--symbol", "ETHUSDT", "--replay", "scalar")
    assert scalar.returncode == 0 and scalar.stderr == "" and scalar.stdout == done.stdout


def _parquet(path: Path, raw: list[dict]) -> Path:
    from adapters.snapshots.columnar import write_columnar

    write_columnar([parse_snapshot(s)[0] for s in raw], path)
    return path


def test_a_dense_parquet_file_is_explained_from_columns_as_the_scalar_replay_does(tmp_path):
    path = _parquet(tmp_path / "dense.parquet", _snapshots())
    for at in ("2025-05-25T00:30:00Z", "2025-05-25T01:10:30Z"):
        columns = run(str(path), "--at", at, "--replay", "columns")
        assert columns.returncode == 0 and columns.stderr == "", columns.stderr
        assert run(str(path), "--at", at).stdout == columns.stdout
        assert run(str(path), "--at", at, "--replay", "scalar").stdout == columns.stdout


def test_a_parquet_file_that_needs_the_scalar_replay_falls_back_and_says_why(tmp_path):
    raw = _snapshots()
    del raw[50]["symbols"]["ETHUSDT"]  # not dense: the column replay cannot take it
    path = _parquet(tmp_path / "sparse.parquet", raw)
    done = run(str(path), "--symbol", "ETHUSDT")
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("rulebot explain: replayed snapshot by snapshot (RB720: ")
    assert done.stdout == run(str(path), "--symbol", "ETHUSDT", "--replay", "scalar").stdout
    refused = run(str(path), "--symbol", "ETHUSDT", "--replay", "columns")
    assert refused.returncode == 2 and "--replay columns: " in refused.stderr and not refused.stdout


def test_a_refused_price_is_screened_and_named_on_either_replay(tmp_path):
    """The last snapshot's ETH price is 1,000× the one before: explain screens it as a run
    does. The column replay hands such a file to the scalar one (the sanity layer could refuse
    a value), and the decision is blocked by the refusal, which it names."""
    raw = _snapshots()
    raw[-1]["symbols"]["ETHUSDT"]["price"] *= 1000
    path = _parquet(tmp_path / "spiked.parquet", raw)
    done = run(str(path), "--symbol", "ETHUSDT", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert "sanity layer" in done.stderr and done.stderr.startswith("rulebot explain: replayed snapshot by snapshot")
    (decision,) = json.loads(done.stdout)
    assert decision["first_blocker"] == "MARKET_DATA_REFUSED"
    check = next(c for c in decision["checks"] if c["id"] == "market_data_sane")
    assert check["passed"] is False and "ETHUSDT price" in check["detail"] and "refused" in check["detail"]
    assert run(str(path), "--symbol", "ETHUSDT", "--format", "json", "--replay", "scalar").stdout == done.stdout


def test_a_symbol_without_data_is_blocked_by_the_missing_data(tmp_path):
    """SOLUSDT is in the snapshots but never carries a price or a candle: the first blocker is
    the missing data, named, not the vote's too-few-aligned."""
    raw = _snapshots(20)
    for snapshot in raw:
        snapshot["symbols"]["SOLUSDT"] = {}
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in raw), encoding="utf-8")
    done = run(str(path), "--symbol", "SOLUSDT", "--replay", "scalar")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2].startswith("requirements: market_data_present → MARKET_DATA_MISSING, two_aligned → ")
    assert lines[-1] == (
        "decision: NO_TRADE, first blocker MARKET_DATA_MISSING: price, liquidations, exchange_netflow, "
        "funding_rate, candles_1m, order_book, open_interest missing"
    )
    btc = run(str(path), "--symbol", "BTCUSDT", "--replay", "scalar")  # data, no alignment: the vote's reason
    assert btc.stdout.splitlines()[-1] == "decision: NO_TRADE, first blocker SIGNAL_TOO_FEW_ALIGNED"


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
