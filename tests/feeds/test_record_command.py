"""`rulebot record` in-process on an in-test venue (compose.venue_client patched): what it
writes is the snapshot recording `rulebot dry-run` replays."""

from __future__ import annotations

import json

from click.testing import CliRunner

from adapters.snapshots.files import read_snapshots
from engine.cli import compose
from engine.cli.app import main
from engine.ports import VenueFatal
from tests.feeds.fakes import FakeMarket, WallTime


def _patch(monkeypatch, market: FakeMarket) -> dict:
    asked: dict = {}

    def client(plan, venue_id, *, base_url=None, keys=True):
        asked.update(venue=venue_id, base_url=base_url, keys=keys)
        return market

    monkeypatch.setattr(compose, "venue_client", client)
    return asked


def test_record_writes_a_snapshot_per_cycle_that_dry_run_replays(monkeypatch, tmp_path):
    market = FakeMarket(WallTime())
    asked = _patch(monkeypatch, market)
    out = tmp_path / "rec"
    result = CliRunner().invoke(
        main,
        [
            "record",
            "--venue",
            "kraken_futures",
            "--symbols",
            "BTCUSDT,ETHUSDT",
            "--out",
            str(out),
            "--cycles",
            "1",
            "--base-url",
            "http://127.0.0.1:9",
        ],
    )
    assert result.exit_code == 0, result.output
    assert asked == {"venue": "kraken_futures", "base_url": "http://127.0.0.1:9", "keys": False}
    assert "record: 1 snapshot(s) of BTCUSDT, ETHUSDT from kraken_futures" in result.output
    [path] = sorted(out.iterdir())
    [(snapshot, problems)] = list(read_snapshots(path))
    assert problems == [] and set(snapshot.symbols) == {"BTCUSDT", "ETHUSDT"}
    assert snapshot.symbols["BTCUSDT"].values["price"] == 100_000.0
    replay = CliRunner().invoke(main, ["dry-run", str(path), "--format", "json"])
    assert replay.exit_code == 0, replay.output
    replayed = json.loads(replay.output)
    assert (replayed["cycles"], replayed["start"]) == (1, snapshot.ts)


def test_a_symbol_the_venue_does_not_map_is_refused(monkeypatch, tmp_path):
    _patch(monkeypatch, FakeMarket(WallTime()))
    result = CliRunner().invoke(
        main, ["record", "--venue", "kraken_futures", "--symbols", "DOGEUSDT", "--out", str(tmp_path), "--cycles", "1"]
    )
    assert result.exit_code == 2 and "DOGEUSDT: not in kraken_futures's symbols" in result.output


def test_a_fatal_venue_error_stops_the_recording_with_exit_1(monkeypatch, tmp_path):
    market = FakeMarket(WallTime())
    market.fail["ticker"] = VenueFatal("403 Forbidden", venue="kraken_futures", endpoint="tickers", status=403)
    _patch(monkeypatch, market)
    result = CliRunner().invoke(
        main, ["record", "--venue", "kraken_futures", "--out", str(tmp_path / "rec"), "--duration", "1h"]
    )
    assert result.exit_code == 1, result.output
    assert "RB613" in result.output and "the venue refused for good" in result.output
