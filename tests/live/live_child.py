"""`rulebot run --live …` in a child process whose venue registry builds the in-process fake
venue (tests/live/fake_exchange.py) from the JSON book named by ``FAKE_VENUE_BOOK``, for the
end-to-end live test (tests/live/test_live_run.py). Everything else — the CLI, the keys from
the environment, the live broker, the reconciliation, the stops, the state and the logs —
is the real thing. The fake echoes the API key in its first error, as a careless venue
would, so the secrets scan sees whether rulebot lets it through.

Usage: python -m tests.live.live_child ARGS… (the arguments of `rulebot`)."""

from __future__ import annotations

import json
import os
import sys
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.ports import Instrument, VenueRetryable
from tests.live.fake_exchange import FakeExchange


class ChildVenue(FakeExchange):
    def instruments(self) -> Sequence[Instrument]:
        return []


def factory(exchange, credentials, base_url=None, **_):  # the registry's signature
    book = json.loads(Path(os.environ["FAKE_VENUE_BOOK"]).read_text(encoding="utf-8"))
    venue = ChildVenue(price=book["price"], cash=book["cash"], held=dict(book["held"]), now=time.time())
    venue.fail("balance", VenueRetryable(f"nonce rejected for key {credentials.api_key}", venue=exchange.id))
    return venue


def _install() -> None:
    import adapters.venues as venues

    registry = getattr(venues, "VENUES", None)
    if registry is None:
        registry = venues.VENUES = {}
    registry["kraken_futures"] = factory
    try:
        import adapters.venues.common.secrets  # noqa: F401 — the shared layer, once merged
    except ImportError:

        @dataclass(frozen=True)
        class Credentials:
            api_key: str
            api_secret: str
            passphrase: str = ""

            def __repr__(self) -> str:
                return "Credentials(…)"

        module = types.ModuleType("adapters.venues.common.secrets")
        module.Credentials = Credentials  # type: ignore[attr-defined]
        sys.modules["adapters.venues.common"] = types.ModuleType("adapters.venues.common")
        sys.modules["adapters.venues.common.secrets"] = module


if __name__ == "__main__":
    _install()
    from engine.cli.app import run

    sys.argv = ["rulebot", *sys.argv[1:]]
    run()
