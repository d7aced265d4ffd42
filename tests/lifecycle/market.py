"""A synthetic market that makes the default rules trade often: a seeded random walk with
alternating liquidation cascades and extreme fear/greed, so entries, stops, time exits and
take-profits all happen within a few hours of one-minute snapshots."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

T0 = 1748131200.0
PRICES = {"BTCUSDT": 100000.0, "ETHUSDT": 2500.0, "SOLUSDT": 150.0}


def snapshots(minutes: int = 480, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    price = dict(PRICES)
    out = []
    for i in range(minutes):
        ts = T0 + 60 * i
        phase = (i // 90) % 2  # 90-minute regimes: short squeeze / long flush
        drift = 0.0006 if phase == 0 else -0.0006
        symbols = {}
        for name in price:
            o = price[name]
            c = price[name] = o * math.exp(drift + rng.gauss(0, 0.0015))
            high, low = max(o, c) * (1 + abs(rng.gauss(0, 0.0005))), min(o, c) * (1 - abs(rng.gauss(0, 0.0005)))
            long_liq, short_liq = (2000.0, 60000.0) if phase == 0 else (60000.0, 2000.0)
            symbols[name] = {
                "price": c,
                "bid": c * 0.9999,
                "ask": c * 1.0001,
                "candles": [[ts - 60, o, high, low, c, 10.0]],
                "liq_long_usd": long_liq,
                "liq_short_usd": short_liq,
                "funding_rate": 0.0001 if phase == 0 else -0.0001,
                "funding_rate_ts": ts - ts % 3600,
            }
        fear = 10 if phase == 0 else 90
        out.append({"v": 1, "ts": ts, "fear_greed": fear, "fear_greed_ts": ts, "symbols": symbols})
    return out


def write(path: Path, minutes: int = 480, seed: int = 7) -> Path:
    path.write_text("".join(json.dumps(s) + "\n" for s in snapshots(minutes, seed)), encoding="utf-8")
    return path
