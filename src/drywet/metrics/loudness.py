"""Loudness after ITU-R BS.1770-4 and EBU Tech 3341 / 3342 (numpy).

K-weighting is the two-stage filter of BS.1770 (high-shelf pre-filter and RLB high-pass)
designed for any sample rate with the bilinear-transform formulas of libebur128, which give
the standard's 48 kHz coefficients. Block energies come from one cumulative sum, so
momentary (400 ms), short-term (3 s) and gating blocks at any hop cost one pass.
"""

from __future__ import annotations

import math

import numpy as np

from ..audio import as_batch, check_sample_rate
from ..dsp.biquad import sosfilt_numpy
from ..errors import AudioError

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0  # integrated loudness (BS.1770-4)
LRA_RELATIVE_GATE_LU = -20.0  # loudness range (Tech 3342)
MOMENTARY_S = 0.4
SHORT_TERM_S = 3.0
_OFFSET = -0.691


def k_weighting_sos(sample_rate: int) -> np.ndarray:
    """The K-weighting cascade as second-order sections (2, 6) for ``sample_rate``."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sample_rate)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    ]
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / sample_rate)
    den = 1.0 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / den, (1.0 - k / q + k * k) / den]
    return np.array([shelf, highpass])


def channel_weights(channels: int) -> np.ndarray:
    """BS.1770 weights: 1 for L, R, C; 1.41 for surrounds; 0 for LFE (5.1 order L R C LFE Ls Rs)."""
    if channels <= 3:
        return np.ones(channels)
    if channels == 5:
        return np.array([1.0, 1.0, 1.0, 1.41, 1.41])
    if channels == 6:
        return np.array([1.0, 1.0, 1.0, 0.0, 1.41, 1.41])
    raise AudioError(f"loudness supports 1, 2, 3, 5 or 6 channels (BS.1770 layouts), got {channels}")


def _weighted_power_cumsum(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Cumulative channel-weighted K-weighted energy, (samples + 1,), float64."""
    x3, was_2d = as_batch(x, allow_empty=False)
    if not was_2d:
        raise AudioError("loudness takes one (channels, samples) signal; loop over the batch")
    sr = check_sample_rate(sample_rate)
    # The filter state and the running sum of energies are float64 (float32 would drift
    # over long files); the filtered signal is stored in the input's dtype.
    signal = x3[0] if x3.dtype in (np.float32, np.float64) else x3[0].astype(np.float64)
    weighted = sosfilt_numpy(k_weighting_sos(sr), signal)
    weights = channel_weights(weighted.shape[0]).astype(signal.dtype)
    power = np.einsum("c,ct,ct->t", weights, weighted, weighted)
    out = np.empty(power.shape[0] + 1)
    out[0] = 0.0
    np.cumsum(power, dtype=np.float64, out=out[1:])
    return out


def _window_powers(cumsum: np.ndarray, sample_rate: int, window_s: float, hop_s: float) -> np.ndarray:
    win = int(round(window_s * sample_rate))
    hop = max(1, int(round(hop_s * sample_rate)))
    n = len(cumsum) - 1
    if n < win:
        return np.zeros(0)
    starts = np.arange(0, n - win + 1, hop)
    return (cumsum[starts + win] - cumsum[starts]) / win


def _lufs(power: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return _OFFSET + 10.0 * np.log10(power)


def integrated_loudness(x: np.ndarray, *, sample_rate: int) -> float:
    """Gated integrated loudness (LUFS), BS.1770-4: 400 ms blocks, 75 % overlap, gates at
    -70 LUFS and -10 LU. Returns ``-inf`` when every block is below the absolute gate.

    Args:
        x: (channels, samples), at least 400 ms long.
    """
    cumsum = _weighted_power_cumsum(x, sample_rate)
    blocks = _window_powers(cumsum, sample_rate, MOMENTARY_S, MOMENTARY_S / 4)
    if blocks.size == 0:
        raise AudioError(f"integrated loudness needs at least {MOMENTARY_S * 1000:.0f} ms of audio")
    loud = blocks[_lufs(blocks) > ABSOLUTE_GATE_LUFS]
    if loud.size == 0:
        return float("-inf")
    gate = _lufs(np.array([loud.mean()]))[0] + RELATIVE_GATE_LU
    kept = loud[_lufs(loud) > gate]
    return float(_lufs(np.array([kept.mean()]))[0])


def momentary_loudness(x: np.ndarray, *, sample_rate: int, hop_s: float = 0.01) -> np.ndarray:
    """Momentary loudness (LUFS, 400 ms rectangular window) every ``hop_s`` seconds."""
    return _lufs(_window_powers(_weighted_power_cumsum(x, sample_rate), sample_rate, MOMENTARY_S, hop_s))


def short_term_loudness(x: np.ndarray, *, sample_rate: int, hop_s: float = 0.01) -> np.ndarray:
    """Short-term loudness (LUFS, 3 s rectangular window) every ``hop_s`` seconds."""
    return _lufs(_window_powers(_weighted_power_cumsum(x, sample_rate), sample_rate, SHORT_TERM_S, hop_s))


def loudness_range(x: np.ndarray, *, sample_rate: int, hop_s: float = 0.1) -> float:
    """Loudness range LRA (LU), EBU Tech 3342: short-term values (3 s, 10 Hz), gated at
    -70 LUFS and -20 LU below their power mean, P95 - P10. 0 when nothing passes the gates.
    """
    cumsum = _weighted_power_cumsum(x, sample_rate)
    powers = _window_powers(cumsum, sample_rate, SHORT_TERM_S, hop_s)
    if powers.size == 0:
        raise AudioError(f"loudness range needs at least {SHORT_TERM_S:g} s of audio")
    loud = powers[_lufs(powers) > ABSOLUTE_GATE_LUFS]
    if loud.size == 0:
        return 0.0
    gate = _lufs(np.array([loud.mean()]))[0] + LRA_RELATIVE_GATE_LU
    values = _lufs(loud[_lufs(loud) > gate])
    return float(np.percentile(values, 95) - np.percentile(values, 10))
