"""CoinGlass authentication: one header, ``CG-API-KEY`` (reference §3.1), whose value comes
from the environment variable the rules name and never appears in a repr, log or error."""

from __future__ import annotations

import os
from collections.abc import Mapping

HEADER = "CG-API-KEY"
REDACTED = "***"


class ApiKey:
    """The key's value, held so that printing the object cannot show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        if not value or value != value.strip():
            raise ValueError("a CoinGlass API key is a non-empty string without surrounding blanks")
        self._value = value

    def headers(self) -> dict[str, str]:
        return {HEADER: self._value}

    def redact(self, text: str) -> str:
        """``text`` with every occurrence of the key replaced, for messages built from answers."""
        return text.replace(self._value, REDACTED)

    def __repr__(self) -> str:
        return f"ApiKey({REDACTED})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def api_key_from_env(variable: str, environ: Mapping[str, str] = os.environ) -> ApiKey | None:
    """The key in ``variable``, or None when it is unset or blank."""
    value = environ.get(variable, "").strip()
    return ApiKey(value) if value else None
