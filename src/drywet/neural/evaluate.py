"""Metrics of a model against its target, as in the seed thesis' tables: MAE, ESR, MCD and
MR-STFT (means over items; lower is better for all four)."""

from __future__ import annotations

import numpy as np

from ..chain import Chain
from ..datasets import MusicCrops
from .proxy import Proxy, order_permutations

METRIC_NAMES = ("mae", "esr", "mcd_db", "mrstft")


def audio_metrics(target: np.ndarray, estimate: np.ndarray, *, sample_rate: int) -> dict[str, float]:
    """The four metrics for (B, C, T) or (C, T) arrays, averaged over the batch."""
    import torch

    from ..metrics import losses

    t = torch.from_numpy(np.asarray(target, dtype=np.float32))
    e = torch.from_numpy(np.asarray(estimate, dtype=np.float32))
    return {
        "mae": float(losses.mae(t, e)),
        "esr": float(losses.esr(t, e)),
        "mcd_db": float(losses.mcd(t, e, sample_rate=sample_rate)),
        "mrstft": float(losses.mrstft(t, e)),
    }


def evaluate_proxy(proxy: Proxy, crops: MusicCrops, *, items: int = 32, seed: int = 0, batch: int = 8,
                   order: int | None = None) -> dict[str, float]:
    """Proxy vs the real DSP on random crops and random parameters (never the training draws).

    Args:
        proxy: the model.
        crops: held-out music at the proxy's rate.
        items: number of (crop, q) draws.
        order: for an order-conditioned chain proxy, evaluate this stage order only
            (index into order_permutations); None draws orders at random.
    """
    import torch

    rng = np.random.default_rng(seed)
    chain = proxy.chain
    orders = order_permutations(len(chain)) if proxy.order_conditioning else [tuple(range(len(chain)))]
    targets, outputs = [], []
    for start in range(0, items, batch):
        xs, ys, qs, ks = [], [], [], []
        for _ in range(min(batch, items - start)):
            x = crops.sample(rng)
            q = rng.uniform(0.0, 1.0, chain.num_params)
            k = int(rng.integers(len(orders))) if order is None else order
            rendered = chain.with_q(q)
            ys.append(Chain([rendered.stages[i] for i in orders[k]])(x, sample_rate=crops.sample_rate))
            xs.append(x)
            qs.append(q)
            ks.append(k)
        with torch.no_grad():
            y_hat = proxy(torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(qs).astype(np.float32)) if chain.num_params else None,
                          sample_rate=proxy.sample_rate, order=torch.tensor(ks) if proxy.order_conditioning else None)
        targets.append(np.stack(ys))
        outputs.append(y_hat.numpy())
    return audio_metrics(np.concatenate(targets), np.concatenate(outputs), sample_rate=proxy.sample_rate)
