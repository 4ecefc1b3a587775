"""Speed change (pitch and tempo together, by resampling with soxr), time-stretch (tempo only)
and pitch-shift (pitch only) with Signalsmith Stretch (python-stretch). Black boxes.

Speed and time-stretch change the length: ``length="natural"`` keeps the new length,
``"same"`` crops or zero-pads to the input length (for fixed-size training batches).
"""

from __future__ import annotations

import numpy as np

from ..errors import DependencyError
from ..spec import EffectSpec, Option, Param, Strength
from .base import Effect

LENGTH = Option("length", "natural", "'natural' keeps the changed length, 'same' crops / pads to the input's", ("natural", "same"))

SPEED = EffectSpec(
    "speed",
    "Tape-style speed change: factor 2 is an octave up and twice as fast.",
    (Param("factor", "", 0.5, 2.0, 1.0, "log", doc="playback speed (pitch and tempo)"),),
    (LENGTH,),
    category="time",
    differentiable=False,
    strength=Strength("factor", 1.0, 2.0),
)

TIME_STRETCH = EffectSpec(
    "time_stretch",
    "Tempo change at constant pitch (Signalsmith Stretch).",
    (Param("rate", "", 0.5, 2.0, 1.0, "log", doc="tempo factor: 2 plays twice as fast"),),
    (LENGTH,),
    category="time",
    differentiable=False,
    strength=Strength("rate", 1.0, 2.0),
)

PITCH_SHIFT = EffectSpec(
    "pitch_shift",
    "Pitch change at constant tempo and length (Signalsmith Stretch).",
    (Param("semitones", "st", -12.0, 12.0, 0.0, doc="transposition"),),
    category="time",
    differentiable=False,
    strength=Strength("semitones", 0.0, 12.0),
)


def _fit(y: np.ndarray, n: int, length: str) -> np.ndarray:
    if length == "natural" or y.shape[-1] == n:
        return y
    if y.shape[-1] > n:
        return y[..., :n]
    return np.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, n - y.shape[-1])])


def speed_numpy(x, *, sample_rate, factor, length):
    import soxr

    if factor == 1.0:
        return x.copy()
    rows = np.ascontiguousarray(x.reshape(-1, x.shape[-1]).T)
    # resampling to sr / factor and playing at sr scales time by 1 / factor
    y = soxr.resample(rows, sample_rate * factor, sample_rate, quality="HQ").T
    return _fit(y.reshape(*x.shape[:2], -1), x.shape[-1], length)


def _stretcher(channels: int, sample_rate: int):
    try:
        import python_stretch
    except ImportError:  # pragma: no cover - a core dependency
        raise DependencyError("time-stretch and pitch-shift need python-stretch: pip install python-stretch") from None
    stretch = python_stretch.Signalsmith.Stretch()
    stretch.preset(channels, sample_rate)
    return stretch


def _per_item(x, sample_rate, configure):
    out = []
    for item in x:
        stretch = _stretcher(item.shape[0], sample_rate)
        configure(stretch)
        out.append(stretch.process(np.ascontiguousarray(item, dtype=np.float32)))
    return np.stack(out)


def time_stretch_numpy(x, *, sample_rate, rate, length):
    if rate == 1.0:
        return x.copy()
    y = _per_item(x, sample_rate, lambda s: s.setTimeFactor(rate))
    return _fit(y, x.shape[-1], length)


def pitch_shift_numpy(x, *, sample_rate, semitones):
    if semitones == 0.0:
        return x.copy()
    y = _per_item(x, sample_rate, lambda s: s.setTransposeSemitones(semitones))
    return _fit(y, x.shape[-1], "same")


EFFECTS = (
    Effect(SPEED, speed_numpy, None, aliases=("resample_speed",)),
    Effect(TIME_STRETCH, time_stretch_numpy, None, aliases=("tempo",)),
    Effect(PITCH_SHIFT, pitch_shift_numpy, None, aliases=("pitch",)),
)
