"""What the BloFin client takes from the rules (rules/venues.yaml, the ``blofin`` exchange):
the host, the symbol map, the offline contract specs it checks the venue against, the
rate-limit pools and the NAMES of the environment variables that hold the keys.

The host is, first to last: the ``base_url`` given to the factory (``--base-url``), the
``BLOFIN_BASE_URL`` environment variable, the rules' ``demo_url`` when ``BLOFIN_DEMO`` is
``1``/``true``/``yes``, else the rules' ``base_url``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.kinds.venues import Exchange, Instrument

BASE_URL_ENV = "BLOFIN_BASE_URL"
DEMO_ENV = "BLOFIN_DEMO"
PRODUCTION_URL = "https://openapi.blofin.com"
#: rulebot trades one-way (net) positions on cross margin; the venue's mode is not in the rules.
MARGIN_MODE = "cross"
POSITION_SIDE = "net"
SETTLE_CURRENCY = "USDT"


@dataclass(frozen=True, slots=True)
class BlofinConfig:
    venue_id: str
    base_url: str
    demo: bool
    symbols: Mapping[str, str]  # rulebot symbol → instId
    expected: Mapping[str, Instrument]  # instId → the rules' contract spec
    rate_limits: tuple[Mapping[str, Any], ...]
    credential_names: Mapping[str, str]
    maker_fee_pct: float

    @classmethod
    def from_exchange(
        cls, exchange: Exchange, *, base_url: str | None = None, environ: Mapping[str, str] = os.environ
    ) -> BlofinConfig:
        params = exchange.params
        demo = environ.get(DEMO_ENV, "").strip().lower() in ("1", "true", "yes")
        chosen = base_url or environ.get(BASE_URL_ENV) or (params.get("demo_url") if demo else None)
        chosen = chosen or params.get("base_url") or PRODUCTION_URL
        return cls(
            venue_id=exchange.id,
            base_url=str(chosen).rstrip("/"),
            demo=str(chosen).rstrip("/") == str(params.get("demo_url", "")).rstrip("/"),
            symbols=dict(exchange.symbols),
            expected=dict(exchange.instruments),
            rate_limits=tuple(params.get("rate_limits", ())),
            credential_names=dict(params.get("credentials", {})),
            maker_fee_pct=exchange.maker_fee_pct,
        )
