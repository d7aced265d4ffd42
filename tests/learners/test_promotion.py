"""The promotion gate (engine/learners/promotion.py, rules/learning.yaml ``promotion``) on the
bundled sample cut to its first three days: the held-out window is the data window's last
30 %; a candidate equal to live is promoted (not worse), one that sizes every trade larger
on a losing stretch is rejected with its numbers; the tolerance works as documented (the
difference candidate − live, in points of net return, must reach min_improvement_pct); no
evidence (no snapshot, no trade) promotes nothing; bad input is a clear RB540."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from adapters.paper.broker import PaperBroker
from adapters.snapshots.columnar import read_recording
from engine.language.compiler import compile_ruleset
from engine.learners.promotion import HeldOut, PromotionError, held_out, holdout_window, promote
from engine.market.snapshot import Snapshot
from engine.replay.dryrun import dry_run_recording
from engine.replay.memstate import MemoryState

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
DAYS = 3 * 1440  # the first three days of one-minute snapshots


@pytest.fixture(scope="module")
def live():
    return compile_ruleset(str(ROOT / "rules")).plans["paper"]


@pytest.fixture(scope="module")
def recording():
    return read_recording(SAMPLE).head(DAYS)


@pytest.fixture(scope="module")
def window(recording, live):
    return held_out(recording, float(recording.ts[0]), float(recording.ts[-1]), live.learning)


def learned(tmp_path_factory, live, values: dict[str, float]):
    """The paper plan of the default rules with one learned overlay setting ``values``."""
    rules = tmp_path_factory.mktemp("rules") / "rules"
    shutil.copytree(ROOT / "rules", rules)
    lines = "".join(f"  {path}: {value}\n" for path, value in values.items())
    (rules / "learned" / "0001-test.yaml").write_text(
        "kind: learned\nlearner: test\n"
        f"base_version: {live.version}\n"
        'created: "2025-05-22T08:00:00Z"\n'
        f"values:\n{lines}"
        'provenance: {data_from: "2025-05-19", data_to: "2025-05-22", trades: 22}\n'
    )
    plan = compile_ruleset(str(rules)).plans["paper"]
    assert plan.version != live.version
    return plan


@pytest.fixture(scope="module")
def bigger(tmp_path_factory, live):
    """Each trade sized 11 % of equity instead of 10 %: on the sample's losing stretch, a larger loss."""
    return learned(tmp_path_factory, live, {"risk.sizing.base_allocation_pct": 11})


@pytest.fixture(scope="module")
def smaller(tmp_path_factory, live):
    return learned(tmp_path_factory, live, {"risk.sizing.base_allocation_pct": 9})


def gate(live, candidate, window, spec=None, **options):
    return promote(live, candidate, window, spec or live.learning, broker_for=PaperBroker.for_plan, **options)


def tolerance(live, pct: float):
    return dataclasses.replace(live.learning, min_improvement_pct=pct)


# ------------------------------------------------------------------ the window


def test_the_held_out_window_is_the_last_30_percent_of_the_data_window(live, recording, window):
    first, last = float(recording.ts[0]), float(recording.ts[-1])
    assert live.learning.holdout_fraction == 0.3
    assert holdout_window(first, last, live.learning) == (last - 0.3 * (last - first), last)
    assert (window.window_from, window.start, window.window_to) == (first, last - 0.3 * (last - first), last)
    # every snapshot of the data window is kept (the earlier 70 % warms up), none after it
    assert len(window.snapshots) == DAYS and window.snapshots[0].ts == first and window.snapshots[-1].ts == last
    assert window.count == sum(1 for t in recording.ts if t >= window.start) == 1296


def test_snapshots_outside_the_data_window_are_left_out(live, recording):
    first = float(recording.ts[0])
    part = held_out(recording, first + 600, first + 6000, live.learning)
    assert [s.ts for s in part.snapshots] == [t for t in recording.ts.tolist() if first + 600 <= t <= first + 6000]


