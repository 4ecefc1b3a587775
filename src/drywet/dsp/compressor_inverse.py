"""Inverse of drywet's feed-forward compressor and limiter, sample by sample.

After Gorlow & Reiss, "Model-based inversion of dynamic range compression", IEEE TASLP 21(7),
2013: with the compressor's parameters known, the gain the detector applied at sample n
depends only on the smoothed state at n-1 (known, since earlier samples are already
recovered) and on the input level at n. In dB, with L the input's linked peak level, r(L)
the static curve's gain reduction, c the attack or release coefficient, s the state and M
the makeup gain:

    Ly = L + M - s[n],   s[n] = (1 - c) s[n-1] + c r(L)
    =>  L - c r(L) = Ly - M + (1 - c) s[n-1]

The left side is strictly increasing in L (its slope is at least 1 - c (1 - 1/ratio) > 0),
so each branch has one solution, in closed form on the three pieces of the soft-knee curve
(below, inside: a quadratic, above). The branch is the one whose solution is consistent
(attack when r(L) rises above s[n-1]). The recovered x[n] = y[n] 10^((s[n] - M)/20).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import dynamics as dyn


@njit(cache=True, inline="always")
def _reduction(level, threshold, slope, half):  # pragma: no cover - compiled
    over = level - threshold
    inside = min(max(over, -half), half) + half
    return slope * (inside * inside / (4.0 * half) + max(over - half, 0.0))


@njit(cache=True, inline="always")
def _solve(k, c, threshold, slope, half):  # pragma: no cover - compiled
    """L such that L - c r(L) = k."""
    if k - threshold <= -half:  # below the knee: r = 0
        return k
    cs = c * slope
    above = (k - cs * threshold) / (1.0 - cs)
    if above - threshold >= half:
        return above
    # inside the knee: with u = L - T + h in [0, 2h], a u^2 - u + (k - T + h) = 0
    a = cs / (4.0 * half)
    b = k - threshold + half
    if a * b < 1e-12:
        return threshold - half + b
    disc = max(1.0 - 4.0 * a * b, 0.0)
    u = 2.0 * b / (1.0 + math.sqrt(disc))  # the smaller root, stable as a -> 0
    return threshold - half + u


@njit(cache=True)
def _invert_kernel(y, threshold, slope, half, attack, release, makeup, floor_db):  # pragma: no cover - compiled
    batch, channels, n = y.shape
    x = np.empty_like(y)
    gain_db = np.empty((batch, n))
    for b in range(batch):
        state = 0.0
        for i in range(n):
            peak = 0.0
            for ch in range(channels):
                peak = max(peak, abs(y[b, ch, i]))
            if peak > 0.0:
                level_y = 20.0 * math.log10(peak)
                level = _solve(level_y - makeup + (1.0 - attack) * state, attack, threshold, slope, half)
                r = _reduction(level, threshold, slope, half)
                c = attack
                if not r > state:  # the attack branch is inconsistent: release
                    level = _solve(level_y - makeup + (1.0 - release) * state, release, threshold, slope, half)
                    r = _reduction(level, threshold, slope, half)
                    c = release
                if level < floor_db:  # the forward detector floors the level
                    r = _reduction(floor_db, threshold, slope, half)
                    c = attack if r > state else release
            else:
                r = _reduction(floor_db, threshold, slope, half)
                c = attack if r > state else release
            state += c * (r - state)
            g = state - makeup  # dB to add back
            gain_db[b, i] = g
            scale = 10.0 ** (g / 20.0)
            for ch in range(channels):
                x[b, ch, i] = y[b, ch, i] * scale
    return x, gain_db


def invert_compressor(y: np.ndarray, *, sample_rate: int, threshold_db: float, ratio: float, attack_ms: float,
                      release_ms: float, knee_db: float = 0.0, makeup_db: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Recover the compressor's input from its output (B, C, T).

    Returns:
        (x, gain_db): the recovered input and the gain (dB) added back per sample, (B, T).
    """
    slope = 1.0 - 1.0 / ratio
    half = max(float(knee_db), dyn._KNEE_EPS) / 2.0
    x, gain = _invert_kernel(
        np.ascontiguousarray(y, dtype=np.float64), float(threshold_db), float(slope), half,
        dyn.time_to_coef(float(attack_ms), sample_rate), dyn.time_to_coef(float(release_ms), sample_rate),
        float(makeup_db), dyn.LEVEL_FLOOR_DB,
    )
    return x.astype(y.dtype, copy=False), gain
