"""The dry-run fast path (columns, engine/replay/recording.py) yields exactly what the scalar path does:
the same signal records, market values and correlations at every cycle, and the same
trades, decisions, equity, jobs and fingerprint — on the bundled sample and on a synthetic
market — and it refuses (NotReplayable, so auto falls back) what it cannot replay exactly."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from adapters.paper.broker import PaperBroker
from adapters.snapshots.columnar import read_columnar, read_recording, write_columnar
from engine.language.compiler import compile_ruleset
from engine.market.snapshot import parse_snapshot
from engine.replay.columns.signals import ColumnSignals
from engine.replay.dryrun import dry_run, dry_run_recording
from engine.replay.memstate import MemoryState
from engine.replay.recording import NotReplayable, recording_from_snapshots
from engine.trading import exits
from engine.trading.correlation import ReturnCorrelation
from engine.trading.pipeline import correlation_window
from engine.trading.signals.engine import SignalEngine
from tests.dryrun.conftest import SAMPLE
from tests.lifecycle.market import snapshots as synthetic_snapshots

ROOT = Path(__file__).resolve().parents[2]

COMPARED = (
    "version",
    "profile",
    "start",
    "end",
    "cycles",
    "symbols",
    "interrupted",
    "fingerprint",
    "metrics",
    "equity",
    "prices",
    "trades",
    "decisions",
    "jobs",
    "open_positions",
    "coverage",
)


@pytest.fixture(scope="module")
def plans():
    return compile_ruleset(str(ROOT / "rules")).plans


def _scalar(plan, snapshots, **window) -> dict:
    result, _, _ = dry_run(plan, iter(snapshots), broker=PaperBroker.for_plan(plan), store=MemoryState(), **window)
    return result


def _columns(plan, recording, **window) -> dict:
    result, _, _ = dry_run_recording(plan, recording, broker=PaperBroker.for_plan(plan), store=MemoryState(), **window)
    return result


def _assert_same(fast: dict, scalar: dict) -> None:
    for key in COMPARED:
        assert fast[key] == scalar[key], key


def test_the_sample_replays_to_exactly_the_scalar_result(plans, sample, recording):
    scalar = _scalar(plans["paper"], sample)
    assert scalar["metrics"]["trades"] > 100  # the comparison covers real trading
    _assert_same(_columns(plans["paper"], recording), scalar)


def test_a_window_of_the_sample_under_the_live_profile_is_identical(plans, sample, recording):
    start, end = sample[3000].ts, sample[9000].ts
    _assert_same(
        _columns(plans["live"], recording, start=start, end=end), _scalar(plans["live"], sample, start=start, end=end)
    )


def test_a_synthetic_market_with_many_trades_is_identical(plans):
    market = [parse_snapshot(s)[0] for s in synthetic_snapshots(360)]
    scalar = _scalar(plans["paper"], market)
    assert scalar["metrics"]["trades"] >= 20
    _assert_same(_columns(plans["paper"], recording_from_snapshots(market)), scalar)


@pytest.fixture(scope="module")
def synthetic_market():
    return [parse_snapshot(s)[0] for s in synthetic_snapshots(360)]


@pytest.mark.parametrize("points", [1, 7, 179, 180, 181, 359, 360])
def test_price_charts_sampled_as_recorded_are_the_scalar_ones(plans, synthetic_market, monkeypatch, points):
    """The fast path keeps only the price points the result shows (_record_prices); they are
    sampled's, at limits where it keeps the last point too (180: 181 points) or every point."""
    monkeypatch.setattr("engine.replay.dryrun.PRICE_POINTS", points)
    scalar = _scalar(plans["paper"], synthetic_market)
    fast = _columns(plans["paper"], recording_from_snapshots(synthetic_market))
    assert fast["prices"] == scalar["prices"] and len(fast["prices"]["BTCUSDT"]) <= points + 1


