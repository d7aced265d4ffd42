"""Hot reload in a real `rulebot run --paper` process on the bundled sample (a tail feed of its
snapshots as JSON lines): every way an editor or a deployment changes the rules gives exactly
one reload; a valid set becomes live, an invalid one never does; every decision names one
complete version id, the one live when it was made.

The rules are a copy of the default set reached through a symlink (``rules -> v1``) so that a
deployment's link swap is one of the edits, with one change: the bot cycle every second
instead of every minute, so that a decision follows each edit within a second of wall time.
Each edit is followed by: wait for its reload record (logs/reloads.jsonl), check its outcome,
append two snapshots, wait for their decisions and check the version they carry.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.bot.reload import compile_plan
from engine.common.errors import RuleSetInvalid
from tests.bot.running_bot import RunningBot, sample_lines, wait_for
from tests.lifecycle.processes import ROOT

pytestmark = pytest.mark.slow

VERSION = re.compile(r"rs-[0-9a-f]{16}")
HURST = "paper: {trending_above: 0.55, mean_reverting_below: 0.45}"  # signals.yaml
MEDIUM = "{name: MEDIUM, min_score: 0.50, size_multiplier: 1.3}"  # gates.yaml
START = 30  # snapshots in the feed when the bot starts
DECISION_LOGS = ("predictive_signals.jsonl", "signal_universe.jsonl", "exit_decisions.jsonl")


def hurst(value: str) -> Callable[[str], str]:
    return lambda text: _once(text, HURST, HURST.replace("0.55", value))


def _once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} is not in the file exactly once"
    return text.replace(old, new)


def in_place(path: Path, text: str) -> None:
    """Save in place: truncate and write the same inode (one open, one write)."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def rename_save(path: Path, text: str) -> None:
    """Write a hidden temporary file beside it, then rename it over the file."""
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def delete_and_create(path: Path, text: str) -> None:
    path.unlink()
    with open(path, "x", encoding="utf-8") as out:
        out.write(text)


class Scenario:
    """The running bot, its feed and what the test expects of it."""

    def __init__(self, tmp: Path, bot: RunningBot, lines: list[str], feed: Path, link: Path, live: str):
        self.tmp, self.bot, self.lines, self.feed, self.link = tmp, bot, lines, feed, link
        self.fed = START
        self.edits = 0
        self.live = live
        self.accepted = {live}
        self.refused: list[dict] = []
        self.symbols = len(compile_plan(str(link), None).ruleset.symbols)  # one decision each per snapshot

    def reloaded(self, outcome: str) -> dict:
        """Wait for the reload record of the edit just made; it is the only new one."""
        self.edits += 1

        def arrived() -> list[dict] | None:
            records = self.bot.log("reloads.jsonl")
            return records if len(records) >= self.edits else None

        records = wait_for(arrived, f"the reload of edit {self.edits}", self.bot)
        assert len(records) == self.edits, f"edit {self.edits} gave {len(records) - self.edits + 1} reloads"
        record = records[-1]
        assert record["old_version"] == self.live, record
        assert record["outcome"] == outcome, record
        if outcome == "ok":
            expected = compile_plan(str(self.link), None).version  # what `rulebot validate` says of the folder
            assert record["new_version"] == expected and record["errors"] == [], record
            self.live = expected
            self.accepted.add(expected)
        else:
            assert record["new_version"] is None and record["errors"], record
            with pytest.raises(RuleSetInvalid):
                compile_plan(str(self.link), None)
            self.refused.append(record)
        return record

    def decisions_use_the_live_version(self, count: int = 2) -> None:
        """Append ``count`` snapshots; their decisions (each symbol's) carry the live version,
        and no reload arrived meanwhile (an edit gives one reload, not one then another)."""
        new = self.lines[self.fed : self.fed + count]
        self.fed += count
        with open(self.feed, "a", encoding="utf-8") as out:
            out.write("".join(new))
        wanted = {float(line.split('"ts":', 1)[1].split(",", 1)[0]) for line in new}

        def decided() -> list[dict] | None:
            records = [r for r in self.bot.log("signal_universe.jsonl") if r["ts"] in wanted]
            return records if len(records) == len(wanted) * self.symbols else None

        records = wait_for(decided, f"the decisions of snapshots {self.fed - count}..{self.fed - 1}", self.bot)
        assert {r["version"] for r in records} == {self.live}
        assert len(self.bot.log("reloads.jsonl")) == self.edits


