"""Input augmentations for training proxies (the seed thesis' list): random gain, polarity
inversion, mixing two clips, added noise, and zeroed segments. They make the proxy see levels
and silences that music crops alone rarely give (a compressor's behaviour depends on level).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

GAIN_DB = (-24.0, 0.0)   # the compressor's threshold range needs quiet inputs too
NOISE_DB = (-80.0, -40.0)  # noise level relative to the crop's peak
ZERO_FRACTION = (0.05, 0.3)


def augment_crop(x: np.ndarray, rng: np.random.Generator, draw: Callable[[], np.ndarray], prob: float = 0.5) -> np.ndarray:
    """One augmented copy of ``x`` (1, T); each augmentation applies with probability ``prob``.

    Args:
        x: (1, T) peak-normalized crop.
        rng: explicit generator.
        draw: returns another crop of the same length (for mixing two clips).
        prob: probability of each augmentation.
    """
    y = x.copy()
    if rng.uniform() < prob:  # mix two clips
        other = draw()
        y = y + rng.uniform(0.2, 1.0) * other
        y /= max(np.abs(y).max(), 1e-9)
    if rng.uniform() < prob:
        y = -y
    if rng.uniform() < prob:
        y = y + 10 ** (rng.uniform(*NOISE_DB) / 20) * rng.standard_normal(y.shape).astype(y.dtype)
    if rng.uniform() < prob * 0.5:  # a silent stretch (tests release and gate behaviour)
        n = y.shape[-1]
        length = int(rng.uniform(*ZERO_FRACTION) * n)
        start = int(rng.integers(0, n - length + 1))
        y[..., start : start + length] = 0.0
    if rng.uniform() < prob * 1.5:
        y = y * 10 ** (rng.uniform(*GAIN_DB) / 20)
    return y.astype(np.float32)


def mixup(x: np.ndarray, y: np.ndarray, q: np.ndarray, rng: np.random.Generator, alpha: float = 0.4):
    """Mixup (Zhang et al. 2018) of a batch with a shuffled copy of itself: inputs, targets and
    parameters mixed with the same lambda ~ Beta(alpha, alpha). Exact only where the effect is
    linear in its input and parameters; used as a regularizer, off by default."""
    lam = rng.beta(alpha, alpha, size=(x.shape[0], 1, 1)).astype(np.float32)
    perm = rng.permutation(x.shape[0])

    def mix(a, weight):
        return weight * a + (1 - weight) * a[perm]

    return mix(x, lam), mix(y, lam), mix(q, lam[:, :, 0]) if q.size else q
