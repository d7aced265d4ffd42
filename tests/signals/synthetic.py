"""A synthetic but realistic market for BTCUSDT and ETHUSDT (seeded, deterministic).

* a week of hourly history before the first minute: price, open interest (hourly),
  exchange net flow (hourly), funding every 8 h, Fear & Greed daily;
* then ``minutes`` one-minute snapshots: one closed candle each, a 10-level book, the
  price, liquidations since the previous minute, open interest and net flow on the hour,
  funding on the 8 h marks, and the day's Fear & Greed republished with its own ts.

BTC follows a random walk with slowly changing drift; ETH echoes BTC's return one minute
later (×0.8) plus its own noise, so lead-lag has something to find. A long-liquidation
cascade runs from minute 300 to 330 and the book's imbalance swings slowly.

Every snapshot is a JSON-shaped dict (what a recorder would write), parsed by the tests.
"""

from __future__ import annotations

import math
import random

from tests.signals.helpers import DAY, FOLLOWER, HOUR, LEADER, MIN, T0

HISTORY_HOURS = 7 * 24 + 8
START = T0 + 10 * DAY  # the first one-minute snapshot (an hour and a day boundary)


def market(seed: int = 11, minutes: int = 600) -> list[dict]:
    rnd = random.Random(seed)
    out: list[dict] = []
    price = {LEADER: 40_000.0, FOLLOWER: 2_200.0}
    oi = {LEADER: 12e9, FOLLOWER: 5e9}
    funding = {LEADER: 0.0001, FOLLOWER: 0.0001}
    fear_greed = 55.0

    def day_start(ts):
        return ts - (ts - T0) % DAY

    # ---- hourly history: ts = START − HISTORY_HOURS h … START − 1 h
    for h in range(HISTORY_HOURS, 0, -1):
        ts = START - h * HOUR
        if (ts - T0) % DAY == 0:
            fear_greed = min(100.0, max(0.0, fear_greed + rnd.gauss(5.0, 3.0)))  # drifting into greed
        symbols = {}
        for sym in (LEADER, FOLLOWER):
            price[sym] *= math.exp(rnd.gauss(0.0, 0.006))
            oi[sym] *= math.exp(rnd.gauss(0.0, 0.004))
            fields = {
                "price": round(price[sym], 2),
                "open_interest_usd": round(oi[sym]),
                "exchange_netflow_usd": round(rnd.gauss(20_000.0, 120_000.0)),
            }
            if (ts - T0) % (8 * HOUR) == 0:
                funding[sym] = rnd.gauss(0.0001, 0.00004)
                fields["funding_rate"] = round(funding[sym], 8)
            symbols[sym] = fields
        out.append({"ts": ts, "symbols": symbols, "fear_greed": round(fear_greed), "fear_greed_ts": day_start(ts)})

    # ---- one-minute snapshots: candle i closes at START + i min
    btc_ret_prev = 0.0
    drift = 0.0
    for i in range(minutes):
        ts = START + i * MIN
        if i % 60 == 0:
            drift = rnd.gauss(0.0, 0.0002)
        btc_ret = drift + rnd.gauss(0.0, 0.0012)
        returns = {LEADER: btc_ret, FOLLOWER: 0.8 * btc_ret_prev + rnd.gauss(0.0, 0.0006)}
        btc_ret_prev = btc_ret
        imbalance = 0.6 * math.sin(i / 12.0) + rnd.gauss(0.0, 0.02)
        symbols = {}
        for sym in (LEADER, FOLLOWER):
            open_ = price[sym]
            close = open_ * math.exp(returns[sym])
            wick = abs(rnd.gauss(0.0, 0.0004)) * open_
            price[sym] = close
            size = 5.0 if sym == LEADER else 60.0
            bids = [
                [round(close * (1 - 0.0001 * (k + 1)), 2), round(size * (1 + imbalance) * rnd.uniform(0.95, 1.05), 4)]
                for k in range(10)
            ]
            asks = [
                [round(close * (1 + 0.0001 * (k + 1)), 2), round(size * (1 - imbalance) * rnd.uniform(0.95, 1.05), 4)]
                for k in range(10)
            ]
            cascade = 300 <= i < 330
            fields = {
                "price": close,
                "candles": [
                    [
                        ts - MIN,
                        open_,
                        max(open_, close) + wick,
                        min(open_, close) - wick,
                        close,
                        round(rnd.uniform(10, 100), 3),
                    ]
                ],
                "book": {"bids": bids, "asks": asks},
                "liq_long_usd": round(rnd.expovariate(1 / 400.0) + (6_000.0 if cascade else 0.0), 2),
                "liq_short_usd": round(rnd.expovariate(1 / 400.0), 2),
            }
            if i % 60 == 0:
                oi[sym] *= math.exp(rnd.gauss(0.004 if i >= 300 else 0.0, 0.003))
                fields["open_interest_usd"] = round(oi[sym])
                fields["exchange_netflow_usd"] = round(rnd.gauss(60_000.0, 120_000.0))
            if (ts - T0) % (8 * HOUR) == 0:
                funding[sym] = rnd.gauss(0.0004, 0.00004)  # crowded longs
                fields["funding_rate"] = round(funding[sym], 8)
            symbols[sym] = fields
        out.append({"ts": ts, "symbols": symbols, "fear_greed": round(fear_greed), "fear_greed_ts": day_start(ts)})
    return out
