"""Secrets registered with the redaction (engine/common/redaction.py) are hidden whatever
their shape, and so is the text a base64 secret decodes to."""

from __future__ import annotations

import base64
import logging

import pytest

from engine.cli import logs
from engine.common.redaction import REDACTED, forget_secrets, redact, redact_tokens, register_secret

SECRET_TEXT = "LEAKCANARY-secret-bytes"
SECRET = base64.b64encode(SECRET_TEXT.encode()).decode()


@pytest.fixture(autouse=True)
def _clean():
    forget_secrets()
    yield
    forget_secrets()


def test_a_registered_key_of_any_shape_is_redacted():
    assert redact_tokens("key LEAKCANARY-k1 used") == "key LEAKCANARY-k1 used"  # not secret-shaped
    register_secret("LEAKCANARY-k1")
    assert redact_tokens("key LEAKCANARY-k1 used") == f"key {REDACTED} used"


def test_a_base64_secret_and_its_decoded_text_are_redacted():
    register_secret(SECRET)
    assert SECRET not in redact(f"signing with {SECRET}")
    assert SECRET_TEXT not in redact(f"decoded: {SECRET_TEXT}!")


def test_short_values_are_not_registered():
    register_secret("abc")
    assert redact_tokens("abc") == "abc"


def test_the_log_filter_and_tracebacks_hide_registered_secrets(capsys):
    register_secret("LEAKCANARY-k2")
    logs.configure("text", "info")
    log = logging.getLogger("tests.live.secrets")
    try:
        raise ValueError("auth failed for LEAKCANARY-k2")
    except ValueError:
        log.exception("venue call with key %s", "LEAKCANARY-k2")
    for handler in [h for h in logging.getLogger().handlers if h.get_name() == logs.HANDLER_NAME]:
        logging.getLogger().removeHandler(handler)
    err = capsys.readouterr().err
    assert "LEAKCANARY-k2" not in err and REDACTED in err