def test_signal_records_market_values_and_correlations_match_cycle_by_cycle(plans, sample, recording):
    plan = plans["paper"]
    engine, columns = SignalEngine(plan), ColumnSignals(plan, recording)
    tracker = ReturnCorrelation(plan.ruleset.names(), **correlation_window(plan))
    from engine.replay.columns.correlation import CorrelationColumns, CorrelationCursor

    cursor = CorrelationCursor(
        CorrelationColumns(
            plan.ruleset.names(),
            candles={n: s.candles for n, s in recording.symbols.items()},
            **correlation_window(plan),
        ),
        columns,
        recording,
    )
    checked = 0
    for i, snapshot in enumerate(sample[:8000]):
        engine.update(snapshot)
        tracker.update(snapshot)
        columns.update(snapshot)
        if i % 13:
            continue
        for symbol in engine.symbols:
            record, expected = columns.evaluate(symbol, snapshot.ts), engine.evaluate(symbol, snapshot.ts)
            assert record.record() == expected, (i, symbol)  # the vote off the columns, the answers built
            assert record.cascade_active == expected.cascade_active, (i, symbol)
            assert columns.market_env(symbol) == engine.market_env(symbol), (i, symbol)
            assert columns.seen(symbol, "price") == engine.seen(symbol, "price")
        assert cursor.between("ETHUSDT", "BTCUSDT") == tracker.between("ETHUSDT", "BTCUSDT"), i
        checked += 1
    assert checked > 600


def test_the_active_mask_covers_every_non_neutral_vote(plans, sample, recording):
    plan = plans["paper"]
    engine, columns = SignalEngine(plan), ColumnSignals(plan, recording)
    for i, snapshot in enumerate(sample[:6000]):
        engine.update(snapshot)
        live = any(engine.evaluate(s, snapshot.ts).direction != "NEUTRAL" for s in engine.symbols)
        assert bool(columns.active[i]) == live, i


def test_a_recording_gives_back_the_snapshots_it_was_read_from(sample, recording):
    assert len(recording) == len(sample)
    for i in range(0, len(sample), 97):
        assert recording.snapshot(i) == sample[i]
    again = recording_from_snapshots(sample[:500])
    for i in range(0, 500, 7):
        assert again.snapshot(i) == sample[i]


# ------------------------------------------------------------------ what it refuses


def _market(count: int = 30) -> list[dict]:
    out = []
    for k in range(count):
        ts = 1_700_000_040.0 + 60 * k
        out.append(
            {
                "ts": ts,
                "symbols": {
                    "BTCUSDT": {"price": 100.0 + k, "candles": [[ts - 60, 99.5 + k, 101 + k, 99 + k, 100.0 + k, 1]]},
                    "ETHUSDT": {"price": 10.0, "candles": [[ts - 60, 10, 10, 10, 10, 1]]},
                },
            }
        )
    return out


def _refused(raw: list[dict], match: str) -> None:
    with pytest.raises(NotReplayable, match=match):
        recording_from_snapshots(parse_snapshot(s)[0] for s in raw).check_quiet_broker()


def test_histories_the_fast_path_cannot_replay_exactly_are_refused():
    book = _market()
    book[5]["symbols"]["BTCUSDT"]["book"] = {"bids": [[99, 1]], "asks": [[101, 1]]}
    _refused(book, "order book")
    gap = _market()
    del gap[7]["symbols"]["ETHUSDT"]
    _refused(gap, "same symbols")
    two = _market()
    two[3]["symbols"]["BTCUSDT"]["candles"].append([two[3]["ts"] - 30, 100, 101, 99, 100, 1])
    _refused(two, "candles")
    sparse_mark = _market()
    sparse_mark[4]["symbols"]["BTCUSDT"]["mark"] = 101.0
    _refused(sparse_mark, "mark is in some snapshots only")


def test_an_override_reading_a_changing_value_needs_the_scalar_path(plans, recording):
    plan = plans["paper"]
    component = plan.signals.components[0]
    when = next(o.when for c in plan.signals.components for o in c.overrides if o.when is not None)
    changing = dataclasses.replace(when, names=frozenset({"price"}))
    patched = dataclasses.replace(
        component,
        overrides=(dataclasses.replace(next(o for c in plan.signals.components for o in c.overrides), when=changing),),
    )
    signals = dataclasses.replace(plan.signals, components=(patched,) + tuple(plan.signals.components[1:]))
    with pytest.raises(NotReplayable, match="override reads price"):
        ColumnSignals(dataclasses.replace(plan, signals=signals), recording)


