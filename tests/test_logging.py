"""Logging goes to stderr, as human lines or JSON lines, at the level asked, never twice and
never with a secret in it (engine/cli/logs.py)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli import logs

ROOT = Path(__file__).resolve().parents[1]
SECRET = "Zm9vYmFyQmF6UXV4MTIzNDU2Nzg5MGFiY2RlZkdISUpLTE1O"  # base64-shaped: mixed case and digits
HEX_KEY = "3f9a0c7be21d4f6a8b5c9d0e1f2a3b4c"


@pytest.fixture(autouse=True)
def clean_root() -> Iterator[None]:
    """Each test starts without rulebot's handler and leaves the root logger as it found it."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout is the command's output, never the log's
    return [line for line in captured.err.splitlines() if line]


def test_text_lines_name_the_level_and_the_logger(capsys):
    logs.configure("text", "info")
    logging.getLogger("engine.replay.dryrun").info("dry-run ends: %d cycles", 120, extra={"trades": 3})
    assert _lines(capsys) == ["rulebot: INFO engine.replay.dryrun: dry-run ends: 120 cycles (trades=3)"]


def test_json_lines_carry_time_level_logger_message_and_extras(capsys):
    logs.configure("json", "info")
    logging.getLogger("adapters.snapshots.files").info("skipped %s", "line 4", extra={"file": "a.jsonl", "line": 4})
    (line,) = _lines(capsys)
    entry = json.loads(line)
    assert entry["ts"].endswith("Z") and entry["ts"][:4].isdigit() and "T" in entry["ts"]
    assert {k: v for k, v in entry.items() if k != "ts"} == {
        "level": "info",
        "logger": "adapters.snapshots.files",
        "message": "skipped line 4",
        "file": "a.jsonl",
        "line": 4,
    }


def test_json_exceptions_are_one_string_field_and_odd_values_stay_valid_json(capsys):
    logs.configure("json", "info")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("engine.trading.runner").exception("step failed", extra={"equity": float("nan")})
    (line,) = _lines(capsys)
    entry = json.loads(line)
    assert entry["level"] == "error" and entry["equity"] == "nan"
    assert entry["exception"].startswith("Traceback") and "ValueError: boom" in entry["exception"]


def test_configuring_twice_does_not_write_a_record_twice(capsys):
    logs.configure("text", "info")
    logs.configure("json", "info")
    logging.getLogger("engine").info("once")
    (line,) = _lines(capsys)
    assert json.loads(line)["message"] == "once"
    assert sum(h.get_name() == logs.HANDLER_NAME for h in logging.getLogger().handlers) == 1


def test_records_below_the_level_are_dropped(capsys):
    logs.configure("text")  # the default: warning
    log = logging.getLogger("adapters.store.state")
    log.debug("debug")
    log.info("info")
    log.warning("warning")
    assert _lines(capsys) == ["rulebot: WARNING adapters.store.state: warning"]
    logs.configure("text", "DEBUG")
    log.debug("now shown")
    assert _lines(capsys) == ["rulebot: DEBUG adapters.store.state: now shown"]


def test_an_unknown_format_or_level_is_refused():
    with pytest.raises(ValueError, match="log format"):
        logs.configure("xml")
    with pytest.raises(ValueError, match="log level"):
        logs.configure("text", "loud")


@pytest.mark.parametrize(
    "message, shown",
    [
        ("api_key=abc123 sent", "api_key=[REDACTED] sent"),
        ("headers {'API-Secret': 'xyz', 'n': 1}", "headers {'API-Secret': '[REDACTED]', 'n': 1}"),
        ('{"passphrase": "p4ss"}', '{"passphrase": "[REDACTED]"}'),
        ("signature: c2lnbmVk done", "signature: [REDACTED] done"),
        (f"auth with {SECRET} failed", "auth with [REDACTED] failed"),
        (f"nonce {HEX_KEY}", "nonce [REDACTED]"),
        (f"GET /v1/orders?k={HEX_KEY}&n=1", "GET /v1/orders?k=[REDACTED]&n=1"),
    ],
)
def test_secrets_in_messages_are_redacted(capsys, message, shown):
    logs.configure("text", "info")
    logging.getLogger("adapters.venues").info(message)
    assert _lines(capsys) == [f"rulebot: INFO adapters.venues: {shown}"]


@pytest.mark.parametrize(
    "text",
    [
        "/home/operator/rulebot/data/recordings/2026-11-30.snapshots.parquet",
        "fingerprint sha256:effbc9ca9f5f585a, version rs-0123456789abcdef",
        "fingerprint sha256:" + "effbc9ca9f5f585a" * 4,  # whole, as dry-run writes it
        "/Users/Operator/Projects2026/RuleBot/Data2026/recordings",
        "position BTCUSDT-LONG-1764547200-e0 closed",
    ],
)
def test_ordinary_text_is_not_redacted(text):
    assert logs.redact(text) == text


def test_secrets_in_extras_and_tracebacks_are_redacted(capsys):
    logs.configure("json", "info")
    try:
        raise PermissionError(f"venue refused key {SECRET}")
    except PermissionError:
        logging.getLogger("adapters.venues").exception(
            "login failed",
            extra={"api_key": "plain-looking", "request": {"secret": "s", "path": "/orders"}, "note": f"sent {SECRET}"},
        )
    entry = json.loads(_lines(capsys)[0])
    assert entry["api_key"] == "[REDACTED]"
    assert entry["request"] == {"secret": "[REDACTED]", "path": "/orders"}
    assert entry["note"] == "sent [REDACTED]"
    assert SECRET not in entry["exception"] and "[REDACTED]" in entry["exception"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_cli_writes_json_log_lines_on_stderr():
    """The root group's --log-format/--log-level reach configure(); the command's output is unchanged."""
    plain = _cli("validate", "rules/")
    logged = _cli("--log-format", "json", "--log-level", "info", "validate", "rules/")
    assert logged.returncode == plain.returncode == 0, logged.stderr
    assert logged.stdout == plain.stdout
    for line in filter(None, logged.stderr.splitlines()):
        assert isinstance(json.loads(line), dict), line
    info = _cli(
        "--log-format", "json", "--log-level", "debug", "snapshots", "info", "data/sample/sample.snapshots.parquet"
    )
    assert info.returncode == 0, info.stderr
    entries = [json.loads(line) for line in info.stderr.splitlines() if line]
    assert any(e["logger"] == "adapters.snapshots.columnar" and e["level"] == "debug" for e in entries), info.stderr
