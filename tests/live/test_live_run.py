"""`rulebot run --live` as a real process (tests/live/live_child.py: the real CLI, its venue
registry building the in-process fake venue): the start refuses when the state database and
the venue disagree, either way; in step, it reconciles, places the exchange-side stop of a
position found without one, trades (the bot-side stop closes the position, the resting stop
is cancelled), and no file it wrote nor its output shows the keys."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from adapters.store.state import StateStore
from engine.ports import Transition
from engine.trading.positions import OpenPosition
from tests.lifecycle.processes import HUNG, ROOT, child_env, run_cli

KEY = f"LEAKCANARY-{uuid.uuid4().hex[:12]}"
SECRET_TEXT = f"LEAKCANARY-secret-{uuid.uuid4().hex[:12]}"
SECRET = base64.b64encode(SECRET_TEXT.encode()).decode()
QUANTITY = 0.01


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory) -> tuple[Path, float]:
    """The sample's first 20 snapshots as JSON lines, and its first BTCUSDT price."""
    folder = tmp_path_factory.mktemp("feed")
    done = run_cli(
        ["snapshots", "convert", str(ROOT / "data/sample/sample.snapshots.parquet"), "--out", str(folder / "all.jsonl")]
    )
    assert done.returncode == 0, done.stderr
    lines = (folder / "all.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[:20]
    (folder / "feed.jsonl").write_text("".join(lines), encoding="utf-8")
    return folder / "feed.jsonl", float(json.loads(lines[0])["symbols"]["BTCUSDT"]["price"])


def _seed(state: Path, entry: float) -> None:
    """A state database holding a long BTCUSDT position (opened before this run)."""
    state.mkdir(parents=True, exist_ok=True)
    position = OpenPosition(
        "e-seed", "BTCUSDT", "LONG", "kraken_futures", entry, QUANTITY, QUANTITY, 2.0, 1.0, "rs-seed"
    )
    with StateStore(str(state / "bot.db")) as store:
        store.apply(Transition(positions=(position,)))


def _run_live(tmp: Path, feed: Path, held: dict[str, float], price: float) -> subprocess.CompletedProcess[str]:
    book = tmp / "venue.json"
    book.write_text(json.dumps({"price": price, "cash": 10_000.0, "held": held}), encoding="utf-8")
    env = {
        **child_env(),
        "FAKE_VENUE_BOOK": str(book),
        "KRAKEN_FUTURES_API_KEY": KEY,
        "KRAKEN_FUTURES_API_SECRET": SECRET,
    }
    args = ["run", "--live", "--rules", str(ROOT / "rules"), "--feed", f"replay:{feed}"]
    args += ["--state", str(tmp / "state"), "--logs", str(tmp / "logs")]
    return subprocess.run(
        [sys.executable, "-m", "tests.live.live_child", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=HUNG,
    )


def test_a_position_at_the_venue_unknown_to_the_state_refuses_the_start(tmp_path, snapshots):
    feed, price = snapshots
    done = _run_live(tmp_path, feed, {"BTCUSDT": QUANTITY}, price)
    assert done.returncode == 1, done.stderr
    assert "RB617" in done.stderr and "BTCUSDT: the state holds flat 0, the venue long 0.01" in done.stderr
    with StateStore(str(tmp_path / "state" / "bot.db")) as store:
        assert store.orders() == [] and store.cursor("snapshot_ts") is None  # nothing was traded


def test_a_position_in_the_state_the_venue_does_not_hold_refuses_the_start(tmp_path, snapshots):
    feed, price = snapshots
    _seed(tmp_path / "state", price)
    done = _run_live(tmp_path, feed, {}, price)
    assert done.returncode == 1, done.stderr
    assert "BTCUSDT: the state holds long 0.01, the venue flat 0" in done.stderr
    with StateStore(str(tmp_path / "state" / "bot.db")) as store:
        assert store.orders() == [] and len(store.open_positions()) == 1


def test_live_run_reconciles_protects_trades_and_leaks_no_key(tmp_path, snapshots):
    feed, price = snapshots
    entry = round(price * 1.05, 1)  # the first snapshot is 4.8 % below the entry: past the 2.5 % stop
    _seed(tmp_path / "state", entry)
    done = _run_live(tmp_path, feed, {"BTCUSDT": QUANTITY}, price)
    assert done.returncode == 0, done.stderr
    assert "live on kraken_futures" in done.stderr and "reconciled with kraken_futures" in done.stderr
    with StateStore(str(tmp_path / "state" / "bot.db")) as store:
        orders = {o.order_type: o for o in store.orders()}
        [trade] = store.trades()
        open_positions = store.open_positions()
    stop = orders["stop"]
    assert stop.reduce_only and stop.side == "sell" and stop.quantity == QUANTITY
    assert stop.status == "cancelled"  # the position closed: its resting stop went with it
    assert orders["market"].status == "filled" and orders["market"].reduce_only
    assert trade.exit_reason == "STOP_LOSS" and trade.symbol == "BTCUSDT" and open_positions == []
    assert "1 trade(s)" in done.stdout
    _scan(tmp_path, done)


def _scan(tmp: Path, done: subprocess.CompletedProcess[str]) -> None:
    """Neither the key, the secret, nor the text the secret decodes to, anywhere rulebot wrote."""
    canaries = (KEY, SECRET, SECRET_TEXT)
    texts = {"stdout": done.stdout, "stderr": done.stderr}
    for folder in (tmp / "state", tmp / "logs"):
        for path in folder.rglob("*"):
            if path.is_file():
                texts[str(path)] = path.read_bytes().decode("latin-1")
    assert len(texts) > 4, sorted(texts)  # the state database and the logs were scanned
    leaks = [(where, canary) for where, text in texts.items() for canary in canaries if canary in text]
    assert leaks == []
    assert "[REDACTED]" in done.stderr  # the venue echoed the key in an error: it was logged, redacted
    assert os.environ.get("KRAKEN_FUTURES_API_KEY") != KEY  # the keys lived in the child's environment only
