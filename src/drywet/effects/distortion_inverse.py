"""Inverse waveshaping of the parametric clipper, and declipping where the curve is flat.

The clipper is y = (f_h(g x + o) - f_h(o)) / g with f_h a blend of tanh, cubic and hard
curves (drywet.effects.distortion). f_h is odd, non-decreasing and strictly increasing
wherever its tanh part has weight or |u| lies inside the cubic (1.5) or hard (1.0) knee, so
v = g y + f_h(o) is inverted by bisection toward u = o. Where the slope f_h'(u) is below
``min_slope`` (the flat, clipped part, or tanh so deep in saturation that float precision is
gone) the sample is unreliable: the inversion only tells that |x| is at least the value found.

Those samples are re-estimated by sparse declipping (:mod:`drywet.dsp.declip`, S-SPADE):
the sparsest short-time spectrum consistent with the reliable samples as observed and the
clipped ones beyond their bound with their sign.

Estimated (not known) parameters are first made consistent with y
(:func:`consistent_clipper_drive`): a drive estimated too high puts samples of y beyond the
curve's ceiling, where the inverse can only call them clipped and "declip" a signal that was
never flat.
"""

from __future__ import annotations

import numpy as np

from ..dsp.declip import declip
from ..dsp.waveshapers import blend_weights, clipper_curve

SEARCH_LIMIT = 40.0  # |u| beyond which every curve is flat to float64 precision
BISECTION_STEPS = 60


def clipper_slope(u: np.ndarray, hardness: float) -> np.ndarray:
    """f_h'(u) of the blended curve."""
    w_tanh, w_cubic, w_hard = blend_weights(float(hardness))
    slope = w_tanh * (1.0 - np.tanh(u) ** 2)
    slope = slope + w_cubic * np.where(np.abs(u) < 1.5, 1.0 - (4.0 / 9.0) * u * u, 0.0)
    return slope + w_hard * (np.abs(u) < 1.0)


def _inverse_curve(v: np.ndarray, hardness: float, center: float) -> np.ndarray:
    """u nearest to ``center`` with f_h(u) = v (the edge of a flat part when v is on it)."""
    f = lambda u: clipper_curve(u, float(hardness))  # noqa: E731
    up = v >= f(np.array([center]))[0]
    lo = np.where(up, center, -SEARCH_LIMIT)
    hi = np.where(up, SEARCH_LIMIT, center)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        fm = f(mid)
        # up: smallest u with f(u) >= v; down: largest u with f(u) <= v
        move_hi = np.where(up, fm >= v, fm > v)
        hi = np.where(move_hi, mid, hi)
        lo = np.where(move_hi, lo, mid)
    return np.where(up, hi, lo)


PRECISION_MARGIN = 1e3  # a sample is unreliable where inversion amplifies rounding 1000 times


def invert_clipper(y: np.ndarray, *, drive_db: float, offset: float, hardness: float, min_slope: float | None = None):
    """Sample-wise inverse of the clipper.

    ``min_slope`` (default: 1000 x the dtype's epsilon x the drive gain) is the smallest curve
    slope trusted: below it a rounding error of y would grow more than 1000 times.

    Returns:
        (x, unreliable): the inverse (exact where reliable; the bound elsewhere) and a boolean
        mask of samples on a flat part of the curve (|x| is at least the returned value).
    """
    g = 10.0 ** (drive_db / 20.0)
    if min_slope is None:
        min_slope = PRECISION_MARGIN * float(np.finfo(y.dtype).eps) * g
    bias = float(clipper_curve(np.array([offset], dtype=np.float64), float(hardness))[0])
    # every blend saturates at +/-1: rounding can push v past it
    v = np.clip(g * y.astype(np.float64) + bias, -1.0, 1.0)
    u = _inverse_curve(v, hardness, offset)
    # flat where the slope is tiny, or (the cubic's edge is smooth, so the slope alone misses
    # it) where v sits on the saturation level to within rounding
    at_ceiling = np.abs(v) >= 1.0 - PRECISION_MARGIN * float(np.finfo(y.dtype).eps)
    unreliable = (clipper_slope(u, hardness) < min_slope) | at_ceiling
    # where the curve is (numerically) flat, all we know is |u| >= the edge of the trusted part
    edge = _slope_edge(hardness, min_slope)
    u = np.where(unreliable, np.sign(u) * np.minimum(np.abs(u), edge), u)
    return ((u - offset) / g).astype(y.dtype, copy=False), unreliable


def _slope_edge(hardness: float, min_slope: float) -> float:
    """The largest |u| whose slope is at least ``min_slope`` (the slope falls with |u|)."""
    lo, hi = 0.0, SEARCH_LIMIT
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if clipper_slope(np.array([mid]), hardness)[0] >= min_slope:
            lo = mid
        else:
            hi = mid
    return lo


