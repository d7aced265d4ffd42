"""ACCESS-SIGN against every case of the independent vectors (produced with ccxt and the
official examples, never with rulebot's signer): ../shared/vectors/blofin_auth.json, copied
next to this test so a clean checkout has them; the copy must equal the shared file."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.venues.blofin.auth import Signer, prehash, sign

COPY = Path(__file__).with_name("blofin_auth.json")
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "vectors" / "blofin_auth.json"
VECTORS = json.loads(COPY.read_text(encoding="utf-8"))
CASES = [(c, VECTORS["secret"]) for c in VECTORS["ccxt_cases"]] + [(c, c["secret"]) for c in VECTORS["nonce_cases"]]


@pytest.mark.parametrize(("case", "secret"), CASES, ids=[c["name"] for c, _ in CASES])
def test_sign_matches_every_vector(case: dict, secret: str) -> None:
    args = (case["request_path"], case["method"], case["timestamp"], case["nonce"], case["body"])
    assert prehash(*args) == case["prehash"]
    signature = sign(secret, *args)
    assert signature == case["expected_sign"]
    assert len(signature) == 88


def test_vector_file_has_all_seven_cases() -> None:
    assert len(CASES) == 7


@pytest.mark.skipif(not SHARED.exists(), reason="the shared vectors sit beside the main checkout only")
def test_copy_equals_the_shared_vectors() -> None:
    assert json.loads(SHARED.read_text(encoding="utf-8")) == VECTORS


def test_base64_of_the_raw_digest_is_not_what_blofin_wants() -> None:
    """The classic mistake the docs warn about gives a 44-character value that matches no vector."""
    import hashlib
    import hmac

    case = VECTORS["ccxt_cases"][0]
    raw = hmac.new(VECTORS["secret"].encode(), case["prehash"].encode(), hashlib.sha256).digest()
    assert base64.b64encode(raw).decode() != case["expected_sign"]


def test_compact_and_spaced_json_sign_differently() -> None:
    compact, spaced = VECTORS["nonce_cases"][1], VECTORS["nonce_cases"][2]
    assert compact["expected_sign"] != spaced["expected_sign"]


@dataclass(frozen=True)
class _Keys:
    api_key: str
    api_secret: str
    passphrase: str


def test_signer_headers_reproduce_the_ccxt_vector_with_its_timestamp_and_nonce() -> None:
    case = VECTORS["ccxt_cases"][2]  # post_place_limit_order
    keys = _Keys(VECTORS["api_key"], VECTORS["secret"], VECTORS["passphrase"])
    signer = Signer(keys, clock=lambda: int(case["timestamp"]) / 1000, nonce=lambda: case["nonce"])
    headers = signer.headers(case["method"], case["request_path"], case["body"])
    assert headers == case["headers"]
    assert "secret" not in repr(signer)


def test_signer_uses_a_fresh_nonce_every_request() -> None:
    keys = _Keys("k", "s", "p")
    signer = Signer(keys, clock=lambda: 1_700_000_000.0)
    first, second = (
        signer.headers("GET", "/api/v1/account/balance", ""),
        signer.headers("GET", "/api/v1/account/balance", ""),
    )
    assert first["ACCESS-NONCE"] != second["ACCESS-NONCE"]
    assert first["ACCESS-SIGN"] != second["ACCESS-SIGN"]
