"""Test helpers: exact fractional Gaussian noise (Davies-Harte), price builders and the
seeded random streams shared by the contract and state-compatibility tests."""

from __future__ import annotations

import math
import random

import numpy as np


class Walk:
    """A positive random walk (prices, OI): each call moves it by exp(N(0, vol))."""

    def __init__(self, rng: random.Random, start: float, vol: float) -> None:
        self.rng, self.x, self.vol = rng, start, vol

    def __call__(self) -> float:
        self.x *= math.exp(self.rng.gauss(0, self.vol))
        return self.x


def funding_rates(rng: random.Random):
    """Reading generator: a funding rate that moves on 30 % of the readings (rounded to
    1e-8, so flat stretches repeat the exact same rate)."""
    state = [0.0001]

    def gen():
        if rng.random() < 0.3:
            state[0] = round(state[0] + rng.gauss(0, 0.00005), 8)
        return (state[0],), {}

    return gen


def liquidations(rng: random.Random):
    """Reading generator: (long USD, short USD) liquidated, often exactly zero."""
    return lambda: ((rng.choice([0.0, 0.0, rng.expovariate(1e-5)]), rng.choice([0.0, rng.expovariate(1e-5)])), {})


def random_book(rng: random.Random) -> tuple[list, list]:
    """A 4-level order book (bids, asks) with random sizes, some bid sizes zero."""
    bids = [(100 - i, rng.choice([0.0, rng.uniform(0, 5)])) for i in range(4)]
    asks = [(101 + i, rng.uniform(0, 5)) for i in range(4)]
    return bids, asks


def fgn(n: int, hurst: float, rng: np.random.Generator) -> np.ndarray:
    """n samples of unit-variance fGn with Hurst exponent ``hurst`` (exact covariance)."""
    k = np.arange(n + 1, dtype=float)
    h2 = 2.0 * hurst
    gamma = 0.5 * ((k + 1) ** h2 - 2.0 * k**h2 + np.abs(k - 1) ** h2)
    row = np.concatenate([gamma, gamma[-2:0:-1]])  # circulant first row, length 2n
    m = row.size
    lam = np.fft.fft(row).real
    if lam.min() < -1e-9:  # never happens for fGn
        raise ValueError("circulant embedding is not non-negative definite")
    lam = np.clip(lam, 0.0, None)
    z = rng.standard_normal(m) + 1j * rng.standard_normal(m)
    return np.fft.fft(np.sqrt(lam / m) * z)[:n].real


def fbm_prices(n: int, hurst: float, seed: int, vol: float = 0.001, start: float = 50_000.0) -> list[float]:
    """n + 1 prices whose log is fBm with the given Hurst exponent (n returns)."""
    r = fgn(n, hurst, np.random.default_rng(seed)) * vol
    logp = np.log(start) + np.concatenate([[0.0], np.cumsum(r)])
    return [float(x) for x in np.exp(logp)]


def closes_from_returns(returns: list[float], start: float = 100.0) -> list[float]:
    """Prices whose log returns are ``returns`` (to within rounding)."""
    out = [start]
    for r in returns:
        out.append(out[-1] * math.exp(r))
    return out
