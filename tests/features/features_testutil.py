"""Test helpers: exact fractional Gaussian noise (Davies-Harte) and price builders."""

from __future__ import annotations

import numpy as np


def fgn(n: int, hurst: float, rng: np.random.Generator) -> np.ndarray:
    """n samples of unit-variance fGn with Hurst exponent ``hurst`` (exact covariance)."""
    k = np.arange(n + 1, dtype=float)
    h2 = 2.0 * hurst
    gamma = 0.5 * ((k + 1) ** h2 - 2.0 * k ** h2 + np.abs(k - 1) ** h2)
    row = np.concatenate([gamma, gamma[-2:0:-1]])          # circulant first row, length 2n
    m = row.size
    lam = np.fft.fft(row).real
    if lam.min() < -1e-9:                                  # never happens for fGn
        raise ValueError("circulant embedding is not non-negative definite")
    lam = np.clip(lam, 0.0, None)
    z = rng.standard_normal(m) + 1j * rng.standard_normal(m)
    return np.fft.fft(np.sqrt(lam / m) * z)[:n].real


def fbm_prices(n: int, hurst: float, seed: int, vol: float = 0.001,
               start: float = 50_000.0) -> list[float]:
    """n + 1 prices whose log is fBm with the given Hurst exponent (n returns)."""
    r = fgn(n, hurst, np.random.default_rng(seed)) * vol
    logp = np.log(start) + np.concatenate([[0.0], np.cumsum(r)])
    return [float(x) for x in np.exp(logp)]


def closes_from_returns(returns: list[float], start: float = 100.0) -> list[float]:
    """Prices whose log returns are ``returns`` (to within rounding)."""
    import math

    out = [start]
    for r in returns:
        out.append(out[-1] * math.exp(r))
    return out
