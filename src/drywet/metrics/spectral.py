"""Spectrograms and the mel filterbank shared by the losses (torch)."""

from __future__ import annotations

import functools
import math

import numpy as np

EPS = 1e-8  # keeps ratios and square roots of the losses finite
MAG_FLOOR = 1e-4  # magnitude floor (power 1e-8, auraloss's eps) keeps log and its gradient finite


def hz_to_mel(f):
    """Slaney mel scale (linear below 1 kHz, log above), as librosa's default."""
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3.0, 1000.0
    logstep = math.log(6.4) / 27.0
    return np.where(f < min_log_hz, f / f_sp, min_log_hz / f_sp + np.log(np.maximum(f, 1e-9) / min_log_hz) / logstep)


def mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3.0, 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    return np.where(m < min_log_mel, m * f_sp, min_log_hz * np.exp(logstep * (m - min_log_mel)))


@functools.lru_cache(maxsize=32)
def mel_filterbank(n_fft: int, n_mels: int, sample_rate: int, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """Triangular Slaney-normalized mel filters, shape (n_mels, n_fft // 2 + 1)."""
    fmax = sample_rate / 2.0 if fmax is None else fmax
    fft_hz = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    lower = (fft_hz[None, :] - edges[:-2, None]) / np.diff(edges)[:-1, None]
    upper = (edges[2:, None] - fft_hz[None, :]) / np.diff(edges)[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    weights.setflags(write=False)
    return weights


def power_spectrogram(x, n_fft: int, hop: int, win_length: int | None = None):
    """|STFT|^2 of (..., T) audio: (..., n_fft//2+1, frames). Hann window, centered."""
    import torch

    win_length = win_length or n_fft
    shape = x.shape
    flat = x.reshape(-1, shape[-1])
    if flat.shape[-1] <= n_fft // 2:  # reflect padding needs more samples than half a frame
        flat = torch.nn.functional.pad(flat, (0, n_fft // 2 + 1 - flat.shape[-1]))
    window = torch.hann_window(win_length, dtype=x.dtype, device=x.device)
    spec = torch.stft(flat, n_fft, hop, win_length, window, center=True, return_complex=True)
    power = spec.real.square() + spec.imag.square()
    return power.reshape(*shape[:-1], *power.shape[-2:])


def mel_power(x, sample_rate: int, n_fft: int = 2048, hop: int = 512, n_mels: int = 128):
    """Mel power spectrogram (..., n_mels, frames)."""
    import torch

    fb = torch.tensor(mel_filterbank(n_fft, n_mels, sample_rate), dtype=x.dtype, device=x.device)
    return torch.einsum("mf,...ft->...mt", fb, power_spectrogram(x, n_fft, hop))
