"""The venue's published request signing, written from its documentation and the shared
reference, and nothing else. Keep it a pure function of (secret, the exact text sent, the
path, the time/nonce) so the vector test can call it directly; the caller encodes once,
signs that text, and sends that same text (never httpx's ``params=``/``json=`` on a signed
call: they re-encode)."""

from __future__ import annotations

import base64
import hashlib
import hmac


def signature(secret: str, prehash: str) -> str:
    """Replace with the venue's algorithm (which digest, which key decoding, hex or raw
    before base64); this placeholder is HMAC-SHA256, base64 of the raw digest."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), prehash.encode("utf-8"), hashlib.sha256).digest()).decode(
        "ascii"
    )
