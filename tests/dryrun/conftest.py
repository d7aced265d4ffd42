"""The bundled sample, read once per module, both ways: as snapshots (the scalar path) and
as a recording (the fast path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.snapshots.columnar import read_columnar, read_recording

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "sample.snapshots.parquet"


@pytest.fixture(scope="module")
def sample():
    return list(read_columnar(SAMPLE))


@pytest.fixture(scope="module")
def recording():
    return read_recording(SAMPLE)