# ------------------------------------------------------------------ the decision


def test_a_candidate_equal_to_live_is_promoted_not_worse(live, window):
    result = gate(live, live, window)
    assert result.promoted and result.difference_pct == 0.0
    assert result.live == result.candidate and result.live.trades > 0
    assert (result.window_from, result.window_to, result.snapshots) == (window.start, window.window_to, 1296)
    assert result.metric == "net_return_pct" and result.replay == "columns"
    assert "+0.0000 points ≥ the required +0.0000" in result.reason


def test_a_clearly_worse_candidate_is_rejected_with_its_numbers(live, bigger, window):
    result = gate(live, bigger, window)
    assert not result.promoted
    live_m, cand = result.live, result.candidate
    assert (live_m.version, cand.version) == (live.version, bigger.version)
    # the same trades, each 10 % larger on a stretch that loses: a measurably larger loss
    assert cand.trades == live_m.trades > 0
    assert cand.net_return_pct < live_m.net_return_pct < 0
    assert result.difference_pct == pytest.approx(cand.net_return_pct - live_m.net_return_pct)
    assert result.difference_pct < -0.01
    assert cand.max_drawdown_pct >= live_m.max_drawdown_pct
    assert result.reason.endswith("the live version stays") and f"{result.difference_pct:+.4f}" in result.reason
    # the numbers are what the version store keeps
    stored = json.loads(json.dumps(result.as_dict()))
    assert stored["promoted"] is False and stored["candidate"]["net_return_pct"] == cand.net_return_pct


def test_the_net_return_is_the_equity_change_of_a_dry_run_over_the_held_out_window(live, recording, window):
    result = gate(live, live, window)
    dry, _, _ = dry_run_recording(
        live, recording, broker=PaperBroker.for_plan(live), store=MemoryState(), start=window.start
    )
    metrics = dry["metrics"]
    start, end = metrics["starting_equity_usd"], metrics["ending_equity_usd"]
    assert result.live.net_return_pct == (end - start) / start * 100
    assert (result.live.trades, result.live.win_rate, result.live.fingerprint) == (
        metrics["trades"],
        metrics["win_rate"],
        dry["fingerprint"],
    )


@pytest.mark.parametrize(
    "required, promoted",
    [
        (0.0, False),  # must not get worse: it did
        (-0.01, False),  # a tolerance smaller than the loss
        (-0.5, True),  # a tolerance of half a point covers it
        (-100.0, True),
    ],
)
def test_a_negative_min_improvement_is_a_tolerance(live, bigger, window, required, promoted):
    assert gate(live, bigger, window, tolerance(live, required)).promoted is promoted


@pytest.mark.parametrize("required, promoted", [(0.0, True), (0.01, True), (0.05, False)])
def test_a_positive_min_improvement_demands_a_gain(live, smaller, window, required, promoted):
    result = gate(live, smaller, window, tolerance(live, required))
    assert 0.01 < result.difference_pct < 0.05  # sizing 9 % loses less on this stretch
    assert result.promoted is promoted


def test_an_equal_candidate_fails_a_demanded_gain(live, window):
    result = gate(live, live, window, tolerance(live, 0.01))
    assert not result.promoted and result.difference_pct == 0.0


def test_the_decision_is_deterministic_and_the_same_on_the_scalar_path(live, bigger, recording):
    first, last = float(recording.ts[0]), float(recording.ts[1439])  # one day: the scalar path is slower
    short = held_out(recording, first, last, live.learning)
    columns = gate(live, bigger, short)
    assert columns == gate(live, bigger, short)
    scalar = gate(live, bigger, short, replay="scalar")
    assert (columns.replay, scalar.replay) == ("columns", "scalar")
    assert dataclasses.replace(scalar, replay="columns") == dataclasses.replace(
        columns,
        live=dataclasses.replace(columns.live, replay="scalar"),
        candidate=dataclasses.replace(columns.candidate, replay="scalar"),
    )


