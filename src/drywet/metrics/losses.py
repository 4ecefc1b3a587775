"""Audio losses and metrics (torch, differentiable) with numpy-friendly wrappers.

Every function takes ``(batch, channels, samples)`` or ``(channels, samples)`` tensors and
returns the mean over the batch as a 0-d tensor. All are finite, with finite gradients, on
silence and on identical inputs (tests/test_metrics.py).

References:
    ESR: Wright et al., "Real-time guitar amplifier emulation with deep learning", 2020.
    SI-SDR: Le Roux et al., "SDR - half-baked or well done?", ICASSP 2019.
    MR-STFT: Yamamoto et al., "Parallel WaveGAN", ICASSP 2020 (spectral convergence + log mag).
    Log-mel L1 with RMS normalization: Peladeau & Peeters, ICASSP 2024.
    Stereo sum/difference MR-STFT: Steinmetz, PhD thesis (2023), eq. 5.3.
    MCD: Kubichek, "Mel-cepstral distance measure for objective speech quality assessment", 1993.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..audio import as_batch, check_sample_rate
from ..errors import AudioError
from .spectral import EPS, MAG_FLOOR, mel_power, power_spectrogram

# Resolutions of auraloss's MultiResolutionSTFTLoss defaults (n_fft, hop, window).
DEFAULT_RESOLUTIONS = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))


def _pair(target: Any, estimate: Any):
    import torch

    t, _ = as_batch(target, name="target", allow_empty=False)
    e, _ = as_batch(estimate, name="estimate", allow_empty=False)
    if t.shape != e.shape:
        raise AudioError(f"target and estimate shapes differ: {tuple(t.shape)} vs {tuple(e.shape)}; align them first")
    return torch.as_tensor(t), torch.as_tensor(e)


def _safe_sqrt(x):
    """sqrt with a finite gradient at 0 that is still exactly 0 at 0."""
    return (x + EPS).sqrt() - math.sqrt(EPS)


def mae(target, estimate):
    """Mean absolute error of the waveforms."""
    t, e = _pair(target, estimate)
    return (t - e).abs().mean()


def esr(target, estimate):
    """Error-to-signal ratio sum((t - e)^2) / sum(t^2) per item, averaged."""
    t, e = _pair(target, estimate)
    return ((t - e).square().sum((-2, -1)) / (t.square().sum((-2, -1)) + EPS)).mean()


def si_sdr(target, estimate):
    """Scale-invariant SDR in dB (higher is better), per channel, averaged."""
    t, e = _pair(target, estimate)
    alpha = (t * e).sum(-1, keepdim=True) / (t.square().sum(-1, keepdim=True) + EPS)
    proj = alpha * t
    ratio = (proj.square().sum(-1) + EPS) / ((e - proj).square().sum(-1) + EPS)
    return (10.0 * ratio.log10()).mean()


def _rms_normalize(x):
    return x / x.square().mean((-2, -1), keepdim=True).add(EPS).sqrt()


LOGMEL_FLOOR = 1e-5  # mel power floor of the log-mel loss (the signals are RMS-normalized first)


def logmel_features(x, *, sample_rate: int, n_fft: int = 2048, hop: int = 512, n_mels: int = 128):
    """What the log-mel loss compares: log mel power (..., channels, n_mels, frames) of the
    RMS-normalized signal (batch, channels, samples)."""
    return (mel_power(_rms_normalize(x), sample_rate, n_fft, hop, n_mels) + LOGMEL_FLOOR).log()


def logmel_per_item(target, estimate, *, sample_rate: int, n_fft: int = 2048, hop: int = 512, n_mels: int = 128):
    """:func:`logmel_l1` for each batch item, shape (batch,)."""
    t, e = _pair(target, estimate)
    sr = check_sample_rate(sample_rate)
    ft = logmel_features(t, sample_rate=sr, n_fft=n_fft, hop=hop, n_mels=n_mels)
    fe = logmel_features(e, sample_rate=sr, n_fft=n_fft, hop=hop, n_mels=n_mels)
    return (ft - fe).abs().mean((-3, -2, -1))


def logmel_l1(target, estimate, *, sample_rate: int, n_fft: int = 2048, hop: int = 512, n_mels: int = 128):
    """L1 distance of log-mel spectrograms after RMS normalization of both signals."""
    return logmel_per_item(target, estimate, sample_rate=sample_rate, n_fft=n_fft, hop=hop, n_mels=n_mels).mean()




def _stft_rows(x, n_fft: int):
    """(..., samples) -> (rows, samples), zero-padded when too short for reflect padding."""
    import torch

    flat = x.reshape(-1, x.shape[-1])
    if flat.shape[-1] <= n_fft // 2:  # reflect padding needs more samples than half a frame
        flat = torch.nn.functional.pad(flat, (0, n_fft // 2 + 1 - flat.shape[-1]))
    return flat


def _stft_magnitude(x, n_fft: int, hop: int, win: int):
    import torch

    flat = _stft_rows(x, n_fft)
    window = torch.hann_window(win, dtype=x.dtype, device=x.device)
    spec = torch.stft(flat, n_fft, hop, win, window, center=True, return_complex=True)
    return spec.abs().clamp(min=MAG_FLOOR).reshape(*x.shape[:-1], *spec.shape[-2:])


def mrstft_per_item(target, estimate, *, resolutions: Sequence[tuple[int, int, int]] = DEFAULT_RESOLUTIONS,
                    fused: bool | None = None):
    """:func:`mrstft` for each batch item, shape (batch,). ``fused`` (default: whenever it applies,
    i.e. CPU tensors and a target without gradient) computes each resolution in one autograd node
    (:mod:`drywet.metrics.fused_stft_loss`, same value and gradient, several times faster);
    ``fused=False`` forces the plain torch graph (GPU, double backward)."""
    import torch

    from . import fused_stft_loss

    t, e = _pair(target, estimate)
    use_fused = fused_stft_loss.usable(t, e) if fused is None else fused
    if use_fused and not fused_stft_loss.usable(t, e):
        raise AudioError("the fused MR-STFT needs CPU float tensors of one dtype and a target without gradient; pass fused=False")
    total = 0.0
    for n_fft, hop, win in resolutions:
        if use_fused:
            rows_t, rows_e = _stft_rows(t, n_fft), _stft_rows(e, n_fft)
            both = fused_stft_loss.spectral_loss(rows_e, rows_t, n_fft, hop, win).reshape(t.shape[:-1])
        else:
            with torch.set_grad_enabled(torch.is_grad_enabled() and t.requires_grad):
                mt = _stft_magnitude(t, n_fft, hop, win)
            me = _stft_magnitude(e, n_fft, hop, win)
            sc = _safe_sqrt((mt - me).square().sum((-2, -1))) / mt.square().sum((-2, -1)).sqrt()
            logmag = (mt.log() - me.log()).abs().mean((-2, -1))
            both = sc + logmag
        total = total + both.mean(-1)  # mean over channels
    return total / len(resolutions)


def mrstft(target, estimate, *, resolutions: Sequence[tuple[int, int, int]] = DEFAULT_RESOLUTIONS):
    """Multi-resolution STFT loss: mean over resolutions of spectral convergence + L1 of
    log magnitudes (magnitudes floored at 1e-4). The target's STFT is built without a graph
    unless the target itself requires a gradient."""
    return mrstft_per_item(target, estimate, resolutions=resolutions).mean()


def stereo_mrstft(target, estimate, *, resolutions=DEFAULT_RESOLUTIONS):
    """MR-STFT on the sum (L+R) and the difference (L-R) of stereo signals (thesis eq. 5.3)."""
    t, e = _pair(target, estimate)
    if t.shape[-2] != 2:
        raise AudioError(f"stereo_mrstft needs 2 channels, got {t.shape[-2]}")
    s = mrstft(t.sum(-2, keepdim=True), e.sum(-2, keepdim=True), resolutions=resolutions)
    d = mrstft(t[:, :1] - t[:, 1:], e[:, :1] - e[:, 1:], resolutions=resolutions)
    return s + d


MCD_FLOOR_DB = -100.0


def _mfcc(x, sample_rate: int, n_mfcc: int, n_fft: int, hop: int, n_mels: int):
    import torch

    # 0.5 * ln(mel power) = ln(mel amplitude): the cepstrum the MCD constant expects. The floor
    # is MCD_FLOOR_DB below each signal's own loudest mel bin (not an absolute 1e-10): with c0
    # dropped, MCD is then independent of playback level, quiet recordings included.
    power = mel_power(x, sample_rate, n_fft, hop, n_mels)
    floor = power.detach().amax((-2, -1), keepdim=True) * 10.0 ** (MCD_FLOOR_DB / 10.0) + 1e-30
    log_mel = 0.5 * (power + floor).log()
    k = torch.arange(n_mels, dtype=x.dtype, device=x.device)
    n = torch.arange(n_mfcc + 1, dtype=x.dtype, device=x.device)
    dct = torch.cos(math.pi / n_mels * (k[None, :] + 0.5) * n[:, None]) * math.sqrt(2.0 / n_mels)
    return torch.einsum("cm,...mt->...ct", dct, log_mel)[..., 1:, :]  # drop c0 (energy)


def mcd(target, estimate, *, sample_rate: int, n_mfcc: int = 13, n_fft: int = 2048, hop: int = 512, n_mels: int = 80):
    """Mel-cepstral distortion in dB: (10 / ln 10) sqrt(2 sum_k (c_k - c'_k)^2), frame mean."""
    t, e = _pair(target, estimate)
    sr = check_sample_rate(sample_rate)
    diff = _mfcc(t, sr, n_mfcc, n_fft, hop, n_mels) - _mfcc(e, sr, n_mfcc, n_fft, hop, n_mels)
    return (10.0 / math.log(10.0) * _safe_sqrt(2.0 * diff.square().sum(-2))).mean()


def spectral_centroid(x, *, sample_rate: int, n_fft: int = 2048, hop: int = 512):
    """Spectral centroid (Hz) per frame: (..., frames)."""
    import torch

    power = power_spectrogram(x, n_fft, hop)
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=x.dtype, device=x.device)
    return (freqs[:, None] * power).sum(-2) / (power.sum(-2) + EPS)


def spectral_centroid_error(target, estimate, *, sample_rate: int):
    """Mean absolute difference of the spectral centroids (Hz)."""
    t, e = _pair(target, estimate)
    sr = check_sample_rate(sample_rate)
    return (spectral_centroid(t, sample_rate=sr) - spectral_centroid(e, sample_rate=sr)).abs().mean()


def _db(power):
    return 10.0 * (power + EPS).log10()


def rms_error_db(target, estimate):
    """|RMS level difference| in dB."""
    t, e = _pair(target, estimate)
    return (_db(t.square().mean((-2, -1))) - _db(e.square().mean((-2, -1)))).abs().mean()


def crest_factor_db(x):
    """Peak-to-RMS ratio in dB per item (smooth peak: soft maximum is not used; exact max)."""
    return _db(x.square().amax((-2, -1))) - _db(x.square().mean((-2, -1)))


def crest_factor_error_db(target, estimate):
    """|crest factor difference| in dB."""
    t, e = _pair(target, estimate)
    return (crest_factor_db(t) - crest_factor_db(e)).abs().mean()
