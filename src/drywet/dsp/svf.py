"""Time-varying RBJ filters: the trapezoidal state-variable filter.

A. Simper, "Linear trapezoidal integrated SVF" (Cytomic technical paper, 2013). With constant
parameters it has exactly the response of the RBJ biquad of the same type (both are the
bilinear transform, prewarped at the cutoff; tests compare it with scipy's ``sosfilt`` of
:func:`drywet.dsp.biquad.design`). Its two states are integrator memories rather than past
outputs, so the cutoff, Q or gain may change on every sample without clicks or instability,
which a direct-form biquad with swept coefficients does not guarantee: it is the filter that
synthesizers sweep. Parameters follow :mod:`drywet.dsp.biquad`'s conventions (the frequency
clamp included).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .biquad import BIQUAD_TYPES, MAX_FREQ_FRACTION


@njit(cache=True)
def _svf(x, kind, freq_hz, q, gain_db, sample_rate, max_freq):  # pragma: no cover - compiled
    """x (rows, n) float64; freq_hz, q, gain_db: length n (per sample) or 1 (constant)."""
    rows, n = x.shape
    y = np.empty_like(x)
    ic1 = np.zeros(rows)
    ic2 = np.zeros(rows)
    g0 = k = a = 0.0
    for t in range(n):
        # transcendental functions only where the parameter moves (a constant is given once)
        if t == 0 or freq_hz.size > 1:
            g0 = np.tan(np.pi * min(freq_hz[t if freq_hz.size > 1 else 0], max_freq) / sample_rate)
        if t == 0 or q.size > 1:
            k = 1.0 / q[t if q.size > 1 else 0]
        if t == 0 or gain_db.size > 1:
            a = 10.0 ** (gain_db[t if gain_db.size > 1 else 0] / 40.0)
        g = g0
        m0, m1, m2 = 0.0, 0.0, 0.0  # output = m0 * input + m1 * band + m2 * low
        if kind == 0:  # lowpass
            m2 = 1.0
        elif kind == 1:  # highpass
            m0, m1, m2 = 1.0, -k, -1.0
        elif kind == 2:  # bandpass, 0 dB peak
            m1 = k
        elif kind == 3:  # notch
            m0, m1 = 1.0, -k
        elif kind == 4:  # peak (bell): RBJ's damping is 1 / (Q A)
            m0, m1 = 1.0, k / a * (a * a - 1.0)
        elif kind == 5:  # low shelf
            g = g / np.sqrt(a)
            m0, m1, m2 = 1.0, k * (a - 1.0), a * a - 1.0
        else:  # high shelf
            g = g * np.sqrt(a)
            m0, m1, m2 = a * a, k * (1.0 - a) * a, 1.0 - a * a
        damping = k / a if kind == 4 else k
        a1 = 1.0 / (1.0 + g * (g + damping))
        a2 = g * a1
        a3 = g * a2
        for r in range(rows):
            v0 = x[r, t]
            v3 = v0 - ic2[r]
            v1 = a1 * ic1[r] + a2 * v3
            v2 = ic2[r] + a2 * ic1[r] + a3 * v3
            ic1[r] = 2.0 * v1 - ic1[r]
            ic2[r] = 2.0 * v2 - ic2[r]
            y[r, t] = m0 * v0 + m1 * v1 + m2 * v2
    return y


def svf_filter(x: np.ndarray, kind: str, freq_hz, q, gain_db, sample_rate: int) -> np.ndarray:
    """Filter (..., samples) with one RBJ-type filter whose parameters may vary per sample.

    Args:
        x: audio, any leading shape.
        kind: one of :data:`drywet.dsp.biquad.BIQUAD_TYPES`.
        freq_hz, q, gain_db: a number, or one value per sample (gain_db is ignored by the
            types without gain).
        sample_rate: Hz.
    Returns:
        float64 array of x's shape.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[-1]

    def per_sample(value, name):
        value = np.atleast_1d(np.asarray(value, dtype=np.float64))
        if value.ndim != 1 or value.size not in (1, n):
            raise ValueError(f"{name} must be a number or one value per sample ({n}), not shape {value.shape}")
        return np.ascontiguousarray(value)

    rows = np.ascontiguousarray(x.reshape(-1, n))
    y = _svf(rows, BIQUAD_TYPES.index(kind), per_sample(freq_hz, "freq_hz"), per_sample(q, "q"),
             per_sample(gain_db, "gain_db"), float(sample_rate), MAX_FREQ_FRACTION * sample_rate)
    return y.reshape(x.shape)
