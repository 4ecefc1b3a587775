"""Noise generators and level rules shared by the degradations.

Levels of added noise are relative to the signal (dB re the signal's RMS over the whole clip,
all channels): the SNR convention of augmentation libraries. Silent input therefore stays
silent, and the same settings give the same SNR on loud and quiet clips.
"""

from __future__ import annotations

import numpy as np

COLOR_EXPONENTS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # power spectrum ~ 1 / f^alpha
LOWEST_COLORED_HZ = 20.0  # below this, pink and brown noise stay flat (no DC blow-up)


def colored_noise(rng: np.random.Generator, shape: tuple, sample_rate: int, color: str) -> np.ndarray:
    """Gaussian noise of unit RMS per channel with a 1/f^alpha power spectrum, shape ``shape``."""
    n = shape[-1]
    white = rng.standard_normal(shape)
    alpha = COLOR_EXPONENTS[color]
    if alpha and n > 1:
        freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
        shaping = np.maximum(freqs, LOWEST_COLORED_HZ) ** (-alpha / 2.0)
        shaping[0] = 0.0
        white = np.fft.irfft(np.fft.rfft(white, axis=-1) * shaping, n, axis=-1)
    # sum of squares by einsum and an in-place scale: no temporary the size of the noise
    rms = np.sqrt(np.einsum("...i,...i->...", white, white)[..., None] / n)
    white *= 1.0 / np.maximum(rms, 1e-12)
    return white


def signal_rms(x: np.ndarray) -> np.ndarray:
    """RMS over channels and samples per batch item, shape (batch, 1, 1)."""
    return np.sqrt(np.mean(np.square(x, dtype=np.float64), axis=(-2, -1), keepdims=True))


def add_at_snr(x: np.ndarray, noise: np.ndarray, snr_db) -> np.ndarray:
    """x + noise scaled so that RMS(x) / RMS(noise) = snr_db (noise is unit-RMS).

    ``snr_db`` may be a number or a per-sample curve (time-varying noise level)."""
    scale = signal_rms(x) * 10.0 ** (-np.asarray(snr_db) / 20.0)
    return x + scale * noise


def rng_for(seed: int, salt: int = 0) -> np.random.Generator:
    """A generator for one effect call; ``salt`` separates the streams of one effect's parts."""
    return np.random.default_rng([int(seed), int(salt)])
