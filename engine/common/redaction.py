"""Keeping secrets out of what rulebot writes: log records and diagnostics.

One definition of what a secret looks like, used by the log filter (engine/cli/logs.py) and
by every diagnostic (engine/language/diagnostics.py), so the two can never disagree.

* :func:`redact_tokens` replaces anything *shaped* like key material: a run of 32+ hex
  digits, or 32+ characters of base64 that switch between upper case, lower case and digits
  as random bytes do. Paths, rulebot's ids (``rs-…`` versions, position ids) and digests
  labelled as such (``sha256:…`` fingerprints) are not key material and stay.
* :func:`redact` also hides the value of anything *named* like a secret (``api_key=…``,
  ``"secret": "…"``). Logs use it; diagnostics do not, because their messages quote rule
  expressions, where ``book_key == 1`` is a comparison, not an assignment.
* :func:`register_secret` adds the values live mode actually holds (API keys, secrets,
  passphrases read from the environment): whatever their shape, they, and the text a
  base64 secret decodes to, are replaced wherever redaction runs, error messages included.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading

REDACTED = "[REDACTED]"

SENSITIVE_NAME = re.compile(r"key|secret|passphrase|signature|password|token", re.IGNORECASE)
#: ``name=value``, ``name: value`` or ``"name": "value"`` where the name looks sensitive.
_SENSITIVE_ASSIGNMENT = re.compile(
    r"""(?P<name>[\w-]*(?:key|secret|passphrase|signature|password|token)[\w-]*)"""
    r"""(?P<sep>["']?\s*[:=]\s*["']?)(?P<value>[^\s"',;&}\]]+)""",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
#: A hex key can follow ``k=`` or sit inside a URL, so hex runs are found on their own.
_HEX_RUN = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{32,}(?![0-9a-fA-F])")
#: A hex run right after one of these is a digest rulebot or a venue prints, not a key.
_DIGEST_LABEL = re.compile(r"(?:sha1|sha256|sha512|md5|blake2b):$", re.IGNORECASE)
#: Random base64 changes character class (upper, lower, digit) at about 2 of 3 characters;
#: words, paths and CamelCase names far less often. Below this share a token is not a key.
_RANDOM_SWITCHES = 0.3


def _class(c: str) -> int:
    return 0 if c.isdigit() else 1 if c.isupper() else 2


def _secret_shaped(token: str) -> bool:
    """32+ characters of base64 that mixes upper case, lower case and digits and switches
    between them as often as random key material does (``/home/Operator/Data2026/recordings``
    mixes all three, but rarely switches)."""
    chars = [c for c in token if c.isalnum()]
    classes = {_class(c) for c in chars}
    if classes != {0, 1, 2}:
        return False
    switches = sum(_class(a) != _class(b) for a, b in zip(chars, chars[1:], strict=False))
    return switches >= _RANDOM_SWITCHES * (len(chars) - 1)


def _hex(match: re.Match[str]) -> str:
    return match[0] if _DIGEST_LABEL.search(match.string, 0, match.start()) else REDACTED


def _base64(match: re.Match[str]) -> str:
    return REDACTED if _secret_shaped(match[0]) else match[0]


#: Values registered as secrets, longest first (a secret containing another is replaced whole).
_known: tuple[str, ...] = ()
_known_lock = threading.Lock()
_MIN_SECRET = 6  # shorter values are too likely to be ordinary text to replace everywhere


def _decoded(value: str) -> str | None:
    """The text a base64 secret decodes to, when it is printable text of some length."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    text = raw.decode("utf-8", errors="ignore")
    printable = "".join(c for c in text if c.isprintable())
    return printable if len(printable) >= _MIN_SECRET and len(printable) >= len(raw) // 2 else None


def register_secret(value: str) -> None:
    """Redact ``value`` (and its base64-decoded text) from everything redaction sees, for the
    rest of the process: the values live mode holds, registered as soon as they are read."""
    global _known
    if not isinstance(value, str) or len(value.strip()) < _MIN_SECRET:
        return
    forms = {value.strip()}
    decoded = _decoded(value.strip())
    if decoded is not None:
        forms.add(decoded)
    with _known_lock:
        _known = tuple(sorted(set(_known) | forms, key=lambda v: (-len(v), v)))


def forget_secrets() -> None:
    """Forget every registered secret (tests)."""
    global _known
    with _known_lock:
        _known = ()


def redact_known(text: str) -> str:
    """``text`` with every registered secret replaced."""
    for value in _known:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def redact_tokens(text: str) -> str:
    """``text`` with every registered secret and every secret-shaped token replaced by
    ``[REDACTED]``: runs of 32+ hex digits (unless labelled as a digest), then base64-shaped tokens."""
    return _TOKEN.sub(_base64, _HEX_RUN.sub(_hex, redact_known(text)))


def redact(text: str) -> str:
    """``text`` with the values of key/secret-named fields and secret-shaped tokens replaced."""
    text = _SENSITIVE_ASSIGNMENT.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", text)
    return redact_tokens(text)
