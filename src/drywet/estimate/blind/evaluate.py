"""The evaluation protocol of Peladeau & Peeters (ICASSP 2024, tables 2-5) for any folder of
music: random q on held-out crops, then MSE_y, log-mel loss and MSE_q of the estimate,
against two baselines (random q; and the dry signal itself, loss(x, y))."""

from __future__ import annotations

import numpy as np

from ...datasets import MusicCrops
from .data import render_batch
from .model import BlindEstimator


def evaluate(estimator: BlindEstimator, crops: MusicCrops, *, items: int = 64, seed: int = 0, batch: int = 16) -> dict:
    import torch

    from ...metrics import losses

    rng = np.random.default_rng(seed)
    chain, sr = estimator.chain, crops.sample_rate
    rows = {k: [] for k in ("mse_y", "logmel", "logmel_random", "logmel_dry", "mse_q", "mse_q_random")}
    done = 0
    while done < items:
        n = min(batch, items - done)
        x, y, q = render_batch(chain, crops, rng, n)
        with torch.no_grad():
            q_hat = estimator.network(torch.from_numpy(y)).numpy().astype(np.float64)
        q_rand = rng.uniform(0.0, 1.0, q.shape)
        y_hat = np.stack([chain.with_q(np.clip(qi, 0, 1))(xi, sample_rate=sr) for qi, xi in zip(q_hat, x)]).astype(np.float32)
        y_rand = np.stack([chain.with_q(qi)(xi, sample_rate=sr) for qi, xi in zip(q_rand, x)]).astype(np.float32)
        def lm(a, b):
            return losses.logmel_per_item(torch.from_numpy(b), torch.from_numpy(a), sample_rate=sr).numpy()

        rows["mse_y"] += list(np.mean((y_hat - y) ** 2, axis=(1, 2)))
        rows["logmel"] += list(lm(y_hat, y))
        rows["logmel_random"] += list(lm(y_rand, y))
        rows["logmel_dry"] += list(lm(x, y))
        rows["mse_q"] += list(np.mean((q_hat - q) ** 2, axis=1))
        rows["mse_q_random"] += list(np.mean((q_rand - q) ** 2, axis=1))
        done += n
    out = {k: float(np.mean(v)) for k, v in rows.items()}
    out["ratio"] = out["logmel"] / out["logmel_dry"]
    out["items"] = items
    return out


HEADER = f"{'setting':11s} {'MSE_y':>9s} {'log-mel':>8s} {'random q':>9s} {'loss(x,y)':>10s} {'ratio':>6s} {'MSE_q':>7s} {'random':>7s}"


def format_row(setting: str, r: dict) -> str:
    return (f"{setting:11s} {r['mse_y']:9.2e} {r['logmel']:8.4f} {r['logmel_random']:9.4f} {r['logmel_dry']:10.4f} "
            f"{r['ratio']:6.3f} {r['mse_q']:7.4f} {r['mse_q_random']:7.4f}")
