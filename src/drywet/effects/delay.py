"""Feedback delay (echo) with a one-pole low-pass "tone" control in the feedback loop.

The echo train is an LTI system: the k-th echo is x delayed by k*D and filtered by
fb^(k-1) LP^k. It is computed exactly in the frequency domain by its closed form
``H = LP z^-D (1 - r^K) / (1 - r)`` with ``r = fb LP z^-D`` and K the number of echoes that
start inside the output (so no echo wraps around the FFT). A fractional D is a band-limited
phase shift, which gives ``time_ms`` a gradient in the torch twin. Numpy and torch run the
same formula. Output: ``y = x + mix * echoes`` (mix = 0 is the identity).
"""

from __future__ import annotations

import math

import numpy as np

from ..dsp.deconvolve import lti_inverse
from ..spec import EffectSpec, Param, Strength
from .base import Effect

DELAY = EffectSpec(
    "delay",
    "Feedback echo: delay time, feedback, mix and a low-pass tone in the loop.",
    (
        Param("time_ms", "ms", 10.0, 1000.0, 250.0, "log", doc="time between echoes"),
        Param("feedback", "", 0.0, 0.9, 0.3, doc="gain from one echo to the next"),
        Param("mix", "", 0.0, 1.0, 0.3, doc="level of the echoes added to the dry signal", curve=True),
        Param("tone_hz", "Hz", 500.0, 20000.0, 20000.0, "log", doc="cutoff of the one-pole low-pass in the loop"),
    ),
    category="delay",
    strength=Strength("mix", 0.0, 1.0),
)


def _sizes(length: int, delay_samples: float):
    from scipy.fft import next_fast_len

    echoes = max(1, int(math.floor((length - 1) / delay_samples)))
    return echoes, next_fast_len(2 * length, real=True)


def delay_numpy(x, *, sample_rate, time_ms, feedback, mix, tone_hz):
    length = x.shape[-1]
    d = time_ms * sample_rate / 1000.0
    echoes, n = _sizes(length, d)
    w = 2.0 * np.pi * np.fft.rfftfreq(n)
    p = math.exp(-2.0 * math.pi * min(tone_hz, 0.49 * sample_rate) / sample_rate)
    lp = (1.0 - p) / (1.0 - p * np.exp(-1j * w))
    step = lp * np.exp(-1j * w * d)
    r = feedback * step
    h = step * (1.0 - r**echoes) / (1.0 - r)
    wet = np.fft.irfft(np.fft.rfft(x.astype(np.float64), n=n) * h, n=n)[..., :length]
    return x + mix * wet


def delay_torch(x, *, sample_rate, time_ms, feedback, mix, tone_hz):
    import torch

    length = x.shape[-1]
    d = time_ms * (sample_rate / 1000.0)  # (B,)
    _, n = _sizes(length, float(d.detach().min()))
    # Per-item echo counts: items with longer delays simply have fewer echoes inside.
    k = torch.clamp(torch.floor((length - 1) / d.detach()), min=1.0)
    w = 2.0 * math.pi * torch.fft.rfftfreq(n, dtype=x.dtype, device=x.device)
    p = torch.exp(-2.0 * math.pi * tone_hz.clamp(max=0.49 * sample_rate) / sample_rate)[:, None]
    z1 = torch.polar(torch.ones_like(w), -w)
    lp = (1.0 - p) / (1.0 - p * z1)
    step = lp * torch.polar(torch.ones_like(d[:, None] * w), -d[:, None] * w)
    r = feedback[:, None] * step
    h = step * (1.0 - r ** k[:, None]) / (1.0 - r)
    wet = torch.fft.irfft(torch.fft.rfft(x, n=n) * h[:, None, :], n=n)[..., :length]
    return x + mix[:, None, None] * wet


def _delay_length(p, o, sr):
    """Seconds until the echoes fall by 60 dB: log(1e-3) / log(feedback) repeats."""
    fb = max(float(p["feedback"]), 1e-3)
    repeats = min(math.log(1e-3) / math.log(fb), 200.0) if fb < 1 else 200.0
    return (1.0 + repeats) * p["time_ms"] / 1000.0


EFFECTS = (Effect(DELAY, delay_numpy, delay_torch, aliases=("echo",), inverse=lti_inverse(_delay_length)),)
