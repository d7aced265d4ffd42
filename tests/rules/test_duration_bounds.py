"""Durations are finite, and positive (or whole minutes) where the engine needs it (RB212).

Each refused value used to pass `validate` and then crash the run (exit 3) or be read as
infinity; each accepted edge value must run without a crash.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.language.compiler import compile_ruleset
from engine.language.durations import parse_duration
from tests.lifecycle.market import write
from tests.rules.conftest import edit_once

ROOT = Path(__file__).resolve().parents[2]
INFINITE = "9" * 400 + "s"  # matches the duration pattern, but float() makes it inf


def _findings(rules: Path) -> list[tuple[str, str, int]]:
    result = compile_ruleset(str(rules))
    return [(d.code, os.path.relpath(d.file, rules), d.line) for d in result.diagnostics]


# file, text to find (once), the same with {v} for the new duration, and the line
POSITIVE = [
    (
        "signals.yaml",
        "window: 1h                                # decision: seed",
        "window: {v}                                # decision: seed",
        17,
    ),  # liquidation_cascade
    ("signals.yaml", "      window: 24h   ", "      window: {v}   ", 31),  # whale_flow
    ("signals.yaml", "      window: 5m    ", "      window: {v}    ", 84),  # order_flow_momentum
    (
        "signals.yaml",
        "      window: 1h                                # decision\n",
        "      window: {v}                                # decision\n",
        120,
    ),  # oi_velocity
    ("signals.yaml", "      window: 4h    ", "      window: {v}    ", 132),  # oi_divergence
    ("gates.yaml", "    window: 24h ", "    window: {v} ", 55),  # correlation throttle
    ("gates.yaml", "return_interval: 5m", "return_interval: {v}", 56),
    ("learning.yaml", "horizons: [1m,", "horizons: [{v},", 7),
    ("learning.yaml", "trade_lookback: 168h", "trade_lookback: {v}", 8),
    ("learning.yaml", "short: 30m", "short: {v}", 27),
    ("requirements.yaml", "lookback: 24h", "lookback: {v}", 42),
    ("venues.yaml", "funding_interval: 1h", "funding_interval: {v}", 18),
    ("venues.yaml", "budget: 500, per: 10s", "budget: 500, per: {v}", 20),
]
ZERO_ALLOWED = [
    ("schedules.yaml", "every: 60s", "every: {v}", 28),
    ("exits.yaml", "min_hold: 300s", "min_hold: {v}", 10),
    ("risk.yaml", "standard: 2m", "standard: {v}", 29),
    ("signals.yaml", "{liquidations: 255m}", "{liquidations: {v}}", 15),
    ("exits.yaml", "{after: 0m, pnl_pct", "{after: {v}, pnl_pct", 68),  # profit target
    ("exits.yaml", "pnl_pct: 0.5, after: 30m", "pnl_pct: 0.5, after: {v}", 82),  # ladder rung
    ("venues.yaml", "publication_lag: 1m", "publication_lag: {v}", 60),
]


@pytest.mark.parametrize("file,find,template,line", POSITIVE)
def test_zero_is_refused_where_a_period_must_be_positive(rules, file, find, template, line):
    edit_once(rules / file, find, template.replace("{v}", "0s"))
    assert _findings(rules) == [("RB212", file, line)]


@pytest.mark.parametrize("file,find,template,line", POSITIVE + ZERO_ALLOWED)
def test_an_infinite_duration_is_refused_everywhere(rules, file, find, template, line):
    edit_once(rules / file, find, template.replace("{v}", INFINITE))
    result = compile_ruleset(str(rules))
    assert [(d.code, os.path.relpath(d.file, rules), d.line) for d in result.diagnostics] == [("RB212", file, line)]
    assert "is not a finite length of time" in result.diagnostics[0].message
    assert len(result.diagnostics[0].message) < 120  # the 400 digits are not echoed


@pytest.mark.parametrize("value", ["30s", "90s", "1ms", "1.5m"])
def test_return_interval_must_be_whole_minutes(rules, value):
    edit_once(rules / "gates.yaml", "return_interval: 5m", f"return_interval: {value}")
    result = compile_ruleset(str(rules))
    assert [(d.code, d.line, d.col) for d in result.diagnostics] == [("RB212", 56, 22)]
    assert "whole number of minutes" in result.diagnostics[0].message


@pytest.mark.parametrize("value", ["7m", "120s", "0.5h", "2d"])
def test_whole_minute_return_intervals_are_accepted(rules, value):
    edit_once(rules / "gates.yaml", "return_interval: 5m", f"return_interval: {value}")
    assert compile_ruleset(str(rules)).ok


def test_a_profile_override_cannot_sneak_a_zero_window_past_validate(rules):
    edit_once(
        rules / "profiles" / "paper.yaml",
        "overrides: {}",
        "overrides:\n  signals.components.whale_flow.params.window: 0s",
    )
    assert _findings(rules) == [("RB212", "profiles/paper.yaml", 12)]


def test_parse_duration_refuses_infinity_with_a_short_message():
    with pytest.raises(ValueError, match="not a finite length of time") as caught:
        parse_duration(INFINITE)
    assert len(str(caught.value)) < 120
    assert parse_duration("9" * 300 + "s") == float("9" * 300)  # huge but finite: a number


def _dry_run(rules: Path, market: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "dry-run", str(market), "--rules", str(rules)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.parametrize(
    "file,find,value",
    [
        ("gates.yaml", "return_interval: 5m", "return_interval: 7m"),
        ("gates.yaml", "    window: 24h ", "    window: 1s "),
        ("signals.yaml", "window: 1h                                # decision: seed", "window: 1ms  # seed"),
        ("signals.yaml", "{liquidations: 255m}", "{liquidations: 0s}"),
        (
            "signals.yaml",
            "{candles_1m: 3m}\n    params:\n      window: 240",  # volatility_skew
            "{candles_1m: " + "9" * 300 + "s}\n    params:\n      window: 240",
        ),
        ("venues.yaml", "funding_interval: 1h", "funding_interval: " + "9" * 300 + "s"),
    ],
)
def test_values_that_pass_validate_run_without_a_crash(rules, tmp_path, file, find, value):
    edit_once(rules / file, find, value)
    assert compile_ruleset(str(rules)).ok
    done = _dry_run(rules, write(tmp_path / "m.jsonl", 180))
    assert done.returncode == 0, done.stderr
