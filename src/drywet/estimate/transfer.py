"""Initializer for informed estimation: the dry -> wet transfer function, and the linear
stages (EQs, filters) fitted to it.

Gradient descent on the parameters of an EQ has many basins (bands trade places, a wide
shelf mimics a peak). Starting it from settings whose magnitude response matches the pair's
transfer function removes most of them; the rest of the chain (compressor, clipper) then
starts from random candidates as before.

Two estimates of |H(f)| in dB on log-spaced bands, because neither wins everywhere:

* ``"h1"``: the cross-spectral (Welch) estimate |S_xy| / S_xx, the least-squares linear
  system. Unbiased for a linear chain plus independent noise; a compressor biases it towards
  the loud frames.
* ``"two_way"``: the additive model L_Y(f, t) - L_X(f, t) = h(f) + g(t) + e in dB, fitted by
  median polish (Tukey) over the time-frequency cells where the dry signal has energy. g(t)
  absorbs a compressor's broadband, time-varying gain, and the median ignores the cells that a
  clipper's harmonics fill.

:func:`fit_linear_stages` then fits the normalized parameters of linear stages to one of
them (weighted least squares in dB, the overall level free since the log-mel objective is
level-invariant), from many random starts in one batch.
"""

from __future__ import annotations

import math

import numpy as np

from ..chain import Chain

# effect categories whose stages are linear and time-invariant (their response is a filter)
LINEAR_CATEGORIES = ("eq", "filter")
TRANSFER_METHODS = ("h1", "two_way")
LOWEST_HZ = 30.0  # lowest band edge; the top edge is 0.45 * sample_rate
BANDS = 96
WINDOW_S = 0.093  # analysis window (4096 samples at 44.1 kHz): 11 Hz bins
DRY_FLOOR_DB = 40.0  # two_way: cells more than this below the frame's loudest band are ignored
# impulse response length of the fitted stages. Measured worst case, a +15 dB low shelf at
# Q 0.1: 1.3 dB from the exact response with 2048 taps (0.05 s), 0.04 dB with 8192; fine for
# an initializer, and 4 times cheaper
IMPULSE_S = 0.05


def linear_prefix(chain: Chain) -> int:
    """How many stages at the start of ``chain`` are linear filters (see LINEAR_CATEGORIES)."""
    count = 0
    for s in chain.stages:
        if s.effect.spec.category not in LINEAR_CATEGORIES:
            break
        count += 1
    return count


def _window(sample_rate: int, length: int) -> int:
    n = 2 ** round(math.log2(WINDOW_S * sample_rate))
    while n > length and n > 64:
        n //= 2
    return n


