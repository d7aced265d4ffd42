"""Authent against every case of the independent vectors (ccxt 4.5.90 and the upstream
python-kraken-sdk golden value, never rulebot's own signer): ../shared/vectors/
kraken_futures_auth.json, copied next to this test so a clean checkout has them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from adapters.venues.common.secrets import Credentials
from adapters.venues.kraken_futures.auth import Signer, authent, encode, endpoint_path
from engine.ports import VenueFatal

COPY = Path(__file__).with_name("kraken_futures_auth.json")
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "vectors" / "kraken_futures_auth.json"
VECTORS = json.loads(COPY.read_text(encoding="utf-8"))
CCXT = VECTORS["ccxt_cases"]
NONCE = VECTORS["nonce_cases"]
NEGATIVE = VECTORS["negative_cases"]


@pytest.mark.parametrize("case", CCXT, ids=[c["name"] for c in CCXT])
def test_ccxt_cases(case: dict) -> None:
    url = httpx.URL(case["url"])
    path = endpoint_path(url.path)
    assert path == case["endpoint_path"]
    assert url.query.decode() == case["post_data"]  # what is hashed is what is sent
    assert case["post_data"] + case["nonce"] + path == case["sha256_input"]
    assert authent(VECTORS["secret_ccxt_cases"], case["post_data"], case["nonce"], path) == case["expected_authent"]
    assert case["headers"]["Authent"] == case["expected_authent"]


@pytest.mark.parametrize("case", NONCE, ids=[c["name"] for c in NONCE])
def test_nonce_cases(case: dict) -> None:
    path = endpoint_path(case["url_path_as_sent"])
    assert path == case["endpoint_path"]
    assert authent(case["secret"], case["post_data"], case["nonce"], path) == case["expected_authent"]


@pytest.mark.parametrize("case", NEGATIVE, ids=[c["name"] for c in NEGATIVE])
def test_hashing_the_derivatives_prefix_is_wrong(case: dict) -> None:
    assert authent(case["secret"], case["post_data"], case["nonce"], case["endpoint_path"]) == (
        case["authent_that_must_not_match"]
    )  # the vector is what the mistake gives ...
    right = authent(case["secret"], case["post_data"], case["nonce"], endpoint_path(case["endpoint_path"]))
    assert right != case["authent_that_must_not_match"]  # ... and the signer's path rule avoids it


def test_every_case_is_covered() -> None:
    assert (len(CCXT), len(NONCE), len(NEGATIVE)) == (7, 3, 1)


@pytest.mark.skipif(not SHARED.exists(), reason="the shared vectors sit beside the main checkout only")
def test_copy_equals_the_shared_vectors() -> None:
    assert json.loads(SHARED.read_text(encoding="utf-8")) == VECTORS


def test_encode_matches_the_vectors_encoding() -> None:
    params = {"orderType": "mkt", "symbol": "PF_ETHUSD", "side": "sell", "size": "0.01", "reduceOnly": True}
    text = encode({**params, "cliOrdId": "bot 1/2", "limitPrice": None})
    assert text == CCXT[1]["post_data"]  # %20 for a space, %2F for a slash, true in lower case


def test_signer_headers_and_increasing_nonces() -> None:
    creds = Credentials("TEST-PUBLIC-KEY", VECTORS["secret_ccxt_cases"])
    signer = Signer(creds, clock=lambda: 1_700_000_000.0)
    first = signer.headers("/derivatives/api/v3/sendorder", NONCE[2]["post_data"])
    second = signer.headers("/derivatives/api/v3/sendorder", NONCE[2]["post_data"])
    assert first["Nonce"] == "1700000000000" and second["Nonce"] == "1700000000001"
    assert first["Authent"] == NONCE[2]["expected_authent"]
    assert first["APIKey"] == "TEST-PUBLIC-KEY"
    assert second["Authent"] != first["Authent"]
    assert "TEST-PUBLIC-KEY" not in repr(signer) and VECTORS["secret_ccxt_cases"] not in repr(signer)


def test_a_secret_that_is_not_base64_is_fatal_and_not_shown() -> None:
    secret = "rttp4AzwRfYEdQ7R7X8Z/04Y-not-base64"
    with pytest.raises(VenueFatal) as caught:
        Signer(Credentials("k", secret))
    assert secret not in str(caught.value)
