"""`rulebot record` as a real process against the fake Kraken Futures on loopback, on a copy
of the rules whose bot cycle runs every second, then `rulebot dry-run` over what it wrote:
every recorded cycle replayed, at the recorded times, from the venue's prices."""

from __future__ import annotations

import json
import time

from tests.e2e.fake_market import KEY_ENV, CanaryKraken, serving
from tests.e2e.processes import fast_rules, gunzip, leaks, rulebot
from tests.venues.fakes.kraken_futures import V3

CYCLES = 3


def test_record_writes_a_snapshot_per_cycle_from_the_venue_that_dry_run_replays(tmp_path):
    rules = fast_rules(tmp_path)
    out = tmp_path / "recorded"
    venue = CanaryKraken(clock=time.time)
    with serving(venue) as server:
        args = ["record", "--venue", "kraken_futures", "--base-url", server.url, "--out", str(out)]
        args += ["--cycles", str(CYCLES), "--rules", str(rules), "--intel-cache", str(tmp_path / "intel-cache")]
        done = rulebot(args, KEY_ENV)  # keys in the environment: recording needs none, and shows none
    assert done.returncode == 0, done.stderr
    assert "rulebot record: recording BTCUSDT, ETHUSDT, SOLUSDT from kraken_futures every 1 s" in done.stderr
    assert f"record: {CYCLES} snapshot(s) of BTCUSDT, ETHUSDT, SOLUSDT from kraken_futures" in done.stdout
    assert sum(path == V3 + "/tickers/PF_XBTUSD" for _, path in venue.calls) >= CYCLES  # read from the fake
    assert venue.signed == 0 and venue.auth_failures == 0  # public data only: nothing signed

    files = sorted(out.iterdir())
    assert files and all(f.name.endswith(".jsonl.gz") for f in files)
    lines = [json.loads(line) for f in files for line in gunzip(f.read_bytes()).splitlines()]
    assert len(lines) == CYCLES
    assert [line["symbols"]["BTCUSDT"]["price"] for line in lines] == [60000.0] * CYCLES
    assert lines[0]["symbols"]["SOLUSDT"]["price"] == 150.0
    assert all(b["ts"] > a["ts"] for a, b in zip(lines, lines[1:], strict=False))

    replay = rulebot(["dry-run", *map(str, files), "--rules", str(rules), "--format", "json"])
    assert replay.returncode == 0, replay.stderr
    replayed = json.loads(replay.stdout)
    assert replayed["cycles"] == CYCLES
    assert (replayed["start"], replayed["end"]) == (lines[0]["ts"], lines[-1]["ts"])
    assert replayed["symbols"] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"] and replayed["market_data"]["refused"] == 0

    found, scanned = leaks([out, tmp_path / "intel-cache"], {"stdout": done.stdout, "stderr": done.stderr})
    assert found == [] and scanned >= 3
