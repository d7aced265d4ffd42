"""Walk-forward sweeps: the span cut into windows, each (variant, window) replayed on its own
with its warm-up, merged into in- and out-of-sample ranks — and a run split over worker
processes equal to every window replayed in one process, on either replay path."""

from __future__ import annotations

import csv
import json
import math
import subprocess
from pathlib import Path

import pytest

from engine.sweeps.results import ranked
from engine.sweeps.spec import Parameter, Spec, WalkForward
from engine.sweeps.windows import chained, merged, selections, windows
from tests.sweeps.cli import RULES, SAMPLE, run_sweep

DAY = 86_400.0


def _spec(steps: int | None = 2, goal: str = "max") -> Spec:
    return Spec(
        name="wf",
        metric="net_pnl_pct",
        goal=goal,
        method="grid",
        trials=1,
        seed=0,
        parameters=(Parameter("exits.tiers.stop_loss.loss_pct", (1.0, 2.0)),),
        source=Path("wf.yaml"),
        walk_forward=None if steps is None else WalkForward(steps, DAY),
    )


def test_the_span_is_cut_into_steps_plus_one_windows_each_with_its_warm_up():
    cut = windows(_spec(2), 0.0, 300.0)
    assert [(w.index, w.start, w.warm_from) for w in cut] == [
        (0, 0.0, -DAY),
        (1, 100.0, 100.0 - DAY),
        (2, 200.0, 200.0 - DAY),
    ]
    assert [w.end for w in cut] == [pytest.approx(100.0 - 1e-3), pytest.approx(200.0 - 1e-3), 300.0]
    assert all(a.end < b.start for a, b in zip(cut, cut[1:]))  # a snapshot on an edge belongs to one window
    whole = windows(_spec(None), 5.0, None)
    assert [(w.index, w.start, w.end, w.warm_from) for w in whole] == [(None, 5.0, None, None)]
    with pytest.raises(ValueError, match="span"):
        windows(_spec(2), 10.0, 10.0)


def _line(variant: str, window: int, pnl: float, **extra) -> dict:
    return {
        "variant": variant,
        "window": window,
        "values": {"exits.tiers.stop_loss.loss_pct": 1.0},
        "status": "ok",
        "version": "rs-0000000000000000",
        "fingerprint": f"{variant}{window}",
        "metrics": {"net_pnl_pct": pnl, "trades": 2 * window},
        "equity": [[window * 100.0, 100.0], [window * 100.0 + 50, 100.0 + pnl]],
        **extra,
    }


def test_windows_merge_into_in_sample_and_out_of_sample_means():
    spec = _spec(2)
    lines = [_line("g0", k, pnl) for k, pnl in enumerate((1.0, 3.0, -2.0))]
    lines += [_line("g1", k, pnl) for k, pnl in enumerate((-1.0, 0.0, 4.0))]
    lines += [_line("g2", 0, 9.0)]  # unfinished: two windows missing
    rows = {r["variant"]: r for r in merged(reversed(lines), spec, 3)}  # any order of arrival
    assert set(rows) == {"g0", "g1"}
    assert rows["g0"]["metrics"] == {"net_pnl_pct": 2.0, "trades": 1.0}  # windows 0 and 1
    assert rows["g0"]["oos_metrics"] == {"net_pnl_pct": 0.5, "trades": 3.0}  # windows 1 and 2
    assert rows["g0"]["window_metrics"] == [1.0, 3.0, -2.0]
    assert rows["g0"]["fingerprint"] != rows["g1"]["fingerprint"] and len(rows["g0"]["fingerprint"]) == 16
    order = ranked(rows.values(), spec)
    assert [(r["variant"], r["rank"], r["oos_rank"]) for r in order] == [("g0", 1, 2), ("g1", 2, 1)]
    picks = selections(order, spec)
    assert [(p.step, p.variant, p.fit, p.score) for p in picks] == [(1, "g0", 1.0, 3.0), (2, "g0", 3.0, -2.0)]


def test_a_failed_or_invalid_window_decides_the_variant():
    spec = _spec(1)
    failed = merged(
        [_line("g0", 0, 1.0), {"variant": "g0", "window": 1, "status": "failed", "errors": ["boom"]}], spec, 2
    )
    assert failed[0]["status"] == "failed" and failed[0]["errors"] == ["boom"]
    invalid = {"variant": "g1", "window": None, "status": "invalid", "errors": ["RB342 x"]}
    assert merged([{**invalid, "window": 0}, {**invalid, "window": 1}], spec, 2)[0]["status"] == "invalid"


