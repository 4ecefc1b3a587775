"""Compressor (Giannoulis et al. 2012), simplified compressor, limiter, expander / gate.

All are feed-forward, log-domain, stereo-linked: one gain curve for all channels of an item.
See ``drywet.dsp.dynamics`` for the signal flow and the smoothing recursion.
"""

from __future__ import annotations

import math

import numpy as np

from ..dsp import dynamics as dyn
from ..dsp.compressor_inverse import invert_compressor
from ..spec import EffectSpec, Param, Strength
from .base import Effect, StaticCurve

_THRESHOLD = Param("threshold_db", "dB", -40.0, 0.0, 0.0, doc="level above which gain is reduced")
_RATIO = Param("ratio", "", 2.0, 10.0, 4.0, "log", doc="input dB per output dB above threshold")
_ATTACK = Param("attack_ms", "ms", 1.0, 60.0, 10.0, "log", doc="time constant while reduction rises")
_RELEASE = Param("release_ms", "ms", 10.0, 500.0, 100.0, "log", doc="time constant while reduction falls")
_KNEE = Param("knee_db", "dB", 0.0, 12.0, 0.0, doc="width of the quadratic soft knee")
_MAKEUP = Param("makeup_db", "dB", 0.0, 20.0, 0.0, doc="gain added after compression")

COMPRESSOR = EffectSpec(
    "compressor",
    "Feed-forward soft-knee compressor, branching attack/release smoothing (Giannoulis 2012).",
    (_THRESHOLD, _RATIO, _ATTACK, _RELEASE, _KNEE, _MAKEUP),
    category="dynamics",
    strength=Strength("threshold_db", 0.0, -40.0),
)

SIMPLE_COMPRESSOR = EffectSpec(
    "simple_compressor",
    "Compressor with one time constant for attack and release (cheaper; as in DeepAFx-ST).",
    (
        _THRESHOLD,
        _RATIO,
        Param("time_ms", "ms", 1.0, 500.0, 50.0, "log", doc="attack = release time constant"),
        _KNEE,
        _MAKEUP,
    ),
    category="dynamics",
)

LIMITER = EffectSpec(
    "limiter",
    "Peak limiter: infinite ratio, hard knee, fast attack (no look-ahead, so short overshoots pass).",
    (
        Param("threshold_db", "dB", -24.0, 0.0, 0.0, doc="ceiling of the static curve"),
        Param("attack_ms", "ms", 0.1, 10.0, 1.0, "log", doc="time constant while reduction rises"),
        Param("release_ms", "ms", 10.0, 1000.0, 100.0, "log", doc="time constant while reduction falls"),
        Param("makeup_db", "dB", 0.0, 24.0, 0.0, doc="gain added after limiting"),
    ),
    category="dynamics",
    strength=Strength("threshold_db", 0.0, -24.0),
)

EXPANDER = EffectSpec(
    "expander",
    "Downward expander / noise gate: below threshold the level falls `ratio` times faster, at most range_db.",
    (
        Param("threshold_db", "dB", -80.0, 0.0, -50.0, doc="level below which gain is reduced"),
        Param("ratio", "", 1.0, 20.0, 4.0, "log", doc="expansion ratio (20 acts as a gate)"),
        Param("attack_ms", "ms", 0.1, 100.0, 1.0, "log", doc="opening time constant"),
        Param("release_ms", "ms", 10.0, 1000.0, 100.0, "log", doc="closing time constant"),
        Param("range_db", "dB", 0.0, 80.0, 40.0, doc="largest gain reduction"),
    ),
    category="dynamics",
)


def _apply_numpy(x, reduction, attack_ms, release_ms, makeup_db, sample_rate):
    # Work in the signal's dtype: float32 audio gets float32 SIMD log/exp (the recursion's
    # state stays float64 inside the kernel).
    reduction = reduction.astype(x.dtype, copy=False)
    smooth = dyn.smooth_numpy(reduction, dyn.time_to_coef(attack_ms, sample_rate), dyn.time_to_coef(release_ms, sample_rate))
    return _gain_numpy(x, smooth, makeup_db)


