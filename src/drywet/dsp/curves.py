"""Time-varying control signals: parameter curves and a fractional variable delay.

A parameter curve is a 1-D array: one value per sample, or K values spread evenly over the
signal (first value at the first sample, last at the last) and linearly interpolated.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def curve_to_samples(curve: np.ndarray, num_samples: int) -> np.ndarray:
    """A 1-D curve of K points -> one value per sample, shape (num_samples,)."""
    curve = np.asarray(curve, dtype=np.float64)
    if curve.size == num_samples:
        return curve
    if curve.size == 1 or num_samples <= 1:
        return np.full(num_samples, curve[0])
    return np.interp(np.linspace(0.0, curve.size - 1.0, num_samples), np.arange(curve.size), curve)


def variable_delay(x: np.ndarray, delay_samples: np.ndarray, edge: str = "zero") -> np.ndarray:
    """y[n] = x(n - d[n]) with 4-point Lagrange (cubic) interpolation.

    Args:
        x: (batch, channels, samples).
        delay_samples: (samples,) or (channels, samples), fractional; negative values read ahead.
        edge: outside the signal read zeros ("zero", an empty delay line) or the first / last
            sample ("hold", for zero-mean modulation such as wow that must not fade the ends).
    Returns:
        (batch, channels, samples), dtype of x.
    """
    n = x.shape[-1]
    pos = np.arange(n) - np.asarray(delay_samples, dtype=np.float64)
    base = np.floor(pos)
    frac = pos - base
    base = base.astype(np.int64)
    # Lagrange weights for taps base-1, base, base+1, base+2
    weights = (
        -frac * (frac - 1.0) * (frac - 2.0) / 6.0,
        (frac + 1.0) * (frac - 1.0) * (frac - 2.0) / 2.0,
        -(frac + 1.0) * frac * (frac - 2.0) / 2.0,
        (frac + 1.0) * frac * (frac - 1.0) / 6.0,
    )
    y = np.zeros(x.shape, dtype=np.float64)
    for offset, w in zip((-1, 0, 1, 2), weights):
        idx = base + offset
        valid = (idx >= 0) & (idx < n) if edge == "zero" else np.ones(idx.shape, bool)
        taps = np.take_along_axis(x, np.broadcast_to(np.clip(idx, 0, n - 1), x.shape), axis=-1) if idx.ndim == 2 else x[..., np.clip(idx, 0, n - 1)]
        y += np.where(valid, w, 0.0) * taps
    return y.astype(x.dtype, copy=False)


def lfo_phase(num_samples: int, sample_rate: int, rate_hz) -> np.ndarray:
    """The phase (radians) of an oscillator at ``rate_hz``, shape (num_samples,).

    ``rate_hz``: a number, or one value per sample (a curve): the phase then integrates the
    rate, so the waveform stays continuous while the rate moves (a Leslie speeding up)."""
    if np.ndim(rate_hz) == 0:
        return 2.0 * np.pi * rate_hz * np.arange(num_samples) / sample_rate
    rate = np.asarray(rate_hz, dtype=np.float64)
    return 2.0 * np.pi * np.concatenate([[0.0], np.cumsum(rate[:-1])]) / sample_rate


def lfo(num_samples: int, sample_rate: int, rate_hz, phase: float = 0.0) -> np.ndarray:
    """A sine low-frequency oscillator in [-1, 1], shape (num_samples,); ``rate_hz`` as in
    :func:`lfo_phase`."""
    return np.sin(lfo_phase(num_samples, sample_rate, rate_hz) + phase)


def dry_wet(x: np.ndarray, wet: np.ndarray, mix) -> np.ndarray:
    """``(1 - mix) * x + mix * wet``.

    ``mix``: a number or one value per sample of ``x`` (a curve). ``wet`` may be longer than
    ``x`` (a reverb's tail): the dry signal is zero there and a curve holds its last value.
    Returns an array of ``wet``'s shape; ``wet`` itself may be overwritten."""
    n = x.shape[-1]
    if np.ndim(mix) == 0:
        if mix == 1.0:
            return wet
        wet *= wet.dtype.type(mix)
        wet[..., :n] += wet.dtype.type(1.0 - mix) * x
        return wet
    mix = np.asarray(mix, dtype=np.float64)
    if wet.shape[-1] > n:
        mix = np.concatenate([mix, np.full(wet.shape[-1] - n, mix[-1])])
    wet *= mix.astype(wet.dtype, copy=False)
    wet[..., :n] += (1.0 - mix[:n]).astype(wet.dtype, copy=False) * x
    return wet


def curve_to_samples_torch(curve: Any, num_samples: int) -> Any:
    """Torch twin of :func:`curve_to_samples` on rows: (batch, points) -> (batch, num_samples),
    the same even spread and linear interpolation, differentiable w.r.t. the points."""
    import torch.nn.functional as F

    if curve.shape[-1] == 1:
        return curve.expand(curve.shape[0], num_samples)
    return F.interpolate(curve[:, None, :], size=num_samples, mode="linear", align_corners=True)[:, 0]