# ------------------------------------------------------------------ no evidence


def test_an_empty_held_out_window_promotes_nothing(live, recording):
    after = float(recording.ts[-1]) + 3600
    empty = held_out(recording, after, after + 3600, live.learning)
    assert empty.snapshots == () and empty.count == 0
    result = gate(live, live, empty)
    assert not result.promoted and result.live is None and result.candidate is None
    assert result.difference_pct is None and result.replay == "none" and result.snapshots == 0
    assert result.reason.startswith("no snapshot in the held-out window")


def test_no_trade_in_the_held_out_window_promotes_nothing(live, recording):
    first = float(recording.ts[0])
    quiet = held_out(recording, first, first + 600, live.learning)  # ten minutes: features still warming
    result = gate(live, live, quiet)
    assert result.snapshots > 0 and result.live.trades == result.candidate.trades == 0
    assert not result.promoted and result.difference_pct == 0.0
    assert result.reason.startswith("neither version traded in the held-out window")


# ------------------------------------------------------------------ bad input


def test_bad_windows_are_refused_clearly(live, recording):
    first = float(recording.ts[0])
    for window_from, window_to, says in [
        (first, first, "empty or reversed"),
        (first + 60, first, "empty or reversed"),
        (float("nan"), first, "not a finite time"),
        (first, float("inf"), "not a finite time"),
    ]:
        with pytest.raises(PromotionError, match=says) as error:
            held_out(recording, window_from, window_to, live.learning)
        assert error.value.code == "RB540"


def test_bad_snapshots_are_refused_naming_which(live, recording):
    one, two = recording.snapshot(0), recording.snapshot(1)
    first = one.ts
    with pytest.raises(PromotionError, match=r"snapshot 1 of the promotion window is a dict, not a Snapshot"):
        held_out([one, {"ts": two.ts}], first, first + 600, live.learning)
    with pytest.raises(PromotionError, match=r"snapshot 1 .* is not after the one before it"):
        held_out([two, one], first, first + 600, live.learning)
    with pytest.raises(PromotionError, match=r"snapshot 1 .* no finite time"):
        held_out([one, Snapshot(float("nan"), two.symbols)], first, first + 600, live.learning)
    with pytest.raises(PromotionError, match="not a HeldOut"):
        gate(live, live, [one, two])
    with pytest.raises(PromotionError, match="replay is one of auto, columns, scalar"):
        gate(live, live, HeldOut(first, first + 60, first, (one,)), replay="fast")


def test_an_in_memory_list_gives_the_same_window_and_reading_stops_after_it(live, recording):
    first = float(recording.ts[0])
    read = []

    def feed():  # a feed file read lazily: nothing past the window's end should be needed
        for i in range(len(recording)):
            read.append(i)
            yield recording.snapshot(i)

    from_list = held_out(feed(), first, first + 6000, live.learning)
    assert from_list == held_out(recording, first, first + 6000, live.learning)
    assert len(read) == len(from_list.snapshots) + 1  # the first snapshot after the window ends the reading


def test_ctrl_c_during_the_shadow_replay_decides_nothing(live, recording):
    first = float(recording.ts[0])
    window = held_out(recording, first, first + 3600, live.learning)

    class Interrupting:  # Ctrl-C arrives while the replay reads its snapshots (counting them is not the replay)
        def __init__(self, snapshots):
            self.snapshots, self.reads = snapshots, 0

        def __iter__(self):
            self.reads += 1
            if self.reads == 1:
                yield from self.snapshots
                return
            yield self.snapshots[0]
            raise KeyboardInterrupt

    interrupted = dataclasses.replace(window, snapshots=Interrupting(window.snapshots))
    with pytest.raises(KeyboardInterrupt):
        gate(live, live, interrupted, replay="scalar")
    assert interrupted.snapshots.reads == 2  # counted, then replayed until Ctrl-C
