"""Kraken Futures Authent over every case of the shared signature vectors."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from adapters.venues.common.secrets import Credentials
from adapters.venues.kraken_futures.auth import Signer, authent, encode, endpoint_path
from engine.ports import VenueFatal

VECTORS = json.loads((Path(__file__).parent / "kraken_futures_auth.json").read_text())
CCXT = VECTORS["ccxt_cases"]
NONCE = VECTORS["nonce_cases"]


@pytest.mark.parametrize("case", CCXT, ids=[c["name"] for c in CCXT])
def test_ccxt_cases_sign_the_encoded_text_and_strip_derivatives(case: dict) -> None:
    url = urlsplit(case["url"])
    post_data = encode(dict(parse_qsl(url.query, keep_blank_values=True)))
    assert post_data == case["post_data"]  # encoding the decoded parameters gives the bytes Kraken hashed
    assert endpoint_path(url.path) == case["endpoint_path"]
    assert authent(VECTORS["secret_ccxt_cases"], post_data, case["nonce"], url.path) == case["expected_authent"]


@pytest.mark.parametrize("case", NONCE, ids=[c["name"] for c in NONCE])
def test_nonce_cases(case: dict) -> None:
    for path in (case["url_path_as_sent"], case["endpoint_path"]):
        assert authent(case["secret"], case["post_data"], case["nonce"], path) == case["expected_authent"]


@pytest.mark.parametrize("case", VECTORS["negative_cases"], ids=[c["name"] for c in VECTORS["negative_cases"]])
def test_hashing_the_derivatives_prefix_is_never_what_we_sign(case: dict) -> None:
    ours = authent(case["secret"], case["post_data"], case["nonce"], case["endpoint_path"])
    assert ours != case["authent_that_must_not_match"]


def test_encode_writes_spaces_as_percent_20_booleans_lower_and_repeats_list_keys() -> None:
    assert encode({"cliOrdId": "bot 1/2", "reduceOnly": True}) == "cliOrdId=bot%201%2F2&reduceOnly=true"
    assert encode({"cliOrdIds": ["a", "b c"]}) == "cliOrdIds=a&cliOrdIds=b%20c"
    assert encode(None) == "" == encode({})


def test_signer_nonces_rise_even_when_the_clock_stands_still() -> None:
    signer = Signer(Credentials("k", VECTORS["secret_ccxt_cases"]), clock=lambda: 1_700_000_000.0)
    first, second = signer.headers("a=1", "/derivatives/api/v3/x"), signer.headers("a=1", "/derivatives/api/v3/x")
    assert int(second["Nonce"]) == int(first["Nonce"]) + 1
    assert first["Authent"] == authent(VECTORS["secret_ccxt_cases"], "a=1", first["Nonce"], "/api/v3/x")
    assert first["APIKey"] == "k"


def test_a_secret_that_is_not_base64_is_fatal_and_not_quoted() -> None:
    with pytest.raises(VenueFatal) as caught:
        Signer(Credentials("k", "not-base64-secret!!"))
    assert "not-base64-secret" not in str(caught.value)
