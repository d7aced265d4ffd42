"""A secret pasted into a rule file never reaches the output of `rulebot validate`, in any
format: a field marked ``x-secret`` is never quoted, and anything shaped like a key is
redacted from every diagnostic (engine/common/redaction.py); ordinary values stay whole."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.common.redaction import REDACTED, redact, redact_tokens
from engine.language.diagnostics import Diagnostic, clip
from engine.language.schema import HIDDEN, load_schema, schema_names
from tests.rules.conftest import ROOT, edit_once

BASE64_KEY = "Zk3pQ9xLr2TmVb7WcN4sYh8JdE1gUa6FoK5iRz0M"  # a venue API key: 40 random base64 characters
HEX_KEY = "9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e"  # a hex secret
PLAIN_SECRET = "hunter2 prod"  # not shaped like a key: only the field's x-secret mark can hide it
ORDINARY_ID = "no_such_Param_2026_Main_Account01"  # long, mixed case and digits, but a name


def _validate(rules: Path, fmt: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this tree's engine, whatever the working directory
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "validate", str(rules), "--format", fmt],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _paste_secrets(rules: Path) -> None:
    """Keys where a careless operator puts them: the credentials fields, an enum, a URL, a
    mapping key; and an ordinary bad name."""
    venues = rules / "venues.yaml"
    edit_once(venues, "api_key_env: KRAKEN_FUTURES_API_KEY", f"api_key_env: {BASE64_KEY}")
    edit_once(
        venues,
        "api_secret_env: BLOFIN_API_SECRET, passphrase_env: BLOFIN_API_PASSPHRASE",
        f'api_secret_env: {HEX_KEY}, passphrase_env: "{PLAIN_SECRET}"',
    )
    edit_once(venues, "plan: hobbyist", f"plan: {BASE64_KEY}")
    edit_once(venues, "base_url: https://openapi.blofin.com", f"base_url: https://openapi.blofin.com/?k={HEX_KEY} x")
    edit_once(venues, "symbols: {BTCUSDT: BTC-USDT,", f"symbols: {{{BASE64_KEY}: BTC-USDT, BTCUSDT: BTC-USDT,")
    edit_once(rules / "profiles" / "paper.yaml", "overrides: {}", f"overrides: {{risk.{ORDINARY_ID}: 1}}")


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_validate_never_prints_a_pasted_secret(rules, fmt):
    _paste_secrets(rules)
    done = _validate(rules, fmt)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    for secret in (BASE64_KEY, HEX_KEY, PLAIN_SECRET, BASE64_KEY[:16], HEX_KEY[:16]):
        assert secret not in output
    # every finding is still there, located, with the value hidden or redacted
    assert output.count(HIDDEN) == 3  # api_key_env, api_secret_env, passphrase_env
    assert output.count(REDACTED) >= 3  # the enum, the URL, the mapping key
    assert ORDINARY_ID in output  # the bad name is quoted whole: it is not a key
    if fmt == "json":
        findings = json.loads(done.stdout)
        hidden = {f["path"] for f in findings if HIDDEN in f["message"]}
        assert "/exchanges/0/credentials/api_key_env" in hidden
        assert all(f["file"].startswith(str(rules)) for f in findings)


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_secret_set_by_a_profile_override_is_hidden(rules, fmt):
    """The override is re-validated against the venues schema: the finding points at the
    profile's line and still hides the value."""
    override = f'overrides: {{venues.exchanges.kraken_futures.credentials.api_secret_env: "{PLAIN_SECRET}"}}'
    edit_once(rules / "profiles" / "paper.yaml", "overrides: {}", override)
    done = _validate(rules, fmt)
    output = done.stdout + done.stderr
    assert done.returncode == 1 and PLAIN_SECRET not in output and output.count(HIDDEN) == 1, output
    assert "paper.yaml" in output and "RB206" in output


def test_the_default_rules_are_unchanged_by_redaction(rules):
    """Nothing in a valid rule set is shaped like a key: validate prints the same version id."""
    done = _validate(rules, "text")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"rs-[0-9a-f]{16}", done.stdout) and REDACTED not in done.stdout


def _properties(node: Any, path: str = "") -> Iterator[tuple[str, dict]]:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, sub in properties.items():
                yield f"{path}/{name}", sub
        for key, sub in node.items():
            yield from _properties(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for sub in node:
            yield from _properties(sub, path)


def test_every_string_field_named_like_a_credential_is_marked_secret():
    named = re.compile(r"key|secret|passphrase|password|token|credential", re.IGNORECASE)
    found = []
    for kind in schema_names():
        for path, sub in _properties(load_schema(kind)):
            if named.search(path.rsplit("/", 1)[-1]) and sub.get("type") == "string":
                found.append(path)
                assert sub.get("x-secret") is True, f"{kind}: {path} names a credential but is not x-secret"
    assert len(found) >= 3  # api_key_env, api_secret_env, passphrase_env (in each venue kind)


@pytest.mark.parametrize(
    "text",
    [
        "/home/operator/rulebot/data/recordings/2026-11-30.snapshots.parquet",
        "/Users/Operator/Projects2026/RuleBot/Data2026/recordings/BTCUSDT",  # mixed case and digits
        "version rs-0123456789abcdef",
        "fingerprint sha256:" + "effbc9ca9f5f585a" * 4,  # a whole dry-run fingerprint: 64 hex digits
        "position BTCUSDT-LONG-1764547200-e0 closed, order rb-3f9a0c7be21d4f6a8b5c",
        f"'risk.{ORDINARY_ID}' does not exist under 'risk'",
        "components.funding_extreme.params.lookback_window_minutes_for_zscore",
    ],
)
def test_ordinary_values_are_not_redacted(text):
    assert redact_tokens(text) == text
    assert redact(text) == text
    assert Diagnostic("RB201", text, suggestion=text, path=text).message == text


@pytest.mark.parametrize("key", [BASE64_KEY, HEX_KEY, "sk_live_51HqLyjWDarjtT1zdp7dcXKHHmg6nq1T2bYqUsvB4"])
def test_key_shaped_text_is_redacted_in_every_field_of_a_diagnostic(key):
    found = Diagnostic("RB206", f'"{key}" is wrong', file="venues.yaml", path=f"/symbols/{key}", suggestion=key)
    assert key not in found.message + found.path + found.suggestion
    assert found.message == f'"{REDACTED}" is wrong' and found.suggestion == REDACTED
    assert found.file == "venues.yaml"


def test_a_cut_never_leaves_a_piece_of_a_key():
    """clip() redacts before cutting: cut first, the 25 characters of key left would no longer
    be long enough to be recognised."""
    quoted = clip(f"a value of several words, then {BASE64_KEY}", 60)
    assert BASE64_KEY[:8] not in quoted and REDACTED in quoted
