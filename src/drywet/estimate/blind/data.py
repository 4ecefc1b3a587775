"""Blind-estimation batches: crops of real music (:class:`drywet.datasets.MusicCrops`)
rendered through a chain with q ~ U(0, 1) (the protocol of Peladeau & Peeters, ICASSP 2024)."""

from __future__ import annotations

import numpy as np

from ...chain import Chain
from ...datasets import MusicCrops

def render_batch(chain: Chain, crops: MusicCrops, rng: np.random.Generator, batch: int, synthesis: Chain | None = None):
    """x (B, 1, T), y (B, 1, T) and q (B, C): y = synthesis chain at q applied to x."""
    synth = synthesis or chain
    xs, ys, qs = [], [], []
    for _ in range(batch):
        x = crops.sample(rng)
        q = rng.uniform(0.0, 1.0, chain.num_params)
        ys.append(synth.with_q(q)(x, sample_rate=crops.sample_rate))
        xs.append(x)
        qs.append(q)
    return np.stack(xs), np.stack(ys).astype(np.float32), np.stack(qs).astype(np.float32)
