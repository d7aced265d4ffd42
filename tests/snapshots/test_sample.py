"""The bundled sample (data/sample): it reads cleanly, covers at least 14 days of BTCUSDT
and ETHUSDT minute by minute, stays small, uses only redistributable sources, and —
where ../shared is beside the project — rebuilding it from its spec gives the same snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.snapshots.columnar import columnar_info, read_any, read_columnar
from adapters.snapshots.history.spec import load_spec
from engine.cli.snapshots import build_command

from .helpers import Echo

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
SPEC = ROOT / "data" / "sample" / "build.yaml"
ALLOWED = ("typhonun-dcatpstrategy/", "finm33150-group-m/", "lukmol-gamlss-btc-var/")  # MIT, Unlicense, MIT
DAY = 86400.0


@pytest.fixture(scope="module")
def snapshots():
    read = list(read_any(SAMPLE))
    assert [p for _, problems in read for p in problems] == []
    return [s for s, _ in read]


def test_the_sample_is_small():
    assert SAMPLE.stat().st_size < 10_000_000


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT"])
def test_the_sample_covers_14_days_minute_by_minute(snapshots, symbol):
    present = [s for s in snapshots if symbol in s.symbols]
    first_open = present[0].symbols[symbol].candles[0].ts
    assert present[-1].ts - first_open >= 14 * DAY
    assert len(present) == (present[-1].ts - first_open) / 60  # no minute missing
    carried = {"funding_rate", "open_interest"}
    assert all(carried <= s.symbols[symbol].times.keys() for s in present)
    assert any("liquidations" in s.symbols[symbol].times for s in present)
    assert all(s.fear_greed is not None for s in present)


def test_the_sample_never_holds_a_value_before_it_was_published(snapshots):
    for s in snapshots:
        assert s.fear_greed_ts <= s.ts
        for sym in s.symbols.values():
            assert all(t <= s.ts for t in sym.times.values())


def test_the_spec_names_only_redistributable_sources():
    spec, problems = load_spec(SPEC)
    assert spec is not None, problems
    labels = [label for sources in spec.symbols.values() for src in sources.values() for label in src.labels]
    labels += list(spec.fear_greed.labels)
    assert labels and all(label.startswith(ALLOWED) for label in labels)
    notice = (SPEC.parent / "NOTICE.md").read_text(encoding="utf-8")
    assert all(name.rstrip("/") in notice for name in ALLOWED)


def test_rebuilding_from_the_spec_gives_the_same_snapshots(tmp_path, snapshots):
    spec, _ = load_spec(SPEC)
    if not all(path.is_file() for sources in spec.symbols.values() for src in sources.values() for path in src.files):
        pytest.skip("../shared/data/raw is not beside the project")
    out = tmp_path / "again.snapshots.parquet"
    echo = Echo()
    assert build_command(SPEC, out, echo) == 0, echo.text
    assert list(read_columnar(out)) == snapshots
    assert columnar_info(out)["build"] == columnar_info(SAMPLE)["build"]