@pytest.fixture
def scenario(tmp_path: Path) -> Iterator[Scenario]:
    v1 = tmp_path / "v1"
    shutil.copytree(ROOT / "rules", v1)
    schedules = v1 / "schedules.yaml"
    schedules.write_text(
        _once(schedules.read_text(encoding="utf-8"), "{id: bot_cycle, every: 60s", "{id: bot_cycle, every: 1s"),
        encoding="utf-8",
    )
    link = tmp_path / "rules"
    link.symlink_to("v1", target_is_directory=True)
    lines = sample_lines(tmp_path / "sample.jsonl")
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(lines[:START]), encoding="utf-8")
    bot = RunningBot(link, feed, tmp_path / "state", tmp_path / "logs")
    try:
        live = bot.wait_ready()
        assert live == compile_plan(str(link), None).version
        yield Scenario(tmp_path, bot, lines, feed, link, live)
    finally:
        bot.kill()


def test_every_kind_of_edit_gives_one_reload_and_decisions_name_the_live_version(scenario: Scenario) -> None:
    s = scenario
    signals = s.link / "signals.yaml"
    good = signals.read_text(encoding="utf-8")
    s.decisions_use_the_live_version()
    first = s.live

    # valid, saved in place
    in_place(signals, hurst("0.56")(good))
    s.reloaded("ok")
    s.decisions_use_the_live_version()

    # invalid (a misspelt key): the live plan stays, the errors are validate's, located
    in_place(signals, _once(hurst("0.56")(good), "trending_above: 0.56", "trending_abov: 0.56"))
    record = s.reloaded("invalid")
    assert any("signals.yaml:" in line and "trending_abov" in line for line in record["errors"]), record["errors"]
    s.decisions_use_the_live_version()

    # a partial write (the writer stopped half way): refused, then its completion goes live
    in_place(signals, good[: len(good) // 2])
    s.reloaded("invalid")
    s.decisions_use_the_live_version()
    in_place(signals, hurst("0.57")(good))
    s.reloaded("ok")
    s.decisions_use_the_live_version()

    # rename-save (a temporary file renamed over the rule file)
    rename_save(signals, hurst("0.58")(good))
    s.reloaded("ok")
    s.decisions_use_the_live_version()

    # delete and create
    delete_and_create(signals, hurst("0.59")(good))
    s.reloaded("ok")
    s.decisions_use_the_live_version()

    # a symlink swap of the whole folder: rules -> v1 becomes rules -> v2, atomically
    v2 = s.tmp / "v2"
    shutil.copytree(s.tmp / "v1", v2)
    (v2 / "signals.yaml").write_text(hurst("0.60")(good), encoding="utf-8")
    (s.tmp / "rules.new").symlink_to("v2", target_is_directory=True)
    os.replace(s.tmp / "rules.new", s.link)
    s.reloaded("ok")
    s.decisions_use_the_live_version()

    # a change of two files at once, in the new target (the watch followed the link): one version
    gates = s.link / "gates.yaml"
    two = {
        signals.name: hurst("0.61")(good),
        gates.name: _once(gates.read_text(encoding="utf-8"), MEDIUM, MEDIUM.replace("1.3", "1.4")),
    }
    halves = set()
    for name, text in two.items():  # the version of each file's change alone, compiled apart
        alone = s.tmp / f"alone-{name}"
        shutil.copytree(v2, alone)
        (alone / name).write_text(text, encoding="utf-8")
        halves.add(compile_plan(str(alone), None).version)
    in_place(signals, two[signals.name])
    in_place(gates, two[gates.name])
    record = s.reloaded("ok")
    assert record["new_version"] not in halves and len(halves) == 2  # both files are in the one version
    s.decisions_use_the_live_version()

    code, out, err = s.bot.stop()
    assert code == 0, err
    assert f"{s.edits} reload(s)" in out and "stopped by SIGTERM" in out and f"version {s.live}" in out, out
    assert len(s.bot.log("reloads.jsonl")) == s.edits == 8

    # every decision of the run: one complete version id, of a set that went live
    assert len(s.accepted) == 7 and first in s.accepted
    for name in DECISION_LOGS:
        for record in s.bot.log(name):
            assert VERSION.fullmatch(record["version"]), (name, record)
            assert record["version"] in s.accepted, (name, record)
    for trade in s.bot.log("executed_trades.jsonl"):
        assert {trade["entry_version"], trade["exit_version"]} <= s.accepted, trade