def test_a_sparse_file_is_replayed_by_the_scalar_path_and_the_cli_says_why(tmp_path):
    from click.testing import CliRunner

    from engine.cli import main

    raw = _market(40)
    del raw[10]["symbols"]["ETHUSDT"]
    path = tmp_path / "gap.snapshots.parquet"
    write_columnar([parse_snapshot(s)[0] for s in raw], path)
    with pytest.raises(NotReplayable):
        read_recording(path)
    out = CliRunner().invoke(main, ["dry-run", str(path), "--format", "json", "--rules", str(ROOT / "rules")])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["replay"].startswith("scalar (ETHUSDT is not in every snapshot")
    forced = CliRunner().invoke(main, ["dry-run", str(path), "--replay", "columns", "--rules", str(ROOT / "rules")])
    assert forced.exit_code == 2 and "--replay columns" in forced.output


def test_the_cli_takes_the_fast_path_on_the_sample_and_matches_scalar(tmp_path):
    from click.testing import CliRunner

    from engine.cli import main

    window = ["--from", "2025-05-25T00:00:00Z", "--to", "2025-05-27T00:00:00Z", "--rules", str(ROOT / "rules")]
    fast = CliRunner().invoke(main, ["dry-run", str(SAMPLE), "--format", "json", *window])
    slow = CliRunner().invoke(main, ["dry-run", str(SAMPLE), "--format", "json", "--replay", "scalar", *window])
    assert fast.exit_code == 0 and slow.exit_code == 0, fast.output + slow.output
    a, b = json.loads(fast.output), json.loads(slow.output)
    assert a.pop("replay") == "columns" and b.pop("replay") == "scalar"
    assert a == b and a["metrics"]["trades"] > 0
    assert np.isfinite(a["metrics"]["net_pnl_usd"])


def test_ctrl_c_on_the_fast_path_stops_cleanly_and_still_writes(tmp_path):
    """SIGINT reaches the child while it waits before its 400th step (of about 9,700; some
    trades are done by then), so it lands mid-run however fast or loaded the machine is."""
    import signal

    from tests.dryrun.paused_child import HUNG, start_paused

    out = tmp_path / "out"
    process, before = start_paused(400, ["dry-run", str(SAMPLE), "--out", str(out), "--format", "json"], cwd=ROOT)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=HUNG)
    assert process.returncode == 130, before + stderr.decode()
    summary = json.loads(stdout)
    assert summary["interrupted"] is True and summary["replay"] == "columns" and 0 < summary["cycles"] < 21600
    assert (out / "fingerprint.txt").read_text().strip() == summary["fingerprint"]
    trades = (out / "trades.jsonl").read_text().splitlines()
    assert 0 < len(trades) == summary["metrics"]["trades"]


def test_the_fast_path_matches_a_scalar_run_with_every_decision_in_full(plans, sample, recording):
    """The fast path stops decisions at their first blocker and skips NEUTRAL votes; a scalar
    run that evaluates every check and gate of every decision agrees on real data too."""
    from engine.replay.dryrun import DryRunState, compact_decision
    from engine.trading.runner import Runner, Sinks

    plan, end = plans["paper"], sample[7999].ts
    state = DryRunState()
    full_runner = Runner(
        plan,
        PaperBroker.for_plan(plan),
        MemoryState(),
        full_trail=True,
        sinks=Sinks(
            universe=lambda d: state.decisions.append(compact_decision(d)) if d.direction != "NEUTRAL" else None
        ),
    )
    full, _, _ = dry_run(
        plan, iter(sample[:8000]), broker=full_runner.broker, store=full_runner.store, runner=full_runner, state=state
    )
    fast = _columns(plan, recording, end=end)
    assert full["metrics"]["trades"] > 20
    assert fast["decisions"] == full["decisions"] and fast["fingerprint"] == full["fingerprint"]


FUTURES = ROOT.parent / "shared" / "data" / "raw" / "harthor-marketlab" / "user_data" / "data" / "binance" / "futures"


