"""What the Kraken Futures client takes from the rules (rules/venues.yaml, the
``kraken_futures`` exchange): the host, the symbol map, the offline contract specs it checks
the venue against, the fees, the rate-limit pools and the NAMES of the key variables.

The host is, first to last: the ``base_url`` given to the factory (``--base-url``), the
``KRAKEN_FUTURES_BASE_URL`` environment variable, the rules' ``demo_url`` when
``KRAKEN_FUTURES_TESTNET`` is ``1``/``true``/``yes``, else the rules' ``base_url``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.kinds.venues import Exchange, Instrument

BASE_URL_ENV = "KRAKEN_FUTURES_BASE_URL"
TESTNET_ENV = "KRAKEN_FUTURES_TESTNET"
PRODUCTION_URL = "https://futures.kraken.com"
DEMO_URL = "https://demo-futures.kraken.com"
TRUE = ("1", "true", "yes")


@dataclass(frozen=True, slots=True)
class KrakenConfig:
    venue_id: str
    base_url: str
    demo: bool  # the demo environment: no balances (seed "Testnet Support")
    symbols: Mapping[str, str]  # rulebot symbol → Kraken symbol (PF_XBTUSD)
    expected: Mapping[str, Instrument]  # Kraken symbol (upper case) → the rules' contract spec
    rate_limits: tuple[Mapping[str, Any], ...]
    credential_names: Mapping[str, str]
    maker_fee_pct: float
    taker_fee_pct: float

    @classmethod
    def from_exchange(
        cls, exchange: Exchange, *, base_url: str | None = None, environ: Mapping[str, str] = os.environ
    ) -> KrakenConfig:
        params = exchange.params
        demo_url = str(params.get("demo_url") or DEMO_URL).rstrip("/")
        testnet = environ.get(TESTNET_ENV, "").strip().lower() in TRUE
        chosen = base_url or environ.get(BASE_URL_ENV) or (demo_url if testnet else None)
        chosen = str(chosen or params.get("base_url") or PRODUCTION_URL).rstrip("/")
        return cls(
            venue_id=exchange.id,
            base_url=chosen,
            demo=testnet or chosen == demo_url,
            symbols={k: v.upper() for k, v in exchange.symbols.items()},
            expected={k.upper(): v for k, v in exchange.instruments.items()},
            rate_limits=tuple(params.get("rate_limits", ())),
            credential_names=dict(params.get("credentials", {})),
            maker_fee_pct=exchange.maker_fee_pct,
            taker_fee_pct=exchange.taker_fee_pct,
        )

    def venue_symbol(self, symbol: str) -> str:
        """Kraken's symbol for a rulebot symbol; KeyError names the ones the rules map."""
        try:
            return self.symbols[symbol]
        except KeyError:
            raise KeyError(f"{symbol} is not in the kraken_futures symbol map ({', '.join(self.symbols)})") from None

    def rulebot_symbol(self, venue_symbol: str) -> str | None:
        """The rulebot symbol of a Kraken symbol (any case), or None when the rules do not map it."""
        wanted = venue_symbol.upper()
        return next((ours for ours, theirs in self.symbols.items() if theirs == wanted), None)
