"""`rulebot snapshots convert`: JSON-lines recordings (or any snapshot files) written as one
file — the same snapshots, problems reported, nothing written when an input has errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.paper.broker import PaperBroker
from adapters.snapshots.columnar import read_columnar
from adapters.snapshots.files import read_snapshots
from adapters.snapshots.history.build import write_jsonl
from engine.cli.snapshots import convert_command
from engine.language.compiler import compile_ruleset
from engine.replay.dryrun import dry_run, dry_run_recording
from engine.replay.memstate import MemoryState

from .helpers import Echo

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The sample's first 1,500 cycles as two gzip JSON-lines recordings."""
    folder = tmp_path_factory.mktemp("recorded")
    snapshots = list(read_columnar(SAMPLE))[:1500]
    write_jsonl(snapshots[:900], folder / "a.jsonl.gz")
    write_jsonl(snapshots[900:], folder / "b.jsonl.gz")
    return folder, snapshots


def _convert(paths, out) -> tuple[int, str]:
    echo = Echo()
    return convert_command(paths, out, echo), echo.text


def test_recordings_become_one_columnar_file_that_replays_on_the_fast_path(recorded, tmp_path):
    from adapters.snapshots.columnar import read_recording

    folder, snapshots = recorded
    out = tmp_path / "r.snapshots.parquet"
    code, text = _convert([folder / "a.jsonl.gz", folder / "b.jsonl.gz"], out)
    assert code == 0, text
    assert "wrote" in text and "1,500 snapshots" in text
    assert list(read_columnar(out)) == snapshots
    plan = compile_ruleset(str(ROOT / "rules")).plans["paper"]
    fast, _, _ = dry_run_recording(plan, read_recording(out), broker=PaperBroker.for_plan(plan), store=MemoryState())
    slow, _, _ = dry_run(
        plan,
        (s for f in ("a", "b") for s, _ in read_snapshots(folder / f"{f}.jsonl.gz") if s is not None),
        broker=PaperBroker.for_plan(plan),
        store=MemoryState(),
    )
    assert fast["fingerprint"] == slow["fingerprint"] and fast["decisions"] == slow["decisions"]


def test_a_torn_last_line_is_a_warning_and_the_rest_is_written(recorded, tmp_path):
    _folder, snapshots = recorded
    torn = tmp_path / "torn.jsonl"
    write_jsonl(snapshots[:10], torn)
    with torn.open("a", encoding="utf-8") as handle:
        handle.write('{"ts": 1747700000, "symb')
    code, text = _convert([torn], tmp_path / "t.jsonl")
    assert code == 0 and "RB712 warning" in text
    assert [s for s, _ in read_snapshots(tmp_path / "t.jsonl")] == snapshots[:10]


def test_files_out_of_order_keep_the_snapshots_that_move_forward(recorded, tmp_path):
    folder, snapshots = recorded
    code, text = _convert([folder / "b.jsonl.gz", folder / "a.jsonl.gz"], tmp_path / "o.snapshots.parquet")
    assert code == 0 and "RB714 warning" in text and "give the files in time order" in text
    assert "… 850 more" in text  # 900 skipped: 50 shown
    assert list(read_columnar(tmp_path / "o.snapshots.parquet")) == snapshots[900:]


def test_an_input_error_writes_nothing(recorded, tmp_path):
    _folder, snapshots = recorded
    bad = tmp_path / "bad.jsonl"
    write_jsonl(snapshots[:3], bad)
    lines = bad.read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n", encoding="utf-8")
    out = tmp_path / "x.snapshots.parquet"
    code, text = _convert([bad], out)
    assert code == 1 and "RB711 error" in text and "not written" in text and not out.exists()
    assert not list(tmp_path.glob(".*.tmp"))  # the partial file is gone too


@pytest.mark.parametrize("name", ["x.txt", "x.parquet.bak"])
def test_an_output_of_an_unknown_format_is_refused(recorded, tmp_path, name):
    folder, _ = recorded
    code, text = _convert([folder / "a.jsonl.gz"], tmp_path / name)
    assert code == 1 and "must end in" in text and not (tmp_path / name).exists()


def test_the_cli_command(recorded, tmp_path):
    from click.testing import CliRunner

    from engine.cli import main

    folder, _ = recorded
    out = tmp_path / "cli.snapshots.parquet"
    done = CliRunner().invoke(main, ["snapshots", "convert", str(folder / "a.jsonl.gz"), "--out", str(out)])
    assert done.exit_code == 0, done.output
    info = CliRunner().invoke(main, ["snapshots", "info", str(out)])
    assert "900 from" in info.output and "converted: from a.jsonl.gz" in info.output  # where it came from


def test_info_says_where_any_columnar_file_came_from(recorded, tmp_path):
    from click.testing import CliRunner

    from adapters.snapshots.columnar import write_columnar
    from engine.cli import main

    _, snapshots = recorded
    path = tmp_path / "o.snapshots.parquet"
    write_columnar(snapshots[:5], path, build={"source": "a bench's own bars"})
    info = CliRunner().invoke(main, ["snapshots", "info", str(path)])
    assert "origin:    source: a bench's own bars" in info.output and "None" not in info.output


def test_conversion_streams_row_group_by_row_group(recorded, tmp_path, monkeypatch):
    """Written as it is read: many row groups, the same snapshots back."""
    import pyarrow.parquet as pq

    import adapters.snapshots.columnar as columnar

    monkeypatch.setattr(columnar, "ROW_GROUP", 101)
    folder, snapshots = recorded
    out = tmp_path / "s.snapshots.parquet"
    code, text = _convert([folder / "a.jsonl.gz", folder / "b.jsonl.gz"], out)
    assert code == 0, text
    assert pq.ParquetFile(out).num_row_groups == 30  # 3,000 rows, 102 per group but the last
    assert list(read_columnar(out)) == snapshots
