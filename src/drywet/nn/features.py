"""Constant-Q-like log-frequency magnitude spectrogram in torch.

A true CQT needs long kernels at low frequencies; on CPU we map an STFT (2048 points, hop
512 at 44.1 kHz) onto bands spaced 12 per octave from 32.7 Hz (C1) with triangular weights,
which keeps the constant-Q spacing the encoders of the paper rely on (frequency motifs that
move by shifts) at a fraction of the cost. Bands narrower than one STFT bin (the lowest few)
take their nearest bin. Output: log(1e-4 + magnitude), shape (batch, 1, bins, frames).
"""

from __future__ import annotations

import functools

import numpy as np

FMIN_HZ = 32.70
BINS_PER_OCTAVE = 12


@functools.lru_cache(maxsize=16)
def log_frequency_filterbank(n_fft: int, sample_rate: int) -> np.ndarray:
    """(bins, n_fft // 2 + 1) triangular weights on a 12-per-octave grid up to 0.45 x sr."""
    top = 0.45 * sample_rate
    count = int(np.floor(BINS_PER_OCTAVE * np.log2(top / FMIN_HZ)))
    centers = FMIN_HZ * 2.0 ** (np.arange(-1, count + 1) / BINS_PER_OCTAVE)
    fft_hz = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    weights = np.zeros((count, fft_hz.size))
    for i in range(count):
        lo, mid, hi = centers[i], centers[i + 1], centers[i + 2]
        tri = np.maximum(0.0, np.minimum((fft_hz - lo) / (mid - lo), (hi - fft_hz) / (hi - mid)))
        if tri.sum() == 0:  # narrower than a bin
            tri[int(np.argmin(np.abs(fft_hz - mid)))] = 1.0
        weights[i] = tri / tri.sum()
    return weights.astype(np.float32)


def log_frequency_spectrogram(x, sample_rate: int, n_fft: int = 2048, hop: int = 512):
    """(batch, 1, T) audio -> (batch, 1, bins, frames) log magnitudes."""
    import torch

    mono = x.mean(dim=1)
    window = torch.hann_window(n_fft, dtype=mono.dtype, device=mono.device)
    spec = torch.stft(mono, n_fft, hop, window=window, center=True, return_complex=True).abs()
    fb = torch.as_tensor(log_frequency_filterbank(n_fft, sample_rate), dtype=mono.dtype, device=mono.device)
    return torch.log(1e-4 + torch.einsum("kf,bft->bkt", fb, spec))[:, None]