def _band_matrix(freqs: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(bands, bins) 0/1 membership of FFT bins in log-spaced bands, and the band centers;
    bands holding no bin are dropped."""
    edges = np.geomspace(LOWEST_HZ, 0.45 * sample_rate, BANDS + 1)
    member = (freqs[None] >= edges[:-1, None]) & (freqs[None] < edges[1:, None])
    keep = member.any(axis=1)
    return member[keep].astype(np.float64), np.sqrt(edges[:-1] * edges[1:])[keep]


def transfer_db(dry: np.ndarray, wet: np.ndarray, sample_rate: int, method: str = "h1") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Magnitude of the dry -> wet transfer function in dB on log-spaced bands.

    Args:
        dry, wet: aligned (channels, samples) arrays; channels are averaged.
        sample_rate: Hz.
        method: "h1" or "two_way" (module docstring).
    Returns:
        (band centers in Hz, gain in dB up to a constant, weight in [0, 1] per band: the
        coherence for h1, the fraction of usable frames for two_way).
    """
    from scipy import signal

    if method not in TRANSFER_METHODS:
        raise ValueError(f"method must be one of {TRANSFER_METHODS}, got {method!r}")
    x = np.asarray(dry, dtype=np.float64).reshape(-1, np.shape(dry)[-1]).mean(axis=0)
    y = np.asarray(wet, dtype=np.float64).reshape(-1, np.shape(wet)[-1]).mean(axis=0)
    n = _window(sample_rate, x.size)
    if method == "h1":
        freqs, sxy = signal.csd(x, y, fs=sample_rate, nperseg=n)
        _, sxx = signal.welch(x, fs=sample_rate, nperseg=n)
        _, syy = signal.welch(y, fs=sample_rate, nperseg=n)
        member, centers = _band_matrix(freqs, sample_rate)
        bxy, bxx, byy = np.abs(member @ sxy), member @ sxx, member @ syy
        gain = 20 * np.log10(np.maximum(bxy, 1e-30) / np.maximum(bxx, 1e-30))
        weight = bxy**2 / np.maximum(bxx * byy, 1e-30)
        weight[bxx <= 1e-12 * bxx.max(initial=0.0)] = 0.0
        return centers, gain, np.clip(weight, 0.0, 1.0)
    freqs, _, sx = signal.stft(x, fs=sample_rate, nperseg=n, noverlap=3 * n // 4)
    _, _, sy = signal.stft(y, fs=sample_rate, nperseg=n, noverlap=3 * n // 4)
    member, centers = _band_matrix(freqs, sample_rate)
    lx = 10 * np.log10(member @ np.abs(sx) ** 2 + 1e-30)  # (bands, frames)
    ly = 10 * np.log10(member @ np.abs(sy) ** 2 + 1e-30)
    usable = (lx > lx.max(axis=0, keepdims=True) - DRY_FLOOR_DB) & (lx > lx.max() - 80.0)
    diff = np.where(usable, ly - lx, np.nan)
    rows_ok, cols_ok = usable.any(axis=1), usable.any(axis=0)
    band = np.zeros(diff.shape[0])
    frame = np.zeros(diff.shape[1])
    for _ in range(5):  # median polish: alternate band and frame effects
        band[rows_ok] = np.nanmedian(diff[rows_ok] - frame[None], axis=1)
        frame[cols_ok] = np.nanmedian(diff[:, cols_ok] - band[:, None], axis=0)
    return centers, band, usable.mean(axis=1)


def fit_linear_stages(
    chain: Chain,
    sample_rate: int,
    freqs_hz: np.ndarray,
    target_db: np.ndarray,
    weights: np.ndarray,
    *,
    starts: int = 64,
    steps: int = 100,
    keep: int = 2,
    seed: int = 0,
) -> np.ndarray:
    """Normalized parameters of ``chain`` (linear stages only) whose magnitude response best
    matches ``target_db`` (weighted, up to a constant), best first.

    The response comes from the stages' own torch twins applied to an impulse (so any linear
    effect works), evaluated at ``freqs_hz`` by a direct DTFT. Adam on the logits of q from
    ``starts`` uniform random points, all in one batch. Returns (keep, P).
    """
    import torch

    weights = np.asarray(weights, dtype=np.float64)
    if not np.isfinite(target_db).all() or weights.sum() <= 0:
        return np.empty((0, chain.num_params))
    taps = int(IMPULSE_S * sample_rate)
    impulse = torch.zeros(starts, 1, taps)
    impulse[..., 0] = 1.0
    phase = 2 * np.pi * np.outer(np.arange(taps), freqs_hz) / sample_rate
    cos_m = torch.tensor(np.cos(phase), dtype=torch.float32)
    sin_m = torch.tensor(np.sin(phase), dtype=torch.float32)
    target = torch.tensor(target_db, dtype=torch.float32)
    w = torch.tensor(weights / weights.sum(), dtype=torch.float32)

    def misfit(logits):
        h = chain.apply_torch(impulse[: logits.shape[0]], sample_rate=sample_rate, q=torch.sigmoid(logits))[:, 0]
        power = (h @ cos_m) ** 2 + (h @ sin_m) ** 2
        d = 10 * torch.log10(power + 1e-12) - target
        d = d - (d * w).sum(-1, keepdim=True)  # the level is free
        return (d**2 * w).sum(-1)

    q0 = np.random.default_rng(seed).uniform(0.02, 0.98, (starts, chain.num_params))
    logits = torch.tensor(np.log(q0 / (1 - q0)), dtype=torch.float32, requires_grad=True)
    optimizer = torch.optim.Adam([logits], lr=0.05)
    for _ in range(steps):
        optimizer.zero_grad()
        misfit(logits).sum().backward()
        optimizer.step()
    with torch.no_grad():
        order = torch.argsort(misfit(logits))[:keep]
        return torch.sigmoid(logits[order]).double().numpy()


def transfer_candidates(template: Chain, dry: np.ndarray, wet: np.ndarray, sample_rate: int, *, keep: int = 2, seed: int = 0) -> np.ndarray:
    """Settings of the leading linear stages of ``template`` fitted to the pair's transfer
    function, ``keep`` per method of TRANSFER_METHODS: (K, P_linear), empty when the chain
    starts with no linear stage."""
    count = linear_prefix(template)
    if count == 0:
        return np.empty((0, 0))
    linear = Chain(template.stages[:count])
    fits = []
    for method in TRANSFER_METHODS:
        freqs, gain, weight = transfer_db(dry, wet, sample_rate, method)
        fits.append(fit_linear_stages(linear, sample_rate, freqs, gain, weight, keep=keep, seed=seed))
    return np.vstack(fits)