def test_out_of_sample_curves_are_chained_so_returns_compound():
    curve = chained([[[0, 100.0], [1, 110.0]], [], [[2, 100.0], [3, 90.0]]])
    assert curve == [[0.0, 100.0], [1.0, 110.0], [2.0, 110.0], [3.0, pytest.approx(99.0)]]


def test_a_window_replays_the_same_on_the_fast_and_the_scalar_path():
    """Recording.since (the fast path's warm-up cut) reads what the scalar path reads."""
    from adapters.paper.broker import PaperBroker
    from adapters.snapshots.columnar import read_columnar, read_recording
    from engine.language.compiler import compile_ruleset
    from engine.replay.dryrun import dry_run, dry_run_recording
    from engine.replay.memstate import MemoryState

    plan = compile_ruleset(str(RULES)).plans["paper"]
    recording = read_recording(SAMPLE)
    warm_from = float(recording.ts[0]) + 3 * DAY
    start, end = warm_from + DAY, warm_from + 4 * DAY
    fast, _, _ = dry_run_recording(
        plan, recording.since(warm_from), broker=PaperBroker.for_plan(plan), store=MemoryState(), start=start, end=end
    )
    snapshots = (s for s in read_columnar(SAMPLE) if s.ts >= warm_from)
    scalar, _, _ = dry_run(
        plan, snapshots, broker=PaperBroker.for_plan(plan), store=MemoryState(), start=start, end=end
    )
    assert fast["metrics"]["trades"] > 0
    assert fast["fingerprint"] == scalar["fingerprint"] and fast["metrics"] == scalar["metrics"]
    whole, _, _ = dry_run_recording(
        plan, recording, broker=PaperBroker.for_plan(plan), store=MemoryState(), start=start, end=end
    )
    assert len(recording.since(warm_from)) < len(recording)
    assert whole["metrics"]["trades"] > 0  # the same window warmed from the files' start: a valid replay too


SPEC = """kind: sweep
name: wf
metric: {name: net_pnl_pct, goal: max}
search: {method: grid}
walk_forward: {steps: 2, warmup: 12h}
parameters:
  - {path: exits.tiers.stop_loss.loss_pct, values: [1.0, 2.5]}
  - {path: exits.tiers.profit_target.targets.0.pnl_pct, values: [2.0, 3.0]}
"""
TO = "2025-05-23T08:00:00Z"


def _sweep(spec: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_sweep(spec, out, *extra, to=TO)


def _table(out: Path) -> list[dict]:
    with open(out / "ranking.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_a_walk_forward_split_over_processes_equals_every_window_replayed_in_one(tmp_path):
    """Tasks (variant, window) on a two-process pool merge to what one process gets by
    replaying each variant's windows one after the other."""
    from engine.cli.sweep_work import Task, evaluate
    from engine.common.times import parse_time
    from engine.language.compiler import compile_ruleset
    from engine.sweeps.spec import load_spec
    from engine.sweeps.variants import expand

    path = tmp_path / "wf.yaml"
    path.write_text(SPEC, encoding="utf-8")
    done = _sweep(path, tmp_path / "pool", "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert "over 3 window(s)" in done.stderr and "step 1:" in done.stdout and "step 2:" in done.stdout
    assert (tmp_path / "pool" / "report.html").stat().st_size > 0

    spec, _ = load_spec(path, compile_ruleset(str(RULES)).canonical["base"])
    assert spec is not None
    from adapters.snapshots.columnar import columnar_info

    start = columnar_info(SAMPLE)["first_ts"]
    lines = []
    for variant in expand(spec):
        for window in windows(spec, start, parse_time(TO)):
            task = Task(variant.id, variant.values, str(RULES), "paper", (str(SAMPLE),), window.start, window.end,
                        window.index, window.warm_from)  # fmt: skip
            lines.append({**evaluate(task), "window": window.index, "values": variant.as_dict()})
    alone = {r["variant"]: r for r in ranked(merged(lines, spec, 3), spec)}
    table = _table(tmp_path / "pool")
    assert len(table) == 4 and {r["status"] for r in table} == {"ok"}
    for row in table:
        mine = alone[row["variant"]]
        assert (int(row["rank"]), int(row["oos_rank"]), row["fingerprint"]) == (
            mine["rank"],
            mine["oos_rank"],
            mine["fingerprint"],
        )
        assert math.isclose(float(row["oos_net_pnl_pct"]), mine["oos_metrics"]["net_pnl_pct"], rel_tol=1e-12)
    lines_on_disk = [json.loads(x) for x in (tmp_path / "pool" / "results.jsonl").read_text().splitlines()]
    assert sorted((x["variant"], x["window"]) for x in lines_on_disk) == sorted(
        (x["variant"], x["window"]) for x in lines
    )
