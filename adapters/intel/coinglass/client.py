"""The CoinGlass v4 client: ``engine.ports.IntelPort`` over the rules' endpoints.

``read(symbols, now)`` answers one cycle's market intelligence in the snapshot format's
names (engine/market/snapshot.py): per symbol ``taker_buy_usd``/``taker_sell_usd``,
``liq_long_usd``/``liq_short_usd``, ``open_interest_usd``, ``exchange_netflow_usd`` and, when
the execution venue's funding interval is given, ``funding_rate``; globally ``fear_greed``.
Each value carries the time it was published, and no value published after ``now`` is
returned, so what a recording keeps never knew the future (reference §3.5):

* history rows (open interest, liquidation history, funding) stand for ``[t, t + interval)``
  and are published at ``t + interval + publication_lag``; a row is used only if the answer
  holding it was fetched after that (an unfinished row is never taken for a final one);
* fear & greed is a daily row, published the same way with an interval of one day;
* taker volume, the coin liquidation list and exchange balances are current figures,
  published at the cycle time they were fetched at.

A call is made only when its endpoint may have something new (taker volume each minute,
the hourly figures each hour, a history when its next row is due), at most
``max_calls_per_read`` per cycle, spaced and backed off by :class:`CoinGlassHttp`. Every
answer is cached on disk; when a call fails the cached answer is served and its endpoint is
listed in ``IntelReading.stale``. Missing data is simply absent (its signal components vote
NEUTRAL); ``read`` never raises for an API failure. A bad key (401) stops all calls and a
plan restriction (403) stops that endpoint's, each said once in the log.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from adapters.intel.coinglass import wire
from adapters.intel.coinglass.auth import ApiKey, api_key_from_env
from adapters.intel.coinglass.cache import Answer, AnswerCache
from adapters.intel.coinglass.config import BASE_URL_ENV, HISTORY, PATHS, CoinGlassConfig, coin_of, pair_of
from adapters.intel.coinglass.http import CoinGlassHttp
from engine.ports import IntelReading, VenueError, VenueFatal

logger = logging.getLogger(__name__)

DAY_S = 86400.0
#: How often a current figure is fetched again (its publication cadence, reference §3.3).
REFRESH_S = {"taker_buy_sell": 60.0, "liquidations": 3600.0, "fear_greed": 3600.0, "exchange_balance": 3600.0}
RETRY_AFTER_S = 60.0  # a failed call is not tried again sooner
HISTORY_RECHECK_S = 300.0  # a history whose next row is late is asked again this often


@dataclass(frozen=True, slots=True)
class Task:
    """One call: an endpoint for one coin, pair, exchange or nothing (fear & greed)."""

    endpoint: str
    key: str


PriceOf = Callable[[str], float | None]


class CoinGlassClient:
    """Reads CoinGlass for ``read``; every answer goes through ``cache``."""

    def __init__(
        self,
        config: CoinGlassConfig,
        http: CoinGlassHttp,
        cache: AnswerCache,
        *,
        price_of: PriceOf | None = None,
    ):
        self.config, self.http, self.cache = config, http, cache
        self._price_of = price_of
        self._next_try: dict[Task, float] = {}
        self._failing: set[Task] = set()  # tasks whose last call failed: served stale until one succeeds
        self._refused: dict[str, str] = {}  # endpoint (or "*") → why it is no longer called
        self.last_errors: dict[str, str] = {}  # endpoint → the last failure, for diagnostics

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------ what one cycle reads

    def read(self, symbols: Sequence[str], now: float) -> IntelReading:
        """What was published by ``now`` for ``symbols``, fetching what is due first."""
        tasks = list(self._tasks(symbols))
        stale = self._refresh(tasks, now)
        values: dict[str, dict[str, float]] = {}
        times: dict[str, dict[str, float]] = {}
        for symbol in symbols:
            values[symbol], times[symbol] = {}, {}
            for field, value, input_name, published in self._symbol_readings(symbol, now):
                values[symbol][field] = value
                times[symbol][input_name] = published
        fear = self._fear_greed(now)
        return IntelReading(
            values={s: v for s, v in values.items() if v},
            times={s: t for s, t in times.items() if t},
            fear_greed=fear[0] if fear else None,
            fear_greed_ts=fear[1] if fear else None,
            stale=tuple(sorted(stale)),
        )

    def _tasks(self, symbols: Sequence[str]) -> Iterator[Task]:
        """The calls the reading needs, most time-critical first."""
        cfg = self.config
        coins = list(dict.fromkeys(coin_of(s) for s in symbols))
        pairs = list(dict.fromkeys(pair_of(s) for s in symbols))
        if cfg.in_plan("taker_buy_sell"):
            yield from (Task("taker_buy_sell", c) for c in coins)
        if cfg.liquidations_from_coin_list:
            yield Task("liquidations", cfg.exchange)
        elif cfg.in_plan("liquidation_history"):
            yield from (Task("liquidation_history", p) for p in pairs)
        if cfg.in_plan("open_interest_history"):
            yield from (Task("open_interest_history", p) for p in pairs)
        if cfg.in_plan("funding_history") and cfg.funding_target_interval_s:
            yield from (Task("funding_history", p) for p in pairs)
        if cfg.in_plan("exchange_balance") and self._price_of is not None:
            yield from (Task("exchange_balance", c) for c in coins)
        if cfg.in_plan("fear_greed"):
            yield Task("fear_greed", "")

    def _refresh(self, tasks: Sequence[Task], now: float) -> set[str]:
        """Fetch the due tasks within the cycle's call budget; the endpoints served stale:
        those of a task whose last call failed or could not be made, with a cached answer."""
        budget = self.config.max_calls_per_read
        for task in tasks:
            if not self._due(task, now):
                continue
            if self._refused_why(task.endpoint) is not None or self.http.blocked():
                self._failing.add(task)
                continue
            if budget <= 0:
                continue
            budget -= 1
            try:
                self.fetch(task, now)
            except VenueError as error:
                self._failed(task, now, error)
        return {t.endpoint for t in tasks if t in self._failing and self.cache.latest(t.endpoint, t.key) is not None}

    def _refused_why(self, endpoint: str) -> str | None:
        return self._refused.get("*") or self._refused.get(endpoint)

    def _failed(self, task: Task, now: float, error: VenueError) -> None:
        self._failing.add(task)
        self._next_try[task] = now + max(RETRY_AFTER_S, self.config.spacing_s)
        self.last_errors[task.endpoint] = str(error)
        if isinstance(error, VenueFatal):
            scope = "*" if error.status == 401 else task.endpoint
            if scope not in self._refused:
                self._refused[scope] = str(error)
                what = "every endpoint" if scope == "*" else task.endpoint
                logger.error("%s; %s is no longer called, cached answers are served", error, what)
        else:
            logger.warning("%s; the cached answer is served", error)

    def _due(self, task: Task, now: float) -> bool:
        if now < self._next_try.get(task, -math.inf):
            return False
        answer = self.cache.latest(task.endpoint, task.key)
        if answer is None or answer.fetched_at > now:
            return True
        if task.endpoint not in HISTORY:
            return now >= answer.fetched_at + REFRESH_S[task.endpoint]
        rows = self._history_rows(task.endpoint, answer)
        final = self._final(rows, answer.fetched_at, self._interval_s(task.endpoint))
        if final is None:
            return now >= answer.fetched_at + HISTORY_RECHECK_S
        next_published = final.ts + 2 * self._interval_s(task.endpoint) + self.config.publication_lag_s
        return now >= max(next_published, answer.fetched_at + HISTORY_RECHECK_S)

    # ------------------------------------------------------------------ one call

    def fetch(self, task: Task, now: float) -> Answer:
        """Call ``task``'s endpoint, check its answer parses, cache it, and return it.
        Raises the VenueError of a failed call or an unreadable answer (nothing is cached)."""
        params, window = self._params(task, now)
        data = self.http.get(task.endpoint, PATHS[task.endpoint], params)
        answer = Answer(now, data, window)
        problems: list[str] = []
        self._parse(task, answer, problems)  # raises VenueAnswerMalformed before anything is kept
        for problem in problems:
            logger.warning("coinglass %s", problem)
        self.cache.store(task.endpoint, task.key, answer)
        self._failing.discard(task)
        self.last_errors.pop(task.endpoint, None)
        return answer

    def history(self, endpoint: str, symbol: str, now: float) -> tuple[wire.HistoryRow, ...]:
        """Ask a history endpoint (``long_short_ratio``, ``open_interest_history``, ...) for
        ``symbol`` now and return its rows that were final when fetched, oldest first; for
        tools that look at the history itself (nothing in a snapshot holds long/short ratios)."""
        if endpoint not in HISTORY:
            raise ValueError(f"{endpoint} is not a history endpoint: {', '.join(HISTORY)}")
        answer = self.fetch(Task(endpoint, pair_of(symbol)), now)
        rows = self._history_rows(endpoint, answer)
        return wire.published(rows, answer.fetched_at, self._interval_s(endpoint), self.config.publication_lag_s)

    def _params(self, task: Task, now: float) -> tuple[dict[str, str], tuple[float, float] | None]:
        cfg = self.config
        if task.endpoint == "taker_buy_sell":
            return {"symbol": task.key, "range": cfg.taker_range}, None
        if task.endpoint == "liquidations":
            return {"exchange": task.key}, None
        if task.endpoint == "exchange_balance":
            return {"symbol": task.key}, None
        if task.endpoint == "fear_greed":
            return {}, None
        interval_s = self._interval_s(task.endpoint)
        start = math.floor(now / interval_s) * interval_s - cfg.history_limit * interval_s
        params = {
            "exchange": cfg.exchange,
            "symbol": task.key,
            "interval": cfg.history_interval,
            "limit": str(cfg.history_limit + 1),
            "start_time": str(int(start * 1000)),
            "end_time": str(int(now * 1000)),
        }
        if task.endpoint == "open_interest_history":
            params["unit"] = "usd"
        return params, (start, now)

    def _parse(self, task: Task, answer: Answer, problems: list[str]) -> Any:
        endpoint = task.endpoint
        if endpoint == "taker_buy_sell":
            return wire.taker_volume(answer.data, problems)
        if endpoint == "liquidations":
            return wire.coin_liquidations(answer.data, problems)
        if endpoint == "exchange_balance":
            return wire.exchange_balances(answer.data, problems)
        if endpoint == "fear_greed":
            return wire.fear_greed(answer.data, problems)
        return self._history_rows(endpoint, answer, problems)

    def _history_rows(
        self, endpoint: str, answer: Answer, problems: list[str] | None = None
    ) -> tuple[wire.HistoryRow, ...]:
        window = answer.window or (0.0, answer.fetched_at)
        return wire.history(endpoint, answer.data, window, [] if problems is None else problems)

    def _interval_s(self, endpoint: str) -> float:
        return DAY_S if endpoint == "fear_greed" else self.config.history_interval_s

    def _final(self, rows: Sequence[wire.HistoryRow], fetched_at: float, interval_s: float) -> wire.HistoryRow | None:
        """The newest row that was already published when its answer was fetched."""
        return wire.latest(rows, fetched_at, interval_s, self.config.publication_lag_s)

    # ------------------------------------------------------------------ readings from the cache

    def _served(self, endpoint: str, key: str, now: float) -> Answer | None:
        """The newest cached answer fetched by ``now`` (a later one would leak the future)."""
        known = [a for a in self.cache.answers(endpoint, key) if a.fetched_at <= now]
        return known[-1] if known else None

    def _symbol_readings(self, symbol: str, now: float) -> Iterator[tuple[str, float, str, float]]:
        """(snapshot field, value, input name, published at) for one symbol."""
        coin, pair = coin_of(symbol), pair_of(symbol)
        readers = (
            self._taker(coin, now),
            self._liquidations(coin, pair, now),
            self._open_interest(pair, now),
            self._funding(pair, now),
            self._netflow(symbol, coin, now),
        )
        for reading in readers:
            yield from reading

    def _quietly(self, endpoint: str, parse: Callable[[list[str]], Any]) -> Any:
        """A cached answer parsed again; one that no longer parses reads as missing."""
        try:
            return parse([])
        except VenueError as error:
            logger.warning("coinglass cache: %s is unusable (%s)", endpoint, error)
            return None

    def _taker(self, coin: str, now: float) -> Iterator[tuple[str, float, str, float]]:
        answer = self._served("taker_buy_sell", coin, now)
        if answer is None or not self.config.in_plan("taker_buy_sell"):
            return
        volume = self._quietly("taker_buy_sell", lambda p: wire.taker_volume(answer.data, p))
        if volume is not None and volume.buy_usd is not None and volume.sell_usd is not None:
            yield "taker_buy_usd", volume.buy_usd, "taker_volume", answer.fetched_at
            yield "taker_sell_usd", volume.sell_usd, "taker_volume", answer.fetched_at

    def _liquidations(self, coin: str, pair: str, now: float) -> Iterator[tuple[str, float, str, float]]:
        if self.config.liquidations_from_coin_list:
            answer = self._served("liquidations", self.config.exchange, now)
            if answer is None:
                return
            by_coin = self._quietly("liquidations", lambda p: wire.coin_liquidations(answer.data, p)) or {}
            liq = by_coin.get(coin.upper())
            if liq is not None and liq.long_usd is not None and liq.short_usd is not None:
                yield "liq_long_usd", liq.long_usd, "liquidations", answer.fetched_at
                yield "liq_short_usd", liq.short_usd, "liquidations", answer.fetched_at
            return
        row, published = self._history_row("liquidation_history", pair, now)
        if row is not None and {"long_liquidation_usd", "short_liquidation_usd"} <= row.values.keys():
            yield "liq_long_usd", row.values["long_liquidation_usd"], "liquidations", published
            yield "liq_short_usd", row.values["short_liquidation_usd"], "liquidations", published

    def _open_interest(self, pair: str, now: float) -> Iterator[tuple[str, float, str, float]]:
        row, published = self._history_row("open_interest_history", pair, now)
        if row is not None and "close" in row.values:
            yield "open_interest_usd", row.values["close"], "open_interest", published

    def _funding(self, pair: str, now: float) -> Iterator[tuple[str, float, str, float]]:
        """CoinGlass funding is in percent per the source exchange's interval (reference §3.4):
        made a fraction per the execution venue's interval, as the snapshot holds it."""
        target = self.config.funding_target_interval_s
        if not target:
            return
        row, published = self._history_row("funding_history", pair, now)
        if row is not None and "close" in row.values:
            rate = row.values["close"] / 100.0 * target / self.config.funding_source_interval_s
            yield "funding_rate", rate, "funding_rate", published

    def _history_row(self, endpoint: str, key: str, now: float) -> tuple[wire.HistoryRow | None, float]:
        """The newest final row published by ``now`` and when it was published."""
        if not self.config.in_plan(endpoint):
            return None, 0.0
        answer = self._served(endpoint, key, now)
        if answer is None:
            return None, 0.0
        rows = self._quietly(endpoint, lambda p: self._history_rows(endpoint, answer, p))
        interval_s = self._interval_s(endpoint)
        row = self._final(rows or (), min(now, answer.fetched_at), interval_s)
        if row is None:
            return None, 0.0
        return row, row.ts + interval_s + self.config.publication_lag_s

    def _netflow(self, symbol: str, coin: str, now: float) -> Iterator[tuple[str, float, str, float]]:
        """Net inflow to exchanges between the two newest balance answers, in USD: the
        change of the coin's total over the exchanges both answers list, at today's price."""
        if self._price_of is None or not self.config.in_plan("exchange_balance"):
            return
        answers = [a for a in self.cache.answers("exchange_balance", coin) if a.fetched_at <= now][-2:]
        if len(answers) < 2:
            return
        older, newer = (self._balances(answer) for answer in answers)
        price = self._price(symbol)
        if older is None or newer is None or price is None or not math.isfinite(price) or price <= 0:
            return
        before = {b.exchange: b.total_balance for b in older}
        common = [b for b in newer if b.exchange in before]
        if not common:
            return
        change = math.fsum(b.total_balance - before[b.exchange] for b in common)
        yield "exchange_netflow_usd", change * price, "exchange_netflow", answers[-1].fetched_at

    def _price(self, symbol: str) -> float | None:
        """The caller's last price of ``symbol``; a failing price source reads as no price."""
        assert self._price_of is not None
        try:
            return self._price_of(symbol)
        except Exception as error:  # the caller's code must not crash the reading
            logger.warning("coinglass: no price for %s to value its exchange net flow (%s)", symbol, error)
            return None

    def _balances(self, answer: Answer) -> tuple[wire.ExchangeBalance, ...] | None:
        return self._quietly("exchange_balance", lambda p: wire.exchange_balances(answer.data, p))

    def _fear_greed(self, now: float) -> tuple[float, float] | None:
        """The newest daily value published by ``now`` (a day's row at ``t + 1 d + lag``)."""
        if not self.config.in_plan("fear_greed"):
            return None
        answer = self._served("fear_greed", "", now)
        if answer is None:
            return None
        points = self._quietly("fear_greed", lambda p: wire.fear_greed(answer.data, p)) or ()
        by = min(now, answer.fetched_at)
        known = [p for p in points if p.ts + DAY_S + self.config.publication_lag_s <= by]
        if not known:
            return None
        return known[-1].value, known[-1].ts + DAY_S + self.config.publication_lag_s


def build(
    source: Mapping[str, Any],
    *,
    cache_dir: str | Path,
    environ: Mapping[str, str] = os.environ,
    base_url: str | None = None,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    price_of: PriceOf | None = None,
    **options: Any,
) -> CoinGlassClient:
    """The client of one compiled `intelligence` entry of kind ``coinglass``.

    The base URL is ``base_url``, else ``$COINGLASS_BASE_URL``, else the rules'. ``price_of``
    (rulebot symbol → last price) turns balance changes into USD; without it the exchange
    net flow is not read. ``options`` set CoinGlassConfig fields (``exchange``,
    ``funding_target_interval_s``, ...). Raises VenueFatal when the key's variable is unset.
    """
    config = CoinGlassConfig.from_rules(source, **options)
    key: ApiKey | None = api_key_from_env(config.api_key_env, environ)
    if key is None:
        raise VenueFatal(
            f"coinglass: the environment variable {config.api_key_env} (the API key) is not set",
            venue="coinglass",
        )
    url = base_url or environ.get(BASE_URL_ENV) or config.base_url
    http = CoinGlassHttp(config, key, base_url=url, transport=transport, clock=clock, sleep=sleep)
    return CoinGlassClient(config, http, AnswerCache(cache_dir), price_of=price_of)
