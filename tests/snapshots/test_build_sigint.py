"""Ctrl-C at any instant of `rulebot snapshots build` (and `convert`) exits 130 and leaves
the output whole or not written: real children paused at a known instant
(tests/dryrun/paused_child.py) — while snapshots are being written, with the file whole
under its temporary name, once it is in place — are sent SIGINT there."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from engine.cli.snapshots import build_command
from tests.dryrun.paused_child import HUNG, start_paused

from .helpers import T0, Echo, candles, spec, write

ROOT = Path(__file__).resolve().parents[2]
ONE = "symbols:\n  BTCUSDT:\n    candles: {file: c.feather}\n"


@pytest.fixture
def build(tmp_path) -> tuple[Path, bytes]:
    """A spec of ten one-minute snapshots, and the file an uninterrupted build writes."""
    write(tmp_path, "c.feather", candles(T0, 12))
    path = spec(tmp_path, ONE)
    reference = tmp_path / "reference" / "out.jsonl"
    assert build_command(path, reference, Echo()) == 0
    return path, reference.read_bytes()


def interrupted_at(point: str, spec_path: Path, out: Path) -> tuple[int, str]:
    process, before = start_paused(point, ["snapshots", "build", str(spec_path), "--out", str(out)], cwd=ROOT)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=HUNG)
    return process.returncode, before + stderr.decode()


@pytest.mark.parametrize("point", ["snapshot_to_json 1", "snapshot_to_json 5"])
def test_ctrl_c_while_snapshots_are_written_writes_nothing(point, build, tmp_path):
    out = tmp_path / "o" / "out.jsonl"
    code, stderr = interrupted_at(point, build[0], out)
    assert code == 130, stderr
    assert f"stopped by Ctrl-C; {out} not written" in stderr and "Aborted" not in stderr
    assert list(out.parent.iterdir()) == []  # nor a temporary file


@pytest.mark.parametrize("point", ["replace 1", "written 1"])
def test_ctrl_c_once_the_file_is_whole_puts_it_in_place(point, build, tmp_path):
    out = tmp_path / "o" / "out.jsonl"
    code, stderr = interrupted_at(point, build[0], out)
    assert code == 130, stderr
    assert [p.name for p in out.parent.iterdir()] == [out.name]
    assert out.read_bytes() == build[1]
    assert "Aborted" not in stderr and "Traceback" not in stderr


@pytest.mark.parametrize(("point", "kept"), [("snapshot_to_json 3", False), ("replace 1", True)])
def test_ctrl_c_during_a_convert_leaves_the_output_whole_or_absent(point, kept, build, tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "o" / "out.jsonl"
    source.write_bytes(build[1])
    process, before = start_paused(point, ["snapshots", "convert", str(source), "--out", str(out)], cwd=ROOT)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=HUNG)
    assert process.returncode == 130, before + stderr.decode()
    assert [p.name for p in out.parent.iterdir()] == ([out.name] if kept else [])
    assert not kept or out.read_bytes() == build[1]
