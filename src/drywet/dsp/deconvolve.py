"""Inverse filtering of linear effects: exact for gain and polarity, negated gains for the
RBJ peak and shelf EQs (an RBJ peak or shelf with gain -g is the exact inverse of the one with
gain +g: both are minimum phase), regularized deconvolution for reverbs and delays, and WPE
for blind dereverberation.

Regularization rules (documented once, here):
* EQ: the inverse of a band never boosts by more than ``max_boost_db`` (24 dB by default); a
  deeper cut is only partly undone, with a warning, so that noise in a notch is not blown up.
* Deconvolution: X = Y conj(H) / (|H|^2 + lambda), lambda = 10^(-reg_db / 10) max |H|^2
  (Tikhonov; reg_db = 60 by default), computed on an FFT longer than signal plus IR.
"""

from __future__ import annotations

import warnings

import numpy as np

from .convolve import fft_size
from ..errors import DependencyError

MAX_BOOST_DB = 24.0
DECONVOLUTION_REG_DB = 60.0


def inverse_gains(params: dict, max_boost_db: float = MAX_BOOST_DB, where: str = "eq") -> tuple[dict, list[str]]:
    """Negate every ``*gain_db`` parameter, capping boosts at ``max_boost_db``."""
    out, notes = dict(params), []
    for name, value in params.items():
        if name.endswith("gain_db"):
            inverse = -float(value)
            if inverse > max_boost_db:
                notes.append(
                    f"{where}.{name}={value:g} dB is a cut deeper than the {max_boost_db:g} dB the inverse may boost; "
                    f"undone by {max_boost_db:g} dB only"
                )
                inverse = max_boost_db
            out[name] = inverse
    return out, notes


def deconvolve(y: np.ndarray, h: np.ndarray, reg_db: float = DECONVOLUTION_REG_DB) -> np.ndarray:
    """Regularized inverse filtering of (B, C, T) audio by impulse responses h (C or 1, L)."""
    n = y.shape[-1]
    size = fft_size(n + h.shape[-1])
    Y = np.fft.rfft(y.astype(np.float64), size, axis=-1)
    H = np.fft.rfft(h.astype(np.float64), size, axis=-1)
    power = np.abs(H) ** 2
    lam = 10.0 ** (-reg_db / 10.0) * power.max(axis=-1, keepdims=True)
    X = Y * np.conj(H) / (power + lam)
    return np.fft.irfft(X, size, axis=-1)[..., :n].astype(y.dtype, copy=False)


def impulse_response_of(effect, sample_rate: int, channels: int, length: int, settings: dict) -> np.ndarray:
    """Measure an LTI effect's impulse response per channel, (C, length)."""
    impulse = np.zeros((channels, length))
    impulse[:, 0] = 1.0
    return effect(impulse, sample_rate=sample_rate, **settings)


def wpe_dereverb(y: np.ndarray, *, sample_rate: int, taps: int = 30, delay: int = 3, iterations: int = 3) -> np.ndarray:
    """Blind dereverberation by weighted prediction error (Nakatani et al., IEEE TASLP 2010;
    Yoshioka & Nakatani 2012) with nara_wpe (Drude et al., 2018). (C, T) audio; multichannel
    input is processed jointly. STFT of 1024 (512 at <= 16 kHz) with hop 1/4."""
    try:
        from nara_wpe.utils import istft, stft
        from nara_wpe.wpe import wpe
    except ImportError:
        raise DependencyError("blind dereverberation needs nara-wpe: pip install 'drywet[restore]'") from None
    size = 512 if sample_rate <= 16000 else 1024
    shift = size // 4
    spec = stft(y.astype(np.float64), size=size, shift=shift)  # (C, frames, bins)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = wpe(spec.transpose(2, 0, 1), taps=taps, delay=delay, iterations=iterations).transpose(1, 2, 0)
    x = istft(out, size=size, shift=shift)[..., : y.shape[-1]]
    return np.pad(x, ((0, 0), (0, y.shape[-1] - x.shape[-1]))).astype(y.dtype, copy=False)


def lti_inverse(ir_seconds):
    """The inverse hook of an LTI effect: regularized deconvolution by its measured impulse
    response, ``ir_seconds(params, options, sample_rate)`` long (the effect's own tail rule)."""

    def inverse(y, sample_rate, p, o, context):
        settings = {**p, **o}
        if "length" in settings:
            settings["length"] = "same"
        length = int(ir_seconds(p, o, sample_rate) * sample_rate) + 1
        h = impulse_response_of(context.effect, sample_rate, y.shape[1], length, settings)
        return deconvolve(y, h), []

    return inverse


def energy_decay_db(h: np.ndarray) -> np.ndarray:
    """Schroeder's backward-integrated energy decay of impulse responses (C, L), in dB re. the total."""
    energy = np.cumsum((h.astype(np.float64) ** 2)[..., ::-1], axis=-1)[..., ::-1]
    return 10.0 * np.log10(energy / np.maximum(energy[..., :1], 1e-30) + 1e-12)
