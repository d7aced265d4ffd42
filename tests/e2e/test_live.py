"""`rulebot run --live --base-url … --feed live` as a real process against the fake Kraken
Futures on loopback: the real client, its real signing checked by the fake, the real live
broker, reconciliation, protective stops, state and logs. The start refuses when the venue's
instruments differ from the rules, and when the venue holds a position the state does not
know; in step, it reconciles, rests a reduce-only stop at the venue for the position found without one, trades when the price falls through the
stop (the bot-side backup closes the position, the resting stop is cancelled), and records
the snapshots it traded on, which `rulebot dry-run` then replays. Then the scan: the canary
keys in no file of the state, the logs, the recording, the dry-run's outputs and report,
nor any captured output."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.store.state import StateStore
from engine.ports import Transition
from engine.trading.positions import OpenPosition
from tests.e2e.fake_market import KEY, KEY_ENV, CanaryKraken, serving
from tests.e2e.processes import command, env, fast_rules, gunzip, leaks, no_canary_in_environment, rulebot, wait_for
from tests.lifecycle.processes import HUNG, ROOT
from tests.venues.fakes.kraken_futures import V3

ENTRY = Decimal("60000")  # the fake's BTC price at the start
FALLEN = Decimal("57000")  # 5 % below the entry: past the stop
QUANTITY = "0.01"


@pytest.fixture(scope="module")
def rules(tmp_path_factory) -> Path:
    return fast_rules(tmp_path_factory.mktemp("rules"))


def seed(state: Path) -> None:
    """A state database holding a long BTCUSDT position opened a minute before this run (long
    held positions are force-exited by the timing tier, which is not what this test is about)."""
    state.mkdir(parents=True, exist_ok=True)
    position = OpenPosition(
        "e-seed",
        "BTCUSDT",
        "LONG",
        "kraken_futures",
        float(ENTRY),
        float(QUANTITY),
        float(QUANTITY),
        2.0,
        time.time() - 60,
        "rs-seed",
    )
    with StateStore(str(state / "bot.db")) as store:
        store.apply(Transition(positions=(position,)))


def live_args(url: str, rules: Path, tmp: Path, mode: str = "--live", feed: str = "live") -> list[str]:
    return ["run", mode, "--base-url", url, "--feed", feed, "--rules", str(rules)] + [
        "--state",
        str(tmp / "state"),
        "--logs",
        str(tmp / "logs"),
    ]


@pytest.mark.parametrize(
    ("at_venue", "in_state", "said"),
    [
        (True, False, "BTCUSDT: the state holds flat 0, the venue long 0.01"),
        (False, True, "BTCUSDT: the state holds long 0.01, the venue flat 0"),
    ],
    ids=["unknown-to-the-state", "unknown-to-the-venue"],
)
def test_positions_that_differ_refuse_the_start_saying_what_differs(tmp_path, rules, at_venue, in_state, said):
    venue = CanaryKraken(clock=time.time)
    if at_venue:
        venue.hold("PF_XBTUSD", QUANTITY, str(ENTRY))
    if in_state:
        seed(tmp_path / "state")
    with serving(venue) as server:
        done = rulebot(live_args(server.url, rules, tmp_path), KEY_ENV)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "RB617" in done.stderr and said in done.stderr
    assert "Traceback" not in done.stderr
    assert venue.sent_orders() == 0 and venue.auth_failures == 0 and venue.signed > 0  # asked, signed, sent nothing
    with StateStore(str(tmp_path / "state" / "bot.db")) as store:
        assert store.orders() == [] and store.trades() == []
        assert len(store.open_positions()) == (1 if in_state else 0)
    found, _ = leaks([tmp_path / "state", tmp_path / "logs"], {"stdout": done.stdout, "stderr": done.stderr})
    assert found == []


def test_instruments_that_differ_from_the_rules_refuse_the_start_naming_the_difference(tmp_path, rules):
    venue = CanaryKraken(clock=time.time)
    xbt = next(i for i in venue.instruments if i["symbol"] == "PF_XBTUSD")
    xbt["tickSize"] = 0.5  # rules/venues.yaml: tick_size 1
    with serving(venue) as server:
        done = rulebot(live_args(server.url, rules, tmp_path), KEY_ENV)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "RB616" in done.stderr and "PF_XBTUSD" in done.stderr and "0.5" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert venue.sent_orders() == 0 and not any(path.endswith("/sendorder") for _, path in venue.calls)
    with StateStore(str(tmp_path / "state" / "bot.db")) as store:
        assert store.orders() == [] and store.trades() == []


def started(args: list[str], extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``rulebot ARGS`` started as a child, its output captured."""
    return subprocess.Popen(
        command(args), cwd=ROOT, env=env(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def stopped(child: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGTERM to a child still running (the bot finishes its cycle and exits 0); its output."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
    return child.communicate(timeout=HUNG)


def trades_logged(logs: Path) -> list[dict]:
    path = logs / "executed_trades.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.endswith("}")]


def recorded(logs: Path) -> list[dict]:
    """The snapshots recorded so far (whole lines only: the file may be being written)."""
    folder = logs / "snapshots"
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    lines = [line for f in files for line in gunzip(f.read_bytes()).splitlines(keepends=True)]
    return [json.loads(line) for line in lines if line.endswith(b"\n")]


def test_live_run_reconciles_protects_trades_records_and_leaks_no_key(tmp_path, rules):
    seed(tmp_path / "state")
    logs = tmp_path / "logs"
    venue = CanaryKraken(clock=time.time)
    venue.hold("PF_XBTUSD", QUANTITY, str(ENTRY))
    venue.fault(V3 + "/accounts", f"apiKey {KEY} is not permitted")  # a careless venue echoes the key once
    with serving(venue) as server:
        child = started(live_args(server.url, rules, tmp_path), KEY_ENV)
        try:
            wait_for(lambda: bool(venue.trigger_orders()), "the protective stop at the venue", child=child)
            [stop] = venue.trigger_orders()
            assert (stop.symbol, stop.side, stop.kind, stop.reduce_only) == ("PF_XBTUSD", "sell", "stp", True)
            assert stop.quantity == Decimal(QUANTITY) and stop.stop_price is not None
            assert FALLEN < stop.stop_price < ENTRY
            wait_for(lambda: bool(recorded(logs)), "a snapshot at the entry price recorded", child=child)
            with venue.lock:
                venue.prices["PF_XBTUSD"] = FALLEN  # the market falls through the stop
            wait_for(lambda: bool(trades_logged(logs)), "the trade in executed_trades.jsonl", child=child)
            wait_for(lambda: stop.state == "cancelled", "the resting stop cancelled", child=child)
        finally:
            out, err = stopped(child)
    assert child.returncode == 0, err
    assert "reconciled with kraken_futures: 1 position(s), 0 open order(s) in step" in err
    assert "1 protective stop(s) placed at kraken_futures" in err
    assert "live on kraken_futures" in err and "1 trade(s)" in out and "Traceback" not in err
    assert "[REDACTED] is not permitted" in err  # the echoed key was logged, redacted

    [exit_order] = [o for o in venue.orders.values() if o.kind == "mkt"]
    assert (exit_order.side, exit_order.reduce_only, exit_order.state) == ("sell", True, "filled")
    assert venue.positions["PF_XBTUSD"][0] == 0 and venue.auth_failures == 0
    with StateStore(str(tmp_path / "state" / "bot.db")) as store:
        orders = {o.order_type: o for o in store.orders()}
        [trade] = store.trades()
        assert store.open_positions() == []
    assert orders["stop"].status == "cancelled" and orders["stop"].reduce_only
    assert orders["market"].status == "filled" and orders["market"].reduce_only
    assert (trade.symbol, trade.exit_reason, trade.exit_price) == ("BTCUSDT", "STOP_LOSS", float(FALLEN))
    [logged] = trades_logged(logs)
    assert logged["id"] == "e-seed" and logged["exit_reason"] == "STOP_LOSS"

    lines = recorded(logs)
    assert lines[0]["symbols"]["BTCUSDT"]["price"] == float(ENTRY)
    assert float(FALLEN) in {line["symbols"]["BTCUSDT"]["price"] for line in lines}
    report = tmp_path / "report"
    replay = rulebot(
        ["dry-run", *map(str, sorted((logs / "snapshots").iterdir())), "--rules", str(rules), "--format", "json"]
        + ["--out", str(report / "out"), "--report", str(report / "report.html")]
    )
    assert replay.returncode == 0, replay.stderr
    assert json.loads(replay.stdout)["cycles"] == len(lines)
    status = rulebot(["status", "--state", str(tmp_path / "state"), "--format", "json"])
    assert status.returncode == 0, status.stderr

    outputs = {"run stdout": out, "run stderr": err, "dry-run": replay.stdout + replay.stderr}
    outputs["status"] = status.stdout + status.stderr
    found, scanned = leaks([tmp_path / "state", logs, report], outputs)
    assert found == []
    assert scanned > 15  # the database, the logs, the recording, the dry-run's files and report were read
    no_canary_in_environment()


def test_paper_mode_on_the_live_feed_reads_the_venue_given_and_records_what_it_traded_on(tmp_path, rules):
    venue = CanaryKraken(clock=time.time)
    logs = tmp_path / "logs"
    with serving(venue) as server:
        child = started(live_args(server.url, rules, tmp_path, mode="--paper"))  # no keys: none needed
        try:
            wait_for(lambda: len(recorded(logs)) >= 2, "two snapshots recorded", child=child)
        finally:
            _out, err = stopped(child)
    assert child.returncode == 0, err
    assert "Traceback" not in err
    assert any(path == V3 + "/tickers/PF_XBTUSD" for _, path in venue.calls)  # prices from the host given
    assert venue.signed == 0 and venue.sent_orders() == 0  # the paper broker calls no venue
    assert recorded(logs)[0]["symbols"]["BTCUSDT"]["price"] == float(ENTRY)


@pytest.mark.parametrize(
    ("feed", "said"),
    [
        ("live:blofin", "--base-url points at the execution venue (kraken_futures); this feed reads blofin"),
        ("replay:x.jsonl", "--base-url is for --live or --feed live"),
    ],
    ids=["feed-of-another-venue", "replay"],
)
def test_a_base_url_that_would_not_reach_the_venue_traded_on_is_refused(tmp_path, rules, feed, said):
    done = rulebot(live_args("http://127.0.0.1:9", rules, tmp_path, mode="--paper", feed=feed))
    assert done.returncode == 2, done.stdout + done.stderr
    assert said in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "state").exists()


def halted(state: Path) -> list:
    """The trading-state changes to HALTED the bot has committed so far."""
    with StateStore(str(state / "bot.db")) as store:
        return [c for c in store.state_changes() if c.state == "HALTED"]


def test_keys_revoked_mid_run_engage_the_kill_switch_and_nothing_more_is_sent(tmp_path, rules):
    """The venue answers the exit order with ``authenticationError`` (keys revoked): the
    kill switch engages as the rules' kill_switch source (HALTED), no order is sent again,
    the position stays in the state with its stop resting at the venue, and the run still
    ends cleanly on SIGTERM."""
    seed(tmp_path / "state")
    logs = tmp_path / "logs"
    venue = CanaryKraken(clock=time.time)
    venue.hold("PF_XBTUSD", QUANTITY, str(ENTRY))
    with serving(venue) as server:
        child = started(live_args(server.url, rules, tmp_path), KEY_ENV)
        try:
            wait_for(lambda: bool(venue.trigger_orders()), "the protective stop at the venue", child=child)
            wait_for(lambda: bool(recorded(logs)), "the first cycle recorded", child=child)
            with venue.lock:  # the keys are revoked
                venue.faults.setdefault(V3 + "/sendorder", []).append("authenticationError")
                venue.prices["PF_XBTUSD"] = FALLEN  # the bot-side stop wants out: its order meets the revoked key
            wait_for(lambda: bool(halted(tmp_path / "state")), "the trading state HALTED", child=child)
            sent = sum(path == V3 + "/sendorder" for _, path in venue.calls)
            wait_for(lambda: len(recorded(logs)) >= 3, "two more cycles", child=child)
        finally:
            _out, err = stopped(child)
    assert child.returncode == 0, err
    assert "Traceback" not in err and "kill switch engaged" in err
    assert sum(path == V3 + "/sendorder" for _, path in venue.calls) == sent  # nothing sent after the halt
    [change] = halted(tmp_path / "state")
    assert change.source == "kill_switch" and "authenticationError" in change.reason
    with StateStore(str(tmp_path / "state" / "bot.db")) as store:
        assert [p.id for p in store.open_positions()] == ["e-seed"] and store.trades() == []
    assert venue.positions["PF_XBTUSD"][0] == Decimal(QUANTITY)
    assert [o.state for o in venue.trigger_orders()] == ["open"]  # the resting stop still protects it
