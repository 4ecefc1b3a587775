"""Learned restoration where no closed-form inverse exists (noise, band-limiting, codecs).

A restorer is a conditional TCN trained wet -> dry on drywet's own simulations
(``recipes/train_restorers.py``), conditioned on the degradation's normalized parameters.
It runs at its training rate (16 kHz): the correction it computes there, ``restorer(y) - y``,
is resampled back and added to ``y``, so content above its Nyquist passes unchanged. Shipped
restorers live in ``drywet/data/restore``; only those that beat the model-based path (the
input as is, for these effects) on held-out music are shipped. A restorer may carry an
``apply_range`` (parameter -> [low, high], measured on held-out music): outside it the
restorer was measured not to help, so the stage is left as is, with a note.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from .. import io

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "restore"


def available() -> list[str]:
    """Effects with a shipped restorer."""
    return sorted(p.stem for p in BUNDLED.glob("*.safetensors"))


@functools.lru_cache(maxsize=8)
def restorer(name: str):
    from ..neural.proxy import Proxy

    return Proxy.load(BUNDLED / f"{name}.safetensors")


def restore(y: np.ndarray, stage, sample_rate: int) -> tuple[np.ndarray, list[str]]:
    """Undo ``stage`` on (B, C, T) audio with its shipped restorer."""
    import torch

    model = restorer(stage.effect.name)
    outside = [f"{name}={float(np.mean(stage.params[name])):g} is outside [{low:g}, {high:g}]"
               for name, (low, high) in model.meta.get("apply_range", {}).items()
               if not low <= float(np.mean(stage.params[name])) <= high]
    if outside:
        return y.copy(), [f"{stage.key}: left as is: its learned restorer helps only where it was measured to ({'; '.join(outside)})"]
    rate = model.sample_rate
    q = stage.effect.spec.normalize(stage.params).astype(np.float32)
    out = np.empty_like(y)
    for b in range(y.shape[0]):
        low = io.resample(y[b].astype(np.float32), sample_rate, rate) if sample_rate != rate else y[b].astype(np.float32)
        with torch.no_grad():
            fixed = model(torch.from_numpy(low[None]), torch.from_numpy(q[None]), sample_rate=rate).numpy()[0]
        correction = fixed - low
        if sample_rate != rate:
            correction = io.resample(correction, rate, sample_rate)
        n = min(correction.shape[-1], y.shape[-1])
        out[b] = y[b]
        out[b, :, :n] += correction[:, :n]
    note = f"{stage.key}: learned restoration (no closed-form inverse), computed at {rate} Hz; content above {rate // 2} Hz is left as is"
    return out, [note]
