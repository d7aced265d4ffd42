"""Build specs and sources: stitching, and every kind of bad input reported clearly (which
file, where, why) with exit code 1 and nothing written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from adapters.snapshots.columnar import read_columnar
from engine.cli.snapshots import build_command

from .helpers import MIN, T0, Echo, candles, iso, spec, write

ONE = "symbols:\n  BTCUSDT:\n    candles: {file: c.feather}\n"


def _run(tmp_path, path, out="out.snapshots.parquet"):
    echo = Echo()
    code = build_command(path, tmp_path / out, echo)
    return code, echo.text


# ------------------------------------------------------------------ stitching


def test_equal_overlapping_files_stitch_into_one_series(tmp_path):
    write(tmp_path, "a.feather", candles(T0, 6))
    write(tmp_path, "b.feather", candles(T0 + 3 * MIN, 7))  # same rows where they overlap
    code, text = _run(tmp_path, spec(tmp_path, "symbols:\n  BTCUSDT:\n    candles: {files: [a.feather, b.feather]}\n"))
    assert code == 0, text
    assert "3 equal overlapping row(s) de-duplicated" in text
    snapshots = list(read_columnar(tmp_path / "out.snapshots.parquet"))
    assert [s.symbols["BTCUSDT"].get("price") for s in snapshots] == [1001.0 + i for i in range(10)]


def test_conflicting_overlap_is_reported_and_the_first_file_wins(tmp_path):
    write(tmp_path, "a.feather", candles(T0, 6))
    other = candles(T0 + 3 * MIN, 7)
    other.loc[0, "close"] = 1001.5  # disagrees at T0+3m
    write(tmp_path, "b.feather", other)
    code, text = _run(tmp_path, spec(tmp_path, "symbols:\n  BTCUSDT:\n    candles: {files: [a.feather, b.feather]}\n"))
    assert code == 0
    assert "1 conflicting row(s)" in text and "a.feather vs b.feather" in text and "kept a.feather's" in text
    assert iso(T0 + 3 * MIN)[:10] in text
    snapshots = list(read_columnar(tmp_path / "out.snapshots.parquet"))
    assert snapshots[3].symbols["BTCUSDT"].get("price") == 1004.0


def test_conflicts_can_be_made_fatal(tmp_path):
    write(tmp_path, "a.feather", candles(T0, 6))
    other = candles(T0 + 3 * MIN, 7)
    other.loc[0, "volume"] = 0.5
    write(tmp_path, "b.feather", other)
    code, text = _run(
        tmp_path,
        spec(
            tmp_path,
            "symbols:\n  BTCUSDT:\n    candles:\n      files: [a.feather, b.feather]\n      on_conflict: error\n",
        ),
    )
    assert code == 1 and "error: 1 conflicting row(s)" in text and "nothing written" in text
    assert not (tmp_path / "out.snapshots.parquet").exists()


def test_invalid_candles_are_dropped_with_a_warning(tmp_path):
    frame = candles(T0, 5)
    frame.loc[2, "high"] = 500.0  # high below the open
    write(tmp_path, "c.feather", frame)
    code, text = _run(tmp_path, spec(tmp_path, ONE, end=T0 + 5 * MIN))
    assert code == 0 and "1 row(s) dropped: not a valid candle" in text
    assert len(list(read_columnar(tmp_path / "out.snapshots.parquet"))) == 4


def test_jsonl_output_reads_back_the_same_snapshots(tmp_path):
    write(tmp_path, "c.feather", candles(T0, 5))
    path = spec(tmp_path, ONE)
    assert _run(tmp_path, path)[0] == 0
    assert _run(tmp_path, path, "out.jsonl.gz")[0] == 0
    from adapters.snapshots.files import read_snapshots

    assert [s for s, _ in read_snapshots(tmp_path / "out.jsonl.gz")] == list(
        read_columnar(tmp_path / "out.snapshots.parquet")
    )


# ------------------------------------------------------------------ bad specs

BAD_SPECS = {
    "unknown top-level key": ("symbol: {}\n" + ONE, "symbol: unknown key"),
    "interval missing": (ONE + "    funding: {file: f.feather, lag: 1m}\n", "funding: 'interval' is required"),
    "not a duration": (
        ONE + "    funding: {file: f.feather, interval: 8 hours, lag: 1m}\n",
        'interval: "8 hours" does not have the required form',
    ),
    "file and files": ("symbols:\n  BTCUSDT:\n    candles: {file: c.feather, files: [c.feather]}\n", "exactly one of"),
    "no candles": (
        "symbols:\n  BTCUSDT:\n    funding: {file: f.feather, interval: 0s, lag: 0s}\n",
        "BTCUSDT: 'candles' is required",
    ),
    "sides not long/short": (
        ONE + "    liquidations: {file: l.csv, lag: 0s, sides: {S: up}}\n",
        'sides.S: "up" is not allowed here; allowed: long, short',
    ),
    "unknown source key": (
        ONE + "    funding: {file: f.feather, interval: 0s, lag: 0s, colum: x}\n",
        "funding.colum: unknown key",
    ),
    "bad format": (
        "symbols:\n  BTCUSDT:\n    candles: {file: c.feather, format: xlsx}\n",
        'format: "xlsx" is not allowed here; allowed: feather, parquet, csv',
    ),
    "no symbols": ("symbols: {}\n", "at least one symbol"),
    "yaml 1.1 boolean": (ONE + "    funding: {file: f.feather, interval: 0s, lag: 0s, on_conflict: no}\n", "RB105"),
    "yaml syntax": ("symbols: [\n", "RB101"),
    "interval of 10**23 days": (
        ONE + "    funding: {file: f.feather, interval: 99999999999999999999999d, lag: 1m}\n",
        "funding.interval: '99999999999999999999999d' is longer than a year",
    ),
    "lag over a year": (
        ONE + "    funding: {file: f.feather, interval: 8h, lag: 400d}\n",
        "funding.lag: '400d' is longer than a year",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_a_bad_spec_says_where_and_why(tmp_path, case):
    body, expected = BAD_SPECS[case]
    code, text = _run(tmp_path, spec(tmp_path, body))
    assert code == 1
    assert expected in text
    assert "build.yaml:" in text and "invalid build spec; nothing written" in text
    assert not (tmp_path / "out.snapshots.parquet").exists()


@pytest.mark.parametrize(
    "window, expected",
    [
        (('"2025-05-25T00:00:30Z"', '"2025-05-26T00:00:00Z"'), "from: must be on a whole minute"),
        (('"2025-05-26T00:00:00Z"', '"2025-05-25T00:00:00Z"'), "to: must be after `from`"),
        (('"yesterday"', '"2025-05-25T00:00:00Z"'), "is not a UTC time"),
        (
            ('"2025-05-25T00:00:00Z"', '"2999-05-20T08:00:00Z"'),
            "to: '2999-05-20T08:00:00Z' is outside 2009-01-03 to 2100",
        ),
        (('"2008-12-31T00:00:00Z"', '"2025-05-25T00:00:00Z"'), "from: '2008-12-31T00:00:00Z' is outside 2009-01-03"),
    ],
)
def test_a_bad_window_is_reported(tmp_path, window, expected):
    path = tmp_path / "build.yaml"
    path.write_text(f"version: 1\nfrom: {window[0]}\nto: {window[1]}\n" + ONE)
    code, text = _run(tmp_path, path)
    assert code == 1 and expected in text
    assert "build.yaml:2:" in text or "build.yaml:3:" in text


def test_missing_spec_file(tmp_path):
    code, text = _run(tmp_path, tmp_path / "nope.yaml")
    assert code == 1 and "nope.yaml" in text and "cannot read file" in text


def test_wrong_output_extension(tmp_path):
    write(tmp_path, "c.feather", candles(T0, 3))
    code, text = _run(tmp_path, spec(tmp_path, ONE), out="out.csv")
    assert code == 1 and ".snapshots.parquet" in text


# ------------------------------------------------------------------ bad sources


def _with_source(tmp_path, line: str):
    write(tmp_path, "c.feather", candles(T0, 5))
    return _run(tmp_path, spec(tmp_path, ONE + line))


def test_a_missing_source_file_is_named(tmp_path):
    code, text = _with_source(tmp_path, "    funding: {file: gone.feather, interval: 0s, lag: 0s}\n")
    assert code == 1 and "gone.feather: error: no such file" in text


def test_a_missing_column_lists_the_columns(tmp_path):
    write(tmp_path, "oi.csv", pd.DataFrame({"timestamp": [T0], "oi": [1.0]}))
    code, text = _with_source(tmp_path, "    open_interest: {file: oi.csv, interval: 1h, lag: 0s}\n")
    assert (
        code == 1
        and "oi.csv: error: no value column: expected one of oi_usd" in text
        and "columns are timestamp, oi" in text
    )


def test_a_filter_matching_nothing(tmp_path):
    write(tmp_path, "oi.parquet", pd.DataFrame({"timestamp": [T0], "coin": ["ETH"], "oi_usd": [1.0]}))
    code, text = _with_source(
        tmp_path, "    open_interest: {file: oi.parquet, filter: {coin: BTC}, interval: 1h, lag: 0s}\n"
    )
    assert code == 1 and "oi.parquet: error: no rows match filter {'coin': ('BTC',)}" in text


def test_a_corrupt_source_file(tmp_path):
    (tmp_path / "f.feather").write_bytes(b"ARROW1\x00\x00 this is not a feather file")
    code, text = _with_source(tmp_path, "    funding: {file: f.feather, interval: 0s, lag: 0s}\n")
    assert code == 1 and "f.feather: error: cannot be read as feather" in text


def test_times_that_are_not_times(tmp_path):
    write(tmp_path, "c.feather", candles(T0, 5))
    write(tmp_path, "fg.csv", pd.DataFrame({"date": ["soon", "later"], "fng": [1, 2]}))
    code, text = _run(tmp_path, spec(tmp_path, "fear_greed: {file: fg.csv, interval: 1d, lag: 0s}\n" + ONE))
    assert code == 1 and "fg.csv: error: column `date` holds no times" in text


def test_an_index_out_of_range_is_dropped_in_words(tmp_path):
    write(tmp_path, "c.feather", candles(T0, 5))
    write(tmp_path, "fg.csv", pd.DataFrame({"date": ["2025-05-23", "2025-05-24"], "fng": [150, 40]}))
    code, text = _run(tmp_path, spec(tmp_path, "fear_greed: {file: fg.csv, interval: 1d, lag: 0s}\n" + ONE))
    assert code == 0, text
    assert "1 row(s) dropped: missing time or value not an index from 0 to 100 (first at 2025-05-23" in text


def test_an_unknown_extension_needs_a_format(tmp_path):
    write(tmp_path, "oi.csv", pd.DataFrame({"timestamp": [T0], "oi_usd": [1.0]}))
    (tmp_path / "oi.txt").write_bytes((tmp_path / "oi.csv").read_bytes())
    code, text = _with_source(tmp_path, "    open_interest: {file: oi.txt, interval: 1h, lag: 0s}\n")
    assert code == 1 and "set `format:`" in text
    code, text = _with_source(tmp_path, "    open_interest: {file: oi.txt, format: csv, interval: 1h, lag: 0s}\n")
    assert code == 0, text


@pytest.mark.parametrize(
    "text, missing",
    [
        (
            "version: 1\nsymbols:\n  BTCUSDT:\n    candles: {file: c.feather}\n",
            ["'from' is required", "'to' is required"],
        ),
        ('version: 1\nfrom: "2025-05-19T08:00:00Z"\nto: "2025-05-19T09:00:00Z"\n', ["'symbols' is required"]),
        ('from: "2025-05-19T08:00:00Z"\nto: "2025-05-19T09:00:00Z"\nsymbols: {}\n', ["'version' is required"]),
        (
            'version: 1\nfrom: "2025-05-19T08:00:00Z"\nto: "2025-05-19T09:00:00Z"\nsymbols:\n  BTCUSDT:\n'
            "    candles: {file: c.feather}\n    funding: {file: c.feather, value: close}\n",
            ["funding: 'interval' is required", "funding: 'lag' is required"],
        ),
    ],
)
def test_a_missing_required_key_is_reported_not_an_internal_error(tmp_path, text, missing):
    """Every missing key is named (it was a KeyError, exit 3), nothing is written."""
    write(tmp_path, "c.feather", candles(T0, 5))
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    code, out = _run(tmp_path, path)
    assert code == 1 and "nothing written" in out
    assert all(m in out for m in missing), out
    assert not (tmp_path / "out.snapshots.parquet").exists()


# ------------------------------------------------------------------ the schema


def test_the_schema_names_the_roles_the_reader_reads():
    """The spec's contract (engine/replay/build_spec.py) and its reader agree on every source
    kind and column role: a role the schema refused, or one the reader ignored, is a bug."""
    from adapters.snapshots.history.spec import ROLES
    from engine.language.schema import load_schema
    from engine.replay.build_spec import SOURCE_ROLES, SYMBOL_SOURCES

    assert {kind: tuple(roles) for kind, roles in ROLES.items()} == SOURCE_ROLES
    shipped = load_schema("snapshot-build")
    symbol = shipped["properties"]["symbols"]["additionalProperties"]["properties"]
    assert set(symbol) == set(SYMBOL_SOURCES) == set(ROLES) - {"fear_greed"}
    assert set(ROLES["funding"]) <= set(symbol["funding"]["properties"])


def test_the_bundled_sample_spec_is_valid_against_the_shipped_schema():
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    from engine.language.schema import load_schema
    from engine.language.yamlstrict import load_yaml_file

    doc, problems = load_yaml_file(Path(__file__).resolve().parents[2] / "data" / "sample" / "build.yaml")
    assert doc is not None and not problems
    registry = Registry().with_resource("common.schema.json", Resource.from_contents(load_schema("common")))
    assert list(Draft202012Validator(load_schema("snapshot-build"), registry=registry).iter_errors(doc.data)) == []


def test_every_spec_error_is_coded_located_and_reported_at_once(tmp_path):
    """Schema errors and the checks beside the schema come together, in file order, each with
    a diagnostic code and (for a misspelt key) a suggestion."""
    path = tmp_path / "build.yaml"
    path.write_text(
        'version: 1\nfrom: "2025-05-25T00:00:30Z"\nto: "2025-05-26T00:00:00Z"\nsymbol: {}\n'
        + ONE
        + "    funding: {file: f.feather, interval: 400d, lag: 1m}\n"
    )
    code, text = _run(tmp_path, path)
    assert code == 1
    lines = [line.split("build.yaml:", 1)[1] for line in text.splitlines() if "build.yaml:" in line][:3]
    assert lines[0].startswith("2:") and "RB206 error: from: must be on a whole minute" in lines[0]
    assert lines[1].startswith("4:") and "RB201 error: symbol: unknown key" in lines[1]
    assert "(did you mean 'symbols'?)" in lines[1]
    assert lines[2].startswith("8:") and "RB212 error: symbols.BTCUSDT.funding.interval: '400d'" in lines[2]
