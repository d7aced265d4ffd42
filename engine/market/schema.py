"""The contract of recorded market data: the JSON Schema of one snapshot, the input of one cycle.
engine/market/snapshot.py is what reads it; the schema documents it for writers and editors."""

from __future__ import annotations

from engine.language.schemagen.dsl import INPUTS, arr, mapping, num, obj


def snapshot_schema() -> dict:
    """The JSON Schema of one snapshot line (schemas/snapshot.schema.json)."""

    def reading(description: str, unit: str, minimum: float | None = None) -> dict:
        return num(description, unit, minimum=minimum)

    def stamp(input_name: str) -> dict:
        return num(f"When `{input_name}` was published (default: the snapshot's ts).", "epoch s", minimum=0)

    level = arr("[price, size].", num("Price or size.", "number", minimum=0), min_items=2, max_items=2)
    symbol = obj(
        "Inputs of one symbol; every field may be missing.",
        {
            "price": reading("Last traded price.", "quote", 0),
            "mark": reading("Mark price.", "quote", 0),
            "bid": reading("Best bid.", "quote", 0),
            "ask": reading("Best ask.", "quote", 0),
            "book": obj(
                "Top of the order book, best first.",
                {"bids": arr("Bid levels.", level), "asks": arr("Ask levels.", level)},
            ),
            "candles": arr(
                "1-minute candles closed since the previous snapshot: [open_ts, open, high, low, close, volume].",
                arr("A candle.", num("Value.", "number"), min_items=6, max_items=6),
            ),
            "funding_rate": reading("Funding rate per funding interval (fraction).", "rate/interval"),
            "open_interest_usd": reading("Open interest.", "USD", 0),
            "liq_long_usd": reading("Long liquidations since the previous reading.", "USD", 0),
            "liq_short_usd": reading("Short liquidations since the previous reading.", "USD", 0),
            "taker_buy_usd": reading("Taker buy volume since the previous reading.", "USD", 0),
            "taker_sell_usd": reading("Taker sell volume since the previous reading.", "USD", 0),
            "exchange_netflow_usd": reading("Net exchange inflow since the previous reading (outflow < 0).", "USD"),
            "implied_skew": reading("25-delta put IV minus call IV, when options data exists.", "vol points"),
            **{f"{name}_ts": stamp(name) for name in INPUTS if name not in ("fear_greed",)},
        },
        required=[],
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "snapshot",
        "description": "One cycle's market input (one JSON line of a snapshot file). engine/market/snapshot.py reads it.",
        "type": "object",
        "additionalProperties": False,
        "required": ["ts"],
        "properties": {
            "v": num("Format version.", "version", minimum=1, maximum=1, integer=True),
            "ts": num("Cycle time.", "epoch s", minimum=0),
            "fear_greed": num("Fear & Greed index.", "0-100", minimum=0, maximum=100),
            "fear_greed_ts": stamp("fear_greed"),
            "symbols": mapping("Per-symbol inputs by rulebot symbol.", symbol, key_pattern=r"^[A-Z0-9]{2,20}$"),
        },
        "x-kind": "snapshot",
    }
