"""The clipper's three curves and their blend (Peladeau & Peeters, ICASSP 2024, eq. 1-4),
written once for numpy and torch: the clipper effect and its inverse both read them."""

from __future__ import annotations

import numpy as np


def _tanh(u):
    return np.tanh(u) if isinstance(u, np.ndarray) else u.tanh()


def _clamp(u, lo, hi):
    return np.clip(u, lo, hi) if isinstance(u, np.ndarray) else u.clamp(lo, hi)


CUBIC_EDGE = 1.5  # x - 4x^3/27 reaches its maximum 1 (slope 0) at |x| = 1.5
CUBIC_COEF = 4.0 / 27.0


def cubic_curve(u):
    """x - 4x^3/27 on |x| <= 1.5, +/-1 beyond (C1-continuous at the joint)."""
    v = _clamp(u, -CUBIC_EDGE, CUBIC_EDGE)
    return v - CUBIC_COEF * (v * v * v)


def hard_curve(u):
    return _clamp(u, -1.0, 1.0)


def blend_weights(hardness):
    """Weights of (tanh, cubic, hard) for a hardness in [0, 2] (eq. 4 as one formula):
    hardness h <= 1 gives (1 - h, h, 0), h > 1 gives (0, 2 - h, h - 1)."""
    if isinstance(hardness, (float, int)):
        return max(1.0 - hardness, 0.0), 1.0 - abs(1.0 - hardness), max(hardness - 1.0, 0.0)
    return (1.0 - hardness).clamp(min=0.0), 1.0 - (1.0 - hardness).abs(), (hardness - 1.0).clamp(min=0.0)


def clipper_curve(u, hardness):
    """The blended curve f_h(u); curves with a zero (Python float) weight are skipped."""
    out = None
    for weight, curve in zip(blend_weights(hardness), (_tanh, cubic_curve, hard_curve)):
        if isinstance(weight, float) and weight == 0.0:
            continue
        term = weight * curve(u)
        out = term if out is None else out + term
    return out