@pytest.mark.skipif(not FUTURES.is_dir(), reason="needs ../shared/data/raw (harthor-marketlab)")
def test_five_minute_bars_with_stored_candle_times_replay_identically(plans, tmp_path):
    """The benchmark's (b) shape — 5-minute bars as candles stamped at their close, so the
    candle time is stored and the price's is not — over three weeks of real BTC+ETH."""
    import pandas as pd

    frames = {
        name: pd.read_feather(FUTURES / f"{coin}_USDT_USDT-5m-futures.feather")
        for name, coin in (("BTCUSDT", "BTC"), ("ETHUSDT", "ETH"))
    }
    rows = {
        name: {
            int(t.timestamp()): (o, h, low, c, v)
            for t, o, h, low, c, v in zip(f["date"], f["open"], f["high"], f["low"], f["close"], f["volume"])
        }
        for name, f in frames.items()
    }
    common = sorted(set(rows["BTCUSDT"]) & set(rows["ETHUSDT"]))[:6000]
    market = [
        parse_snapshot(
            {
                "ts": ts + 300,
                "symbols": {
                    name: {"price": r[ts][3], "candles": [[ts, *r[ts]]], "candles_1m_ts": ts + 300}
                    for name, r in rows.items()
                },
            }
        )[0]
        for ts in common
    ]
    path = tmp_path / "bars.snapshots.parquet"
    write_columnar(market, path)
    scalar = _scalar(plans["paper"], read_columnar(path))
    assert scalar["metrics"]["trades"] > 20
    _assert_same(_columns(plans["paper"], read_recording(path)), scalar)


