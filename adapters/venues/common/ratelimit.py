"""Client-side rate limits: one token bucket per pool the rules declare (rules/venues.yaml
``rate_limits``: a budget of cost units per period). A request takes its cost from its pool
and waits, never fails, when the pool is empty; the venue's own limits are then never hit."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

logger = logging.getLogger(__name__)


class TokenBucket:
    """``budget`` cost units refilled evenly over ``per_s`` seconds; starts full. Thread-safe:
    callers wait in turn, so a burst from several threads still keeps the budget."""

    def __init__(
        self,
        budget: float,
        per_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not budget > 0 or not per_s > 0:
            raise ValueError(f"a rate limit needs a positive budget and period, not {budget} per {per_s} s")
        self.budget, self.per_s = float(budget), float(per_s)
        self._clock, self._sleep = clock, sleep
        self._tokens, self._at = self.budget, clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.budget, self._tokens + max(0.0, now - self._at) * self.budget / self.per_s)
        self._at = now

    def acquire(self, cost: float = 1.0) -> float:
        """Take ``cost`` units, waiting until they are there; the seconds waited."""
        if not 0 <= cost <= self.budget:
            raise ValueError(f"a request costing {cost} can never fit a budget of {self.budget:g}")
        waited = 0.0
        with self._lock:
            self._refill()
            while self._tokens < cost:
                wait = (cost - self._tokens) * self.per_s / self.budget
                self._sleep(wait)
                waited += wait
                self._refill()
            self._tokens -= cost
        return waited

    def headroom(self) -> float:
        """The share of the budget available now (0 to 1)."""
        with self._lock:
            self._refill()
            return self._tokens / self.budget


class RateLimits:
    """A venue's pools by name. A pool the rules do not declare is not limited (and says so
    once in the log), so a venue's endpoints can name pools the user chose to drop."""

    def __init__(self, buckets: Mapping[str, TokenBucket]) -> None:
        self.buckets = dict(buckets)
        self._unknown: set[str] = set()

    @classmethod
    def from_rules(
        cls,
        rate_limits: Iterable[Mapping[str, Any]],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> RateLimits:
        """From the rules' list of ``{pool, budget, per}`` (``per`` in seconds, as compiled)."""
        return cls(
            {
                str(r["pool"]): TokenBucket(float(r["budget"]), float(r["per"]), clock=clock, sleep=sleep)
                for r in rate_limits
            }
        )

    def acquire(self, pool: str, cost: float = 1.0) -> float:
        """Take ``cost`` from ``pool``; the seconds waited."""
        bucket = self.buckets.get(pool)
        if bucket is None:
            if pool not in self._unknown:
                self._unknown.add(pool)
                logger.info("rate-limit pool %s is not in the rules: its requests are not limited", pool)
            return 0.0
        return bucket.acquire(cost)

    def headroom(self) -> dict[str, float]:
        """Each pool's available share of its budget (for ``rulebot venue check``)."""
        return {name: bucket.headroom() for name, bucket in self.buckets.items()}
