"""The loop's side of a reload, in process with the real parts (runner, SQLite store, replay
feed, reloader): a valid set that changes what a running bot cannot take is refused and the
live plan kept; a compile that raises is a failed attempt; both are recorded with what asked
for them, and the bot trades on. The reloads are made to land mid-replay by waiting, in the
step callback, for the reloader's outcome (never on time)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from engine.bot.clock import ReplayClock
from engine.bot.loop import Bot
from engine.bot.reload import Reloader, compile_plan
from engine.cli import compose
from engine.trading.runner import Runner
from tests.lifecycle.market import write
from tests.lifecycle.processes import HUNG, ROOT

MINUTES = 40


def test_a_refused_and_a_failed_reload_keep_the_live_plan_and_are_recorded(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    feed = compose.open_feed((f"replay:{write(tmp_path / 'feed.jsonl', minutes=MINUTES)}",))
    plan = compile_plan(str(rules), None)
    calls = {"n": 0}

    def compile_fn():  # the second attempt raises, as a bug in a kind's build would
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("boom in a kind's build")
        return compile_plan(str(rules), None)

    ready = threading.Event()
    with (
        compose.state_store(str(tmp_path / "bot.db")) as store,
        compose.RunLogs(str(tmp_path / "logs"), store, keep_s=plan.learning.logs_keep_s) as logs,
    ):
        runner = Runner(plan, compose.resumed_paper_broker(plan, store), store)
        steps = {"n": 0}

        def on_step() -> None:
            steps["n"] += 1
            if steps["n"] == 5:  # a valid edit a running bot cannot take: the paper broker's slippage
                paper = rules / "profiles" / "paper.yaml"
                paper.write_text(paper.read_text().replace("slippage_bps: 2 ", "slippage_bps: 3 "))
                reloader.request("edited: rules/profiles/paper.yaml")
            elif steps["n"] == 10:
                reloader.request("SIGHUP")
            else:
                return
            assert ready.wait(HUNG), "the reloader gave no outcome"
            ready.clear()

        bot = Bot(runner, feed, ReplayClock(None), compose.BotHost(logs, None), group_commits=True, on_step=on_step)
        reloader = Reloader(compile_fn, plan.version, prepare=bot.prepare, notify=ready.set)
        bot.attach(reloader)
        try:
            summary = bot.run()
        finally:
            reloader.stop()
            feed.close()
        reloads = store.reloads()
    assert summary.ended and summary.steps == MINUTES and summary.reloads == 2
    assert runner.plan.version == plan.version  # neither attempt changed the live plan
    refused, failed = reloads
    assert (refused.outcome, refused.old_version, refused.reason) == (
        "refused",
        plan.version,
        "edited: rules/profiles/paper.yaml",
    )
    assert refused.new_version not in (None, plan.version)
    assert refused.errors == (
        "paper_broker settings changed (starting balance, slippage): a reload cannot change it; "
        "restart the bot to apply it",
    )
    assert (failed.outcome, failed.new_version, failed.reason) == ("failed", None, "SIGHUP")
    assert any("boom in a kind's build" in e for e in failed.errors)
    lines = (tmp_path / "logs" / "reloads.jsonl").read_text().splitlines()
    assert len(lines) == 2 and '"outcome":"refused"' in lines[0] and '"outcome":"failed"' in lines[1]