# slope of the curve at the loudest sample of y that an *estimated* drive may imply: below it
# the inverse would expand that sample more than 1 / slope times on the strength of a guess
# (0.1 chosen on the validation recording: evaluations/eval_invert.py --choose-slope)
MIN_ESTIMATED_SLOPE = 0.1
PLATEAU_TOLERANCE = 1e-6  # samples this close (relative) to y's extreme ...
PLATEAU_SAMPLES = 3  # ... and at least this many of them, count as clipped flat


def consistent_clipper_drive(y: np.ndarray, *, drive_db: float, offset: float, hardness: float,
                             min_slope: float = MIN_ESTIMATED_SLOPE) -> float:
    """The largest drive (dB, at most ``drive_db``) under which the curve produces every sample
    of y with a slope of at least ``min_slope``.

    With the true parameters, g y + f_h(o) = f_h(g x + o) lies on the curve; an estimate that
    puts a sample beyond f_h(u_s) (u_s where the slope falls to ``min_slope``) claims an
    expansion the audio does not support. Samples on a plateau (equal to y's maximum or
    minimum to ``PLATEAU_TOLERANCE``, at least ``PLATEAU_SAMPLES`` of them) are left out:
    they may truly be clipped flat.
    """
    g = 10.0 ** (drive_db / 20.0)
    bias = float(clipper_curve(np.array([offset], dtype=np.float64), float(hardness))[0])
    ceiling = float(clipper_curve(np.array([_slope_edge(hardness, min_slope)]), float(hardness))[0])
    v = np.asarray(y, dtype=np.float64).ravel()
    hi, lo = v.max(initial=0.0), v.min(initial=0.0)
    keep = np.ones(v.shape, dtype=bool)
    for at_extreme in (v >= hi - PLATEAU_TOLERANCE * abs(hi), v <= lo + PLATEAU_TOLERANCE * abs(lo)):
        if at_extreme.sum() >= PLATEAU_SAMPLES:
            keep &= ~at_extreme
    top, bottom = v[keep].max(initial=0.0), v[keep].min(initial=0.0)
    # g top + bias <= ceiling and g bottom + bias >= -ceiling
    limit = np.inf
    if top > 0:
        limit = min(limit, (ceiling - bias) / top)
    if bottom < 0:
        limit = min(limit, (-ceiling - bias) / bottom)
    return float(drive_db) if limit >= g else float(20.0 * np.log10(max(limit, 1e-12)))


def invert_hard_clip(y: np.ndarray, *, threshold_db: float, tolerance: float = 1e-6):
    """Hard clip: identity below the threshold; samples at +/- threshold are unreliable."""
    t = 10.0 ** (threshold_db / 20.0)
    return y.copy(), np.abs(y) >= t * (1.0 - tolerance)


# -- the hooks of the distortion effects: f(y3, sample_rate, params, options, context) -> (x3, notes)
UNRELIABLE_FRACTION = 0.001  # more clipped-flat samples than this earns a note


def _declip(x, unreliable, sample_rate, name):
    notes = []
    fraction = float(unreliable.mean()) if unreliable.size else 0.0
    if fraction > UNRELIABLE_FRACTION:
        notes.append(f"{name}: {100 * fraction:.2f} % of samples were clipped flat; re-estimated by S-SPADE declipping")
    if fraction > 0:
        x = declip(x, unreliable, sample_rate=sample_rate).astype(x.dtype, copy=False)
    return x, notes


def clipper_inverse(y, sample_rate, p, o, context):
    x, unreliable = invert_clipper(y, drive_db=p["drive_db"], offset=p["offset"], hardness=p["hardness"])
    return _declip(x, unreliable, sample_rate, "clipper")


def tanh_overdrive_inverse(y, sample_rate, p, o, context):
    g = 10.0 ** (p["drive_db"] / 20.0)
    x, unreliable = invert_clipper(y / g, drive_db=p["drive_db"], offset=0.0, hardness=0.0)
    return _declip(x, unreliable, sample_rate, "tanh_overdrive")


def hard_clip_inverse(y, sample_rate, p, o, context):
    x, unreliable = invert_hard_clip(y, threshold_db=p["threshold_db"])
    return _declip(x, unreliable, sample_rate, "hard_clip")


def consistent_clipper(y, p, spec):
    """An estimated clipper drive lowered until the curve can produce y (see
    :func:`consistent_clipper_drive`); None when no drive in the spec's range can."""
    p = dict(p)
    drive = consistent_clipper_drive(y, drive_db=p["drive_db"], offset=p["offset"], hardness=p["hardness"])
    if drive >= p["drive_db"] - 1e-9:
        return p, []
    lowest = spec.param("drive_db").min
    if drive < lowest:
        note = (f"clipper: the estimated curve (offset {p['offset']:.2f}, hardness {p['hardness']:.2f}) cannot produce "
                f"this audio at any drive down to {lowest:g} dB; the stage is left as it is")
        return None, [note]
    note = (f"clipper: estimated drive lowered from {p['drive_db']:.1f} to {drive:.1f} dB, the most at which the curve "
            "produces every sample of the audio on its sloped part")
    return {**p, "drive_db": drive}, [note]
