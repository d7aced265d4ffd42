"""Tiny hand-made market history for the snapshot-build tests: every value is chosen so a
test can say exactly when it must (and must not) be visible."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

T0 = 1_748_131_200  # 2025-05-25 00:00:00 UTC
MIN = 60


def iso(ts: float) -> str:
    return pd.Timestamp(ts, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def candles(start: float, count: int) -> pd.DataFrame:
    """freqtrade layout: date (UTC datetime), open, high, low, close, volume. Values depend
    on the minute only (k minutes after T0: open 100 + k, close 101 + k), so two files
    overlap equally."""
    rows = []
    for i in range(count):
        t = start + i * MIN
        k = (t - T0) / MIN
        rows.append(
            {
                "date": pd.Timestamp(t, unit="s", tz="UTC"),
                "open": 1000 + k,
                "high": 1002 + k,
                "low": 999 + k,
                "close": 1001 + k,
                "volume": 10.0 + abs(k),
            }
        )
    return pd.DataFrame(rows)


def write(tmp: Path, name: str, frame: pd.DataFrame) -> str:
    path = tmp / name
    if name.endswith(".feather"):
        frame.reset_index(drop=True).to_feather(path)
    elif name.endswith(".parquet"):
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return name


def spec(tmp: Path, body: str, start: float = T0, end: float = T0 + 10 * MIN, name: str = "build.yaml") -> Path:
    """A build spec in ``tmp`` (sources beside it) with the window and ``body`` (YAML)."""
    path = tmp / name
    path.write_text(f'version: 1\nfrom: "{iso(start)}"\nto: "{iso(end)}"\n' + textwrap.dedent(body))
    return path


class Echo:
    """Collects what a command prints."""

    def __init__(self):
        self.lines: list[str] = []

    def __call__(self, text: str) -> None:
        self.lines.extend(str(text).splitlines() or [""])

    @property
    def text(self) -> str:
        return "\n".join(self.lines)
