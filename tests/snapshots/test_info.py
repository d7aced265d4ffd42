"""`snapshots info`: format, symbols, time range, count, gaps and per-symbol inputs with
coverage, for columnar and JSON-lines files alike; unreadable files give exit code 1."""

from __future__ import annotations

import pandas as pd

from adapters.snapshots.history.info import gaps
from engine.cli.snapshots import build_command, info_command

from .helpers import MIN, T0, Echo, candles, spec, write


def _built(tmp_path, out="s.snapshots.parquet"):
    frame = candles(T0, 30).drop(index=[4, 5, 6, 20])  # 3 + 1 missing minutes
    write(tmp_path, "c.feather", frame)
    write(tmp_path, "e.feather", candles(T0, 30).drop(index=[4, 5, 6, 20]))
    write(tmp_path, "f.csv", pd.DataFrame({"timestamp": [T0 + 600], "funding_rate": [0.0001]}))
    write(tmp_path, "fg.csv", pd.DataFrame({"date": ["2025-05-24"], "fng": [40]}))
    path = spec(
        tmp_path,
        """
        fear_greed: {file: fg.csv, interval: 1d, lag: 0s}
        symbols:
          BTCUSDT:
            candles: {file: c.feather}
            funding: {file: f.csv, interval: 0s, lag: 0s}
          ETHUSDT: {candles: {file: e.feather}}
        """,
        end=T0 + 30 * MIN,
    )
    assert build_command(path, tmp_path / out, Echo()) == 0
    return tmp_path / out


def test_info_describes_a_columnar_file(tmp_path):
    path = _built(tmp_path)
    echo = Echo()
    assert info_command([path], echo) == 0
    text = echo.text
    assert "format:    columnar Parquet v1" in text and "52 rows" in text
    assert "built:     from build.yaml (2025-05-25 00:00:00 UTC → 2025-05-25 00:30:00 UTC)" in text
    assert "snapshots: 26 from 2025-05-25 00:01 to 2025-05-25 00:30 (every 1m)" in text
    assert "gaps:      2 (4 min missing)" in text
    assert "2025-05-25 00:05 → 00:07 (3 min)" in text and "2025-05-25 00:21 (1 min)" in text
    assert "symbols:   BTCUSDT, ETHUSDT" in text
    assert "global     fear_greed 100.0% (1 reading)" in text
    assert "funding_rate      76.9%  (1 reading)" in text  # from 00:10 on: 20 of 26
    assert "candles_1m       100.0%" in text


def test_info_says_the_same_of_the_json_lines_copy(tmp_path):
    columnar = _built(tmp_path)
    _built(tmp_path, "s.jsonl.gz")
    a, b = Echo(), Echo()
    assert info_command([columnar], a) == 0 and info_command([tmp_path / "s.jsonl.gz"], b) == 0
    assert "format:    gzip JSON lines" in b.text
    assert [x for x in a.lines if "snapshots:" in x or "%" in x or "gaps" in x] == [
        x for x in b.lines if "snapshots:" in x or "%" in x or "gaps" in x
    ]


def test_unreadable_files_give_exit_code_1_and_say_why(tmp_path):
    good = _built(tmp_path)
    bad = tmp_path / "bad.snapshots.parquet"
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    echo = Echo()
    assert info_command([good, bad, tmp_path / "missing.jsonl"], echo) == 1
    assert f"{bad}:0:0: RB710 error: cannot be read" in echo.text
    assert f"{tmp_path / 'missing.jsonl'}:0:0: RB710 error: cannot read" in echo.text
    assert "snapshots: 26" in echo.text  # the good file still described


