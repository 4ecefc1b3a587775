"""Modulation effects: tremolo (with a torch twin), chorus, flanger and phaser (numpy only).

Chorus reads a delay line at an LFO-modulated fractional position (cubic interpolation);
flanger adds feedback around that delay line and phaser sweeps a cascade of first-order
all-passes. Both recursions run in numba (never as Python loops).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..dsp.curves import dry_wet, lfo, lfo_phase, variable_delay
from ..spec import EffectSpec, Option, Param, Strength
from .base import Effect, batch_param

_RATE = {"doc": "LFO rate", "curve": True}

TREMOLO = EffectSpec(
    "tremolo",
    "Amplitude modulation: gain 1 - depth (1 - cos(2 pi rate t)) / 2, in [1 - depth, 1].",
    (
        Param("rate_hz", "Hz", 0.5, 20.0, 5.0, "log", **_RATE),
        Param("depth", "", 0.0, 1.0, 0.5, doc="0 none, 1 full silence at the troughs", curve=True),
    ),
    category="modulation",
    strength=Strength("depth", 0.0, 1.0),
)

CHORUS = EffectSpec(
    "chorus",
    "Chorus: the dry signal plus a copy read at delay_ms + depth_ms x LFO.",
    (
        Param("rate_hz", "Hz", 0.05, 5.0, 0.8, "log", **_RATE),
        Param("depth_ms", "ms", 0.1, 10.0, 2.0, "log", doc="peak delay excursion", curve=True),
        Param("delay_ms", "ms", 5.0, 40.0, 15.0, "log", doc="center delay"),
        Param("mix", "", 0.0, 1.0, 0.5, doc="0 dry only, 1 delayed copy only", curve=True),
    ),
    category="modulation",
    differentiable=False,
    strength=Strength("mix", 0.0, 1.0),
)

FLANGER = EffectSpec(
    "flanger",
    "Flanger: a short modulated delay with feedback, mixed with the dry signal.",
    (
        Param("rate_hz", "Hz", 0.05, 5.0, 0.3, "log", **_RATE),
        Param("depth_ms", "ms", 0.05, 5.0, 1.5, "log", doc="peak delay excursion", curve=True),
        Param("delay_ms", "ms", 0.1, 10.0, 2.0, "log", doc="center delay (at least the depth is kept)"),
        Param("feedback", "", -0.95, 0.95, 0.5, doc="delay-line feedback gain"),
        Param("mix", "", 0.0, 1.0, 0.5, doc="0 dry only, 1 delayed copy only", curve=True),
    ),
    category="modulation",
    differentiable=False,
    strength=Strength("mix", 0.0, 1.0),
)

PHASER = EffectSpec(
    "phaser",
    "Phaser: first-order all-passes whose break frequency sweeps around center_hz by "
    "+/- depth octaves x 2, with feedback, mixed with the dry signal.",
    (
        Param("rate_hz", "Hz", 0.05, 5.0, 0.5, "log", **_RATE),
        Param("depth", "", 0.0, 1.0, 0.7, doc="sweep width (1: +/- 2 octaves)", curve=True),
        Param("center_hz", "Hz", 100.0, 5000.0, 800.0, "log", doc="center of the sweep"),
        Param("feedback", "", 0.0, 0.9, 0.4, doc="feedback from the last all-pass"),
        Param("mix", "", 0.0, 1.0, 0.5, doc="0 dry only, 1 all-passed only", curve=True),
    ),
    (Option("stages", 4, "number of first-order all-passes", (2, 4, 6, 8, 12)),),
    category="modulation",
    differentiable=False,
    strength=Strength("mix", 0.0, 1.0),
)


def tremolo_gain(n, sample_rate, rate_hz, depth, xp=np):
    if xp is np:  # rate and depth may be curves here
        return 1.0 - depth * 0.5 * (1.0 - np.cos(lfo_phase(n, sample_rate, rate_hz)))
    t = xp.arange(n, dtype=depth.dtype, device=depth.device) / sample_rate
    return 1.0 - depth[:, None, None] * 0.5 * (1.0 - (2 * math.pi * batch_param(rate_hz) * t).cos())


def tremolo_numpy(x, *, sample_rate, rate_hz, depth):
    return x * tremolo_gain(x.shape[-1], sample_rate, rate_hz, depth)


def tremolo_torch(x, *, sample_rate, rate_hz, depth):
    import torch

    return x * tremolo_gain(x.shape[-1], sample_rate, rate_hz, depth, xp=torch)


def chorus_numpy(x, *, sample_rate, rate_hz, depth_ms, delay_ms, mix):
    ms = delay_ms + depth_ms * lfo(x.shape[-1], sample_rate, rate_hz)
    wet = variable_delay(x.astype(np.float64), np.maximum(ms, 0.0) * sample_rate / 1000.0)
    return dry_wet(x, wet, mix)


@njit(cache=True, nogil=True)
def _flanger_kernel(x, delay, feedback):  # pragma: no cover - compiled
    """The delay line's taps (the wet signal)."""
    rows, n = x.shape
    size = 1
    while size < int(np.max(delay)) + 4:
        size *= 2
    y = np.empty_like(x)
    for r in range(rows):
        line = np.zeros(size)
        for i in range(n):
            pos = i - delay[i]
            base = int(math.floor(pos))
            f = pos - base
            # cubic Lagrange read of the delay line (only past samples: delay >= 2)
            a = line[(base - 1) & (size - 1)]
            b = line[base & (size - 1)]
            c = line[(base + 1) & (size - 1)]
            d = line[(base + 2) & (size - 1)]
            tap = (-f * (f - 1) * (f - 2) / 6) * a + ((f + 1) * (f - 1) * (f - 2) / 2) * b
            tap += (-(f + 1) * f * (f - 2) / 2) * c + ((f + 1) * f * (f - 1) / 6) * d
            line[i & (size - 1)] = x[r, i] + feedback * tap
            y[r, i] = tap
    return y


