"""What the client takes from the rules' exchange (rules/venues.yaml): rename the two
environment variables, keep the order in which the host is chosen."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.language.kinds.venues import Exchange, Instrument

BASE_URL_ENV = "TEMPLATE_BASE_URL"
TESTNET_ENV = "TEMPLATE_TESTNET"
TRUE = ("1", "true", "yes")


@dataclass(frozen=True, slots=True)
class TemplateConfig:
    venue_id: str
    base_url: str
    demo: bool
    symbols: Mapping[str, str]  # rulebot symbol → the venue's
    expected: Mapping[str, Instrument]  # the venue's symbol → the rules' offline contract spec
    rate_limits: tuple[Mapping[str, Any], ...]

    @classmethod
    def from_exchange(
        cls, exchange: Exchange, *, base_url: str | None = None, environ: Mapping[str, str] = os.environ
    ) -> TemplateConfig:
        """Host: ``base_url`` (``--base-url``), the environment variable, the rules' demo
        host when the testnet variable is set, else the rules' ``base_url``."""
        params = exchange.params
        testnet = environ.get(TESTNET_ENV, "").strip().lower() in TRUE
        demo_url = params.get("demo_url") if testnet else None
        chosen = str(base_url or environ.get(BASE_URL_ENV) or demo_url or params["base_url"]).rstrip("/")
        return cls(
            venue_id=exchange.id,
            base_url=chosen,
            demo=testnet,
            symbols=dict(exchange.symbols),
            expected=dict(exchange.instruments),
            rate_limits=tuple(params.get("rate_limits", ())),
        )
