"""Bandwidth and resolution loss: band-limiting (telephone, AM radio, cheap microphones),
sample-rate reduction, bit-depth reduction with optional dither, and G.711-style mu-law /
A-law companding. Black boxes (numpy only).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from ..dsp.biquad import MAX_FREQ_FRACTION, sosfilt_numpy
from ..dsp.noise import rng_for
from ..spec import EffectSpec, Option, Param, Strength
from .base import Effect

BAND_LIMIT = EffectSpec(
    "band_limit",
    "Butterworth high-pass and low-pass (zero-phase off: causal, like real channels). "
    "Telephone: 300-3400 Hz; AM radio: 100-4500 Hz. Cutoffs above 0.49 x the sample rate skip "
    "the low-pass.",
    (
        Param("low_cut_hz", "Hz", 20.0, 1000.0, 20.0, "log", doc="high-pass cutoff (-3 dB)"),
        Param("high_cut_hz", "Hz", 1000.0, 20000.0, 20000.0, "log", doc="low-pass cutoff (-3 dB)"),
    ),
    (Option("order", 4, "Butterworth order of each filter", (2, 4, 6, 8)),),
    category="bandwidth",
    differentiable=False,
    strength=Strength("high_cut_hz", 20000.0, 1000.0),
)

SAMPLE_RATE_REDUCTION = EffectSpec(
    "sample_rate_reduction",
    "Resample down to a lower rate and back up with soxr: everything above the low rate's "
    "Nyquist frequency is lost, as in a low-quality recording or a narrow-band channel.",
    (Param("target_rate_hz", "Hz", 4000.0, 48000.0, 16000.0, "log", integer=True, doc="intermediate sample rate"),),
    category="bandwidth",
    differentiable=False,
    strength=Strength("target_rate_hz", 48000.0, 4000.0),
)

QUANTIZE = EffectSpec(
    "quantize",
    "Bit-depth reduction: rounding to a signed bits-wide grid on [-1, 1), with optional TPDF "
    "dither (2 LSB peak to peak) that trades distortion for a constant noise floor.",
    (Param("bits", "bit", 2.0, 24.0, 16.0, integer=True, doc="word length"),),
    (Option("dither", "none", "'none' or 'tpdf'", ("none", "tpdf")), Option("seed", 0, "seed of the dither")),
    category="bandwidth",
    differentiable=False,
    strength=Strength("bits", 24.0, 2.0),
)

COMPANDING = EffectSpec(
    "companding",
    "Mu-law (mu = 255) or A-law (A = 87.6) compression, uniform quantization, expansion: the "
    "G.711 telephone codecs at 8 bits; fewer bits exaggerate the effect.",
    (Param("bits", "bit", 4.0, 12.0, 8.0, integer=True, doc="bits of the companded code"),),
    (Option("law", "mu", "'mu' (North America, Japan) or 'a' (Europe)", ("mu", "a")),),
    category="bandwidth",
    differentiable=False,
    strength=Strength("bits", 12.0, 4.0),
)

MU = 255.0
A = 87.6


def band_limit_numpy(x, *, sample_rate, low_cut_hz, high_cut_hz, order):
    sections = [signal.butter(order, low_cut_hz, "highpass", fs=sample_rate, output="sos")]
    if high_cut_hz < MAX_FREQ_FRACTION * sample_rate:
        sections.append(signal.butter(order, high_cut_hz, "lowpass", fs=sample_rate, output="sos"))
    if low_cut_hz >= MAX_FREQ_FRACTION * sample_rate:
        return np.zeros_like(x)  # the pass band is above Nyquist: nothing survives
    return sosfilt_numpy(np.concatenate(sections), x)


def sample_rate_reduction_numpy(x, *, sample_rate, target_rate_hz):
    import soxr

    low = int(round(target_rate_hz))
    if low >= sample_rate:
        return x.copy()
    rows = np.ascontiguousarray(x.reshape(-1, x.shape[-1]).T)
    down = soxr.resample(rows, sample_rate, low, quality="HQ")
    up = soxr.resample(down, low, sample_rate, quality="HQ")
    n = x.shape[-1]
    up = np.pad(up[:n], ((0, max(0, n - up.shape[0])), (0, 0)))
    return up.T.reshape(x.shape)


def quantize_numpy(x, *, sample_rate, bits, dither, seed):
    steps = 2.0 ** (round(bits) - 1)
    u = x * steps
    if dither == "tpdf":
        rng = rng_for(seed)
        tri = rng.uniform(-0.5, 0.5, x.shape[1:]) + rng.uniform(-0.5, 0.5, x.shape[1:])
        u = u + tri[None]
    return np.clip(np.round(u), -steps, steps - 1) / steps


def compress_law(x, law):
    if law == "mu":
        return np.sign(x) * np.log1p(MU * np.abs(x)) / np.log1p(MU)
    ax = np.abs(x)
    small = ax < 1.0 / A
    y = np.where(small, A * ax, 1.0 + np.log(np.maximum(A * ax, 1.0))) / (1.0 + np.log(A))
    return np.sign(x) * y


def expand_law(y, law):
    if law == "mu":
        return np.sign(y) * np.expm1(np.abs(y) * np.log1p(MU)) / MU
    ay = np.abs(y) * (1.0 + np.log(A))
    x = np.where(ay < 1.0, ay / A, np.exp(ay - 1.0) / A)
    return np.sign(y) * x


def companding_numpy(x, *, sample_rate, bits, law):
    steps = 2.0 ** (round(bits) - 1)
    code = np.clip(compress_law(np.clip(x, -1.0, 1.0), law), -1.0, 1.0)
    code = np.clip(np.round(code * steps), -steps, steps - 1) / steps
    return expand_law(code, law)


EFFECTS = (
    Effect(BAND_LIMIT, band_limit_numpy, None, aliases=("bandlimit", "telephone_band")),
    Effect(SAMPLE_RATE_REDUCTION, sample_rate_reduction_numpy, None, aliases=("downsample",)),
    Effect(QUANTIZE, quantize_numpy, None, aliases=("bit_depth",)),
    Effect(COMPANDING, companding_numpy, None, aliases=("mu_law", "a_law", "g711")),
)