def flanger_numpy(x, *, sample_rate, rate_hz, depth_ms, delay_ms, feedback, mix):
    center = np.maximum(delay_ms, depth_ms)
    samples = (center + depth_ms * lfo(x.shape[-1], sample_rate, rate_hz)) * sample_rate / 1000.0
    samples = np.maximum(samples, 2.0)  # the cubic read needs two past samples
    rows = np.ascontiguousarray(x.reshape(-1, x.shape[-1]), dtype=np.float64)
    return dry_wet(x, _flanger_kernel(rows, samples, feedback).reshape(x.shape), mix)


@njit(cache=True, nogil=True)
def _phaser_kernel(x, coef, stages, feedback):  # pragma: no cover - compiled
    """The all-pass cascade's output (the wet signal)."""
    rows, n = x.shape
    y = np.empty_like(x)
    for r in range(rows):
        state = np.zeros(stages)  # previous input of each all-pass
        out_prev = np.zeros(stages)  # previous output of each all-pass
        last = 0.0
        for i in range(n):
            a = coef[i]
            u = x[r, i] + feedback * last
            for s in range(stages):
                v = a * u + state[s] - a * out_prev[s]  # H(z) = (a + z^-1) / (1 + a z^-1)
                state[s] = u
                out_prev[s] = v
                u = v
            last = u
            y[r, i] = u
    return y


def phaser_numpy(x, *, sample_rate, rate_hz, depth, center_hz, feedback, mix, stages):
    n = x.shape[-1]
    freq = center_hz * 2.0 ** (2.0 * depth * lfo(n, sample_rate, rate_hz))
    tan = np.tan(np.pi * np.minimum(freq, 0.45 * sample_rate) / sample_rate)
    coef = (tan - 1.0) / (tan + 1.0)  # first-order all-pass with break frequency ``freq``
    rows = np.ascontiguousarray(x.reshape(-1, n), dtype=np.float64)
    return dry_wet(x, _phaser_kernel(rows, coef, int(stages), feedback).reshape(x.shape), mix)


EFFECTS = (
    Effect(TREMOLO, tremolo_numpy, tremolo_torch),
    Effect(CHORUS, chorus_numpy, None),
    Effect(FLANGER, flanger_numpy, None),
    Effect(PHASER, phaser_numpy, None),
)