def test_a_json_lines_file_with_a_bad_line_is_bad_input(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(
        f'{{"v": 1, "ts": {T0 + 60}, "symbols": {{}}}}\nnot json\n{{"v": 1, "ts": {T0 + 120}, "symbols": {{}}}}\n'
    )
    echo = Echo()
    assert info_command([path], echo) == 1
    assert "RB711" in echo.text and "snapshots: 2" in echo.text and "problems:  1 error(s)" in echo.text


def test_many_gaps_are_listed_compactly():
    times = [float(t) for t in range(0, 60 * 100, 60) if (t // 60) % 7 != 3]
    step, found = gaps(times)
    assert step == 60 and len(found) == 14 and found[0] == (180.0, 180.0, 1)
    from engine.cli.render_snapshots import gap_lines

    lines = gap_lines(step, found)
    assert lines[0] == "  gaps:      14 (14 min missing)" and lines[-1] == "    … 4 more gaps (4 min)"
    assert len(lines) == 12


def test_a_flood_of_problems_is_capped(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text("oops\n" * 60 + f'{{"v": 1, "ts": {T0 + 60}, "symbols": {{}}}}\n')
    echo = Echo()
    assert info_command([path], echo) == 1
    assert sum("RB711" in line for line in echo.lines) == 50 and f"{path}: … 10 more problem(s)" in echo.text


def _priced(tmp_path, prices: list[float]):
    from adapters.snapshots.history.build import write_jsonl
    from engine.market.snapshot import parse_snapshot

    snapshots = [
        parse_snapshot({"ts": T0 + (i + 1) * MIN, "symbols": {"BTCUSDT": {"price": p}}})[0]
        for i, p in enumerate(prices)
    ]
    path = tmp_path / "p.jsonl"
    write_jsonl(snapshots, path)
    return path


def test_info_shows_the_largest_price_move_between_snapshots(tmp_path):
    echo = Echo()
    assert info_command([_priced(tmp_path, [100.0, 101.0, 98.98, 99.0])], echo) == 0
    assert "largest move     -2.00 % at 2025-05-25 00:03 (from the snapshot before)" in echo.text
    assert "suspect" not in echo.text


def test_info_flags_a_bad_print_as_suspect_without_failing(tmp_path):
    """A price that jumps by a quarter or more between snapshots (either way) is shown as
    suspect; the file still reads cleanly (exit 0): it is a warning for the reader."""
    echo = Echo()
    path = _priced(tmp_path, [100.0, 100.5, 1e300, 100.4, 100.0, 79.9, 80.0])
    assert info_command([path], echo) == 0
    assert "largest move     +" in echo.text and "at 2025-05-25 00:03" in echo.text
    assert (
        "suspect prices   3 move(s) of 25 % or more between snapshots, the first at 2025-05-25 00:03: check the source"
    ) in echo.text


def test_a_file_of_unknown_type_gets_no_format_line(tmp_path):
    path = tmp_path / "s.jsonl.bz2"
    path.write_bytes(b"BZh9")
    echo = Echo()
    assert info_command([path], echo) == 1
    assert "RB710" in echo.text and "format:" not in echo.text


def test_info_with_rules_gives_each_signal_components_share_of_snapshots_with_its_inputs(tmp_path):
    import shutil
    from pathlib import Path

    from engine.language.compiler import compile_ruleset

    rules = Path(__file__).resolve().parents[2] / "rules"
    path = _built(tmp_path)
    echo = Echo()
    assert info_command([path], echo, str(rules)) == 0
    version = compile_ruleset(str(rules)).version
    assert f"  signals:   {rules} ({version}): share of snapshots with all of a component's inputs" in echo.lines
    rows = {line.split()[0]: line.split()[1:] for line in echo.lines if line.startswith("    ") and "%" in line}
    assert rows["funding_rate"] == ["76.9%", "0.0%"]  # BTC from 00:10 on (20 of 26); ETH has none
    assert rows["hurst"] == ["100.0%", "100.0%"]
    assert rows["lead_lag"] == ["100.0%", "100.0%"]  # both carry candles, BTC's among them (the leader)
    assert rows["fear_greed"] == ["100.0%", "100.0%"]
    assert rows["whale_flow"] == ["0.0%", "0.0%", "never", "votes:", "exchange_netflow", "in", "no", "snapshot"]
    # of its two inputs, only the one no snapshot carries is named (price is there)
    assert rows["oi_velocity"] == ["0.0%", "0.0%", "never", "votes:", "open_interest", "in", "no", "snapshot"]

    broken = tmp_path / "broken"
    shutil.copytree(rules, broken)
    (broken / "signals.yaml").write_text("kind: signals\n")
    bad = Echo()
    assert info_command([path], bad, str(broken)) == 0  # the file is fine: still described
    assert "symbols:   BTCUSDT, ETHUSDT" in bad.text
    assert f"  signals:   rules in {broken} not loaded (invalid, " in bad.text
    assert f"rulebot validate {broken})" in bad.text
    missing = Echo()
    assert info_command([path], missing, str(tmp_path / "nowhere")) == 0
    assert missing.lines[-1] == f"  signals:   rules in {tmp_path / 'nowhere'} not loaded (no such folder)"