def _gain_numpy(x, smooth, makeup_db):
    # in place: each fresh signal-sized array costs page faults, more than the arithmetic
    gain = np.subtract(np.asarray(makeup_db, x.dtype), smooth, dtype=x.dtype)
    gain *= np.asarray(np.log(10.0) / 20.0, x.dtype)
    np.exp(gain, out=gain)
    return x * gain[:, None, :]


def _apply_torch(x, reduction, attack_ms, release_ms, makeup_db, sample_rate):
    smooth = dyn.smooth_torch(reduction, dyn.time_to_coef(attack_ms, sample_rate), dyn.time_to_coef(release_ms, sample_rate))
    gain = ((makeup_db[:, None] - smooth) * (math.log(10.0) / 20.0)).exp()
    return x * gain[:, None, :]


def compressor_numpy(x, *, sample_rate, threshold_db, ratio, attack_ms, release_ms, knee_db, makeup_db):
    smooth = dyn.compressed_reduction_numpy(dyn.linked_level_db(x), threshold_db, ratio, knee_db,
                                            dyn.time_to_coef(attack_ms, sample_rate), dyn.time_to_coef(release_ms, sample_rate))
    return _gain_numpy(x, smooth, makeup_db)


def compressor_torch(x, *, sample_rate, threshold_db, ratio, attack_ms, release_ms, knee_db, makeup_db):
    if dyn.compressor_node_usable(x, threshold_db, ratio, attack_ms, release_ms, knee_db, makeup_db):
        return dyn.compress_torch(x, threshold_db, ratio, knee_db, dyn.time_to_coef(attack_ms, sample_rate),
                                  dyn.time_to_coef(release_ms, sample_rate), makeup_db)
    return compressor_composed_torch(x, sample_rate=sample_rate, threshold_db=threshold_db, ratio=ratio, attack_ms=attack_ms,
                                     release_ms=release_ms, knee_db=knee_db, makeup_db=makeup_db)


def compressor_composed_torch(x, *, sample_rate, threshold_db, ratio, attack_ms, release_ms, knee_db, makeup_db):
    """The compressor as composed torch ops (GPU, double backward; the reference of the CPU node)."""
    import torch

    level = dyn.linked_level_db(x, torch)
    reduction = dyn.compressor_curve(level, threshold_db[:, None], ratio[:, None], knee_db[:, None], torch)
    return _apply_torch(x, reduction, attack_ms, release_ms, makeup_db, sample_rate)


def simple_compressor_numpy(x, *, sample_rate, threshold_db, ratio, time_ms, knee_db, makeup_db):
    return compressor_numpy(
        x, sample_rate=sample_rate, threshold_db=threshold_db, ratio=ratio, attack_ms=time_ms,
        release_ms=time_ms, knee_db=knee_db, makeup_db=makeup_db,
    )


def simple_compressor_torch(x, *, sample_rate, threshold_db, ratio, time_ms, knee_db, makeup_db):
    return compressor_torch(
        x, sample_rate=sample_rate, threshold_db=threshold_db, ratio=ratio, attack_ms=time_ms,
        release_ms=time_ms, knee_db=knee_db, makeup_db=makeup_db,
    )


def limiter_numpy(x, *, sample_rate, threshold_db, attack_ms, release_ms, makeup_db):
    return compressor_numpy(x, sample_rate=sample_rate, threshold_db=threshold_db, ratio=math.inf, attack_ms=attack_ms,
                            release_ms=release_ms, knee_db=0.0, makeup_db=makeup_db)


def limiter_torch(x, *, sample_rate, threshold_db, attack_ms, release_ms, makeup_db):
    import torch

    if dyn.compressor_node_usable(x, threshold_db, attack_ms, release_ms, makeup_db):  # as numpy: ratio inf, knee 0
        return compressor_torch(x, sample_rate=sample_rate, threshold_db=threshold_db, ratio=torch.full_like(threshold_db, math.inf),
                                attack_ms=attack_ms, release_ms=release_ms, knee_db=torch.zeros_like(threshold_db), makeup_db=makeup_db)

    reduction = (dyn.linked_level_db(x, torch) - threshold_db[:, None]).clamp(min=0.0)
    return _apply_torch(x, reduction, attack_ms, release_ms, makeup_db, sample_rate)


