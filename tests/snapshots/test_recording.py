"""read_recording (the dry-run fast path's reader) gives back exactly the snapshots the
columnar reader builds, for any dense history — or refuses it (NotReplayable), never
something else."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.snapshots.columnar import read_columnar, read_recording, write_columnar
from engine.replay.recording import NotReplayable
from tests.snapshots.test_columnar import _positive, _snapshots, _symbol, _time


@st.composite
def _dense(draw):
    """Snapshots of symbols A and B, each with exactly one candle and any other inputs."""
    times = sorted(set(draw(st.lists(_time, min_size=1, max_size=6))))
    out = []
    for ts in times:
        symbols = {}
        for name in ("A", "B"):
            obj = {k: v for k, v in draw(_symbol(ts)).items() if k not in ("candles", "book")}
            low, spread = draw(_positive), draw(st.floats(0, 1e6))
            obj["candles"] = [[ts - 60, low + spread, low + spread, low, low, draw(st.floats(0, 1e9))]]
            if draw(st.booleans()):
                obj["candles_1m_ts"] = draw(_time)
            symbols[name] = obj
        snap = {"v": 1, "ts": ts, "symbols": symbols}
        if draw(st.booleans()):
            snap["fear_greed"], snap["fear_greed_ts"] = draw(st.floats(0, 100)), draw(_time)
        out.append(snap)
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(objects=_dense())
def test_a_dense_history_reads_back_as_the_same_snapshots(tmp_path, objects):
    snapshots = _snapshots(objects)
    path = tmp_path / "d.snapshots.parquet"
    write_columnar(snapshots, path)
    expected = list(read_columnar(path))
    try:
        recording = read_recording(path)
    except NotReplayable:
        return
    assert [recording.snapshot(i) for i in range(len(recording))] == expected
