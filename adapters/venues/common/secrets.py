"""API keys: read from the environment only (the rules name the variables, never the values),
held in a type whose repr and str never show them, and redacted from any text on request."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.common.redaction import REDACTED, register_secret

#: The rules' ``credentials`` keys (rules/venues.yaml), in the order Credentials takes them.
KEY_NAMES = ("api_key_env", "api_secret_env", "passphrase_env")


@dataclass(frozen=True, slots=True)
class Credentials:
    """A venue's keys. ``repr``/``str`` say which parts are set, never their values, so a
    Credentials in a log line, a traceback or an assertion message leaks nothing."""

    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)

    def __repr__(self) -> str:
        parts = ["api_key", "api_secret"] + (["passphrase"] if self.passphrase else [])
        return f"Credentials({', '.join(f'{p}={REDACTED}' for p in parts)})"

    __str__ = __repr__

    def __post_init__(self) -> None:
        # Held keys are redacted from every text redaction sees (logs, diagnostics, every
        # VenueError's message) for the rest of the process, whatever path built them.
        for value in (self.api_key, self.api_secret, self.passphrase):
            register_secret(value)

    def values(self) -> tuple[str, ...]:
        """Every non-empty secret value, longest first (what ``redact`` replaces)."""
        return tuple(sorted((v for v in (self.api_key, self.api_secret, self.passphrase) if v), key=len, reverse=True))


def missing_variables(names: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> list[str]:
    """The environment variables the rules name for a venue's keys that are unset or empty."""
    return [names[k] for k in KEY_NAMES if names.get(k) and not environ.get(names[k], "").strip()]


def credentials_from_env(names: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> Credentials | None:
    """The keys in the variables ``names`` lists (the rules' ``credentials``), or None when
    any named one is unset or empty (``missing_variables`` says which)."""
    if missing_variables(names, environ) or not names.get("api_key_env") or not names.get("api_secret_env"):
        return None
    value = {k: environ.get(names[k], "").strip() if names.get(k) else "" for k in KEY_NAMES}
    return Credentials(value["api_key_env"], value["api_secret_env"], value["passphrase_env"])


def redact(text: str, credentials: Credentials | None) -> str:
    """``text`` with every value of ``credentials`` replaced by ``[REDACTED]``."""
    for value in credentials.values() if credentials is not None else ():
        text = text.replace(value, REDACTED)
    return text