def expander_numpy(x, *, sample_rate, threshold_db, ratio, attack_ms, release_ms, range_db):
    reduction = dyn.expander_curve(dyn.linked_level_db(x), threshold_db, ratio, range_db)
    # Reduction rising means the gate closes: that is the release; falling (opening) is the attack.
    return _apply_numpy(x, reduction, release_ms, attack_ms, 0.0, sample_rate)


def expander_torch(x, *, sample_rate, threshold_db, ratio, attack_ms, release_ms, range_db):
    import torch

    level = dyn.linked_level_db(x, torch)
    reduction = dyn.expander_curve(level, threshold_db[:, None], ratio[:, None], range_db[:, None], torch)
    return _apply_torch(x, reduction, release_ms, attack_ms, torch.zeros_like(ratio), sample_rate)


# -- static curves: output level for a steady input level ----------------------------------
def _compressor_curve(p, level_db):
    return level_db - dyn.compressor_curve(level_db, p["threshold_db"], p["ratio"], p["knee_db"]) + p["makeup_db"]


def _limiter_curve(p, level_db):
    return level_db - dyn.compressor_curve(level_db, p["threshold_db"], np.inf, 0.0) + p["makeup_db"]


def _expander_curve(p, level_db):
    return level_db - dyn.expander_curve(level_db, p["threshold_db"], p["ratio"], p["range_db"])


# -- inverses: the gain reduction recomputed from the output (exact for the feed-forward design) --
MAX_GAIN_BACK_DB = 40.0  # an inverse adding more than this is amplifying noise
MAX_SLOPE_GAIN = 10.0  # ... or one whose output-to-input error gain exceeds this


def _compressor_inverse(kind):
    def inverse(y, sample_rate, p, o, context):
        settings = dict(p)
        if kind == "simple_compressor":
            settings["attack_ms"] = settings["release_ms"] = settings.pop("time_ms")
        if kind == "limiter":
            settings["ratio"], settings["knee_db"] = math.inf, 0.0
        x, gain_db = invert_compressor(y, sample_rate=sample_rate, **settings)
        strength = context.dynamics_strength
        if strength != 1.0:  # scale the gain reduction undone, not the makeup gain
            makeup = float(settings.get("makeup_db", 0.0))
            gain_db = strength * (gain_db + makeup) - makeup
            x = y * 10.0 ** (gain_db[:, None, :] / 20.0)
        notes = []
        slope = 1.0 - 1.0 / settings["ratio"]
        error_gain = 1.0 / max(1.0 - dyn.time_to_coef(float(settings["attack_ms"]), sample_rate) * slope, 1e-12)
        if gain_db.size and gain_db.max() > MAX_GAIN_BACK_DB:
            notes.append(f"{kind}: the inverse adds up to {gain_db.max():.0f} dB of gain back: noise and estimation errors are amplified as much")
        if error_gain > MAX_SLOPE_GAIN:
            notes.append(f"{kind}: fast attack with ratio {settings['ratio']:g}: level errors of y grow {error_gain:.0f} times in x")
        return x, notes

    return inverse


EFFECTS = (
    Effect(COMPRESSOR, compressor_numpy, compressor_torch, aliases=("comp",),
           static_curve=StaticCurve(_compressor_curve, "level_db"), inverse=_compressor_inverse("compressor")),
    Effect(SIMPLE_COMPRESSOR, simple_compressor_numpy, simple_compressor_torch,
           static_curve=StaticCurve(_compressor_curve, "level_db"), inverse=_compressor_inverse("simple_compressor")),
    Effect(LIMITER, limiter_numpy, limiter_torch, static_curve=StaticCurve(_limiter_curve, "level_db"),
           inverse=_compressor_inverse("limiter")),
    Effect(EXPANDER, expander_numpy, expander_torch, aliases=("gate", "noise_gate"),
           static_curve=StaticCurve(_expander_curve, "level_db")),
)