def _richer(raw: list[dict]) -> list[dict]:
    """The synthetic market plus a mark, hourly open interest stamped at the hour, and taker
    volumes: every input the fast path replays, with their own publication times."""
    out = []
    for k, snap in enumerate(raw):
        symbols = {}
        for name, sym in snap["symbols"].items():
            price = sym["price"]
            symbols[name] = {
                **sym,
                "mark": price * 1.0002,
                "open_interest_usd": 1e9 * (1 + 0.01 * ((k // 60) % 7)),
                "open_interest_ts": snap["ts"] - snap["ts"] % 3600,
                "taker_buy_usd": 1e6 + 1e4 * (k % 13),
                "taker_sell_usd": 1e6 + 1e4 * (k % 7),
            }
        out.append({**snap, "symbols": symbols})
    return out


def _thinner(raw: list[dict]) -> list[dict]:
    """The synthetic market where ETH never has funding or liquidations and fear & greed
    arrives only in the second half: components that are never fed, or fed late."""
    out = []
    for k, snap in enumerate(raw):
        eth = {key: v for key, v in snap["symbols"]["ETHUSDT"].items() if not key.startswith(("funding_rate", "liq_"))}
        snap = {**snap, "symbols": {**snap["symbols"], "ETHUSDT": eth}}
        if k < len(raw) // 2:
            snap = {key: v for key, v in snap.items() if not key.startswith("fear_greed")}
        out.append(snap)
    return out


SHAPES = {"plain": lambda raw: raw, "richer": _richer, "thinner": _thinner}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_synthetic_markets_of_several_shapes_replay_identically(plans, seed, shape):
    market = [parse_snapshot(s)[0] for s in SHAPES[shape](synthetic_snapshots(240, seed))]
    scalar = _scalar(plans["paper"], market)
    assert scalar["metrics"]["trades"] >= 3
    _assert_same(_columns(plans["paper"], recording_from_snapshots(market)), scalar)


@pytest.mark.parametrize("first, last", [(100, 100), (100, 101), (5000, 4000), (21599, 30000)])
def test_tiny_and_empty_windows_agree(plans, sample, recording, first, last):
    start = sample[first].ts if first < len(sample) else sample[-1].ts + 60
    end = sample[min(last, len(sample) - 1)].ts + (60 if last >= len(sample) else 0)
    _assert_same(
        _columns(plans["paper"], recording, start=start, end=end), _scalar(plans["paper"], sample, start=start, end=end)
    )


def _variant(tmp_path, edits: dict[str, tuple[str, str]]):
    """The default rules with text edits (file → (old, new)), compiled."""
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    for name, (old, new) in edits.items():
        text = (rules / name).read_text(encoding="utf-8")
        assert old in text, (name, old)
        (rules / name).write_text(text.replace(old, new), encoding="utf-8")
    return compile_ruleset(str(rules)).plans["paper"]


def test_a_bot_cycle_slower_than_the_snapshots_and_a_weighted_vote_replay_identically(tmp_path, sample, recording):
    """The bot trades every 5 minutes over 1-minute snapshots (the broker is not shown the
    cycles in between, positions stay open across them) and the vote goes by weight."""
    plan = _variant(
        tmp_path,
        {
            "schedules.yaml": ("{id: bot_cycle, every: 60s,", "{id: bot_cycle, every: 5m,"),
            "signals.yaml": ("direction_by: votes ", "direction_by: weight "),
        },
    )
    end = sample[9000].ts
    scalar = _scalar(plan, sample, end=end)
    assert scalar["metrics"]["trades"] > 10 and scalar["metrics"]["exposure_pct"] > 10
    _assert_same(_columns(plan, recording, end=end), scalar)


def test_an_input_arriving_without_its_companion_needs_the_scalar_path(plans):
    """Open interest published in a snapshot without a price: the scalar components take the
    reading only once a price comes, so the fast path refuses rather than guess."""
    raw = _market(30)
    for k, snap in enumerate(raw):
        snap["symbols"]["BTCUSDT"].update(open_interest_usd=1e9 + k, open_interest_ts=snap["ts"] - snap["ts"] % 600)
    del raw[6]["symbols"]["BTCUSDT"]["price"]  # the snapshot where a new OI reading arrives
    recording = recording_from_snapshots(parse_snapshot(s)[0] for s in raw)
    with pytest.raises(NotReplayable, match="price missing when open_interest arrived"):
        ColumnSignals(plans["paper"], recording)


def test_a_file_too_large_for_the_memory_budget_replays_snapshot_by_snapshot(monkeypatch):
    import adapters.snapshots.columnar as columnar

    assert read_recording(SAMPLE) is not None  # 43,200 rows fit the default budget
    monkeypatch.setattr(columnar, "RECORDING_BUDGET_BYTES", 2**20)
    with pytest.raises(NotReplayable, match=r"43,200 rows would take about .* GiB as columns"):
        read_recording(SAMPLE)


def _crash_and_squeeze(raw: list[dict]) -> list[dict]:
    """Every price falling to 55 % lower over minutes 600-640 and rising 70 % from there over
    minutes 800-830 (steep, but within the sanity layer's bounds, which a one-minute crash of
    that size would break): held longs are liquidated at the crash and held shorts at the squeeze."""
    out = []
    for k, snap in enumerate(raw):
        f = float(np.interp(k, [600, 640, 800, 830], [1.0, 0.45, 0.45, 0.77]))
        symbols = {
            name: {
                **sym,
                "price": sym["price"] * f,
                "bid": sym["bid"] * f,
                "ask": sym["ask"] * f,
                "candles": [[c[0], *(v * f for v in c[1:5]), c[5]] for c in sym["candles"]],
            }
            for name, sym in snap["symbols"].items()
        }
        out.append({**snap, "symbols": symbols})
    return out


def test_positions_held_through_funding_and_liquidation_replay_identically(plans):
    """With no exit but a far profit target, positions are held for hours: across funding
    times (paid on the cycles the fast path steps for them) and into liquidation."""
    plan = plans["paper"]
    target = plan.exits.tier("profit_target")
    far_params = exits.TIERS[target.kind].compile_params({"targets": ({"after": 0.0, "pnl_pct": 500.0},)})
    far = dataclasses.replace(target, params=far_params)
    held = dataclasses.replace(plan, exits=dataclasses.replace(plan.exits, tiers=(far,), priority=("profit_target",)))
    market = [parse_snapshot(s)[0] for s in _crash_and_squeeze(synthetic_snapshots(1000, 5))]
    scalar = _scalar(held, market)
    reasons = scalar["metrics"]["exit_reasons"]
    assert reasons.get("LIQUIDATION", 0) >= 1 and any(t["funding"] != 0 for t in scalar["trades"])
    _assert_same(_columns(held, recording_from_snapshots(market)), scalar)


def test_limit_entries_waiting_across_cycles_replay_identically(tmp_path, sample, recording):
    """Limit entries rest on the passive side and fill (or not) cycles later: the runner is
    stepped while an order is out, and what the broker was not shown in between must not
    change a fill."""
    plan = _variant(tmp_path, {"risk.yaml": ("entry_type: market ", "entry_type: limit ")})
    end = sample[9000].ts
    scalar = _scalar(plan, sample, end=end)
    assert scalar["metrics"]["trades"] > 10  # the comparison covers real trading
    _assert_same(_columns(plan, recording, end=end), scalar)


def _split(sample, tmp_path, cuts) -> list[str]:
    """The sample's first cycles written as consecutive files, cut at ``cuts``."""
    bounds = [0, *cuts]
    paths = []
    for k, (a, b) in enumerate(zip(bounds, bounds[1:])):
        path = tmp_path / f"part{k}.snapshots.parquet"
        write_columnar(sample[a:b], path)
        paths.append(str(path))
    return paths


def test_several_files_in_time_order_take_the_fast_path_as_one_recording(tmp_path, sample):
    """Monthly files and the like: read as one recording, the run equals the scalar path
    reading them one after the other; given out of order they go scalar, and say why."""
    from click.testing import CliRunner

    from engine.cli import main

    paths = _split(sample, tmp_path, [1500, 2200, 4000])
    whole = read_recording(*paths)
    assert len(whole) == 4000 and np.array_equal(whole.ts, read_recording(SAMPLE).ts[:4000])
    rules = ["--rules", str(ROOT / "rules"), "--format", "json"]
    fast = CliRunner().invoke(main, ["dry-run", *paths, *rules])
    slow = CliRunner().invoke(main, ["dry-run", *paths, *rules, "--replay", "scalar"])
    assert fast.exit_code == 0 and slow.exit_code == 0, fast.output + slow.output
    a, b = json.loads(fast.output), json.loads(slow.output)
    assert a.pop("replay") == "columns" and b.pop("replay") == "scalar"
    assert a == b and a["metrics"]["trades"] > 0
    shuffled = CliRunner().invoke(main, ["dry-run", paths[1], paths[0], paths[2], *rules])
    assert shuffled.exit_code == 0, shuffled.output
    summary = json.loads(shuffled.stdout)
    assert "does not start after" in summary["replay"]
    assert summary["cycles"] == 4000 - 1500  # part0 goes back in time: skipped, reported
    assert "RB714" in shuffled.stderr and "give the files in time order" in shuffled.stderr


@pytest.mark.parametrize("only", [{"BTCUSDT"}, {"ETHUSDT"}, {"SOLUSDT"}])
def test_symbols_left_out_replay_identically(plans, sample, recording, only):
    """--symbols: the recording without the other symbols is what the scalar path reads
    (snapshots stripped of them) — ETH alone loses its leader, SOL is in the rules only."""
    end = sample[6000].ts
    scalar = _scalar(plans["paper"], sample, end=end, symbols=only)
    _assert_same(_columns(plans["paper"], recording.only(only), end=end), scalar)
    assert scalar["symbols"] == sorted(only & set(recording.symbols))


def test_vs_on_the_fast_path_shares_one_reading_and_matches_scalar(tmp_path):
    """--vs replays the same recording twice (read once): each side and the differing
    decisions equal the scalar path's."""
    import shutil

    from click.testing import CliRunner

    from engine.cli import main

    other = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", other)
    text = (other / "signals.yaml").read_text(encoding="utf-8")
    (other / "signals.yaml").write_text(text.replace("min_aligned: 2 ", "min_aligned: 3 "), encoding="utf-8")
    args = [
        "dry-run",
        str(SAMPLE),
        "--vs",
        str(other),
        "--rules",
        str(ROOT / "rules"),
        "--from",
        "2025-05-25T00:00:00Z",
        "--to",
        "2025-05-26T12:00:00Z",
        "--out",
    ]
    fast = CliRunner().invoke(main, [*args, str(tmp_path / "fast")])
    slow = CliRunner().invoke(main, [*args, str(tmp_path / "slow"), "--replay", "scalar"])
    assert fast.exit_code == 0 and slow.exit_code == 0, fast.output + slow.output
    a, b = (json.loads((tmp_path / side / "result.json").read_text()) for side in ("fast", "slow"))
    assert a["vs"]["replay"] == "columns" and b["vs"]["replay"] == "scalar"
    assert a["differing_decisions"] == b["differing_decisions"] and a["differing_decisions"]
    for key in COMPARED:
        assert a[key] == b[key] and a["vs"][key] == b["vs"][key], key
