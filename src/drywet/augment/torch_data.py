"""PyTorch integration: an augmenting Dataset and a batched transform for DataLoader workers.

Seeding rules (so that workers never repeat each other and a seed reproduces an epoch):

* :class:`AugmentedDataset` seeds every item from ``(seed, epoch, index)``: the result of an
  item does not depend on which worker loads it or how many workers there are. Call
  ``set_epoch`` at the start of each epoch for new draws.
* :class:`TorchAugment` (a transform called inside workers) seeds its generator from
  ``(seed, torch.initial_seed())``: DataLoader gives each worker of each epoch a distinct torch
  seed drawn from the main process's generator, so ``torch.manual_seed(s)`` before iterating
  reproduces the epoch, and two workers never share a stream.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DrywetError
from .pipeline import Augment


class AugmentedDataset:
    """Wrap a map-style source of (channels, samples) arrays with augmentation.

    Args:
        source: anything with ``__len__`` and ``__getitem__`` returning numpy audio.
        augment: the :class:`Augment` to apply.
        sample_rate: Hz of the source's audio.
        seed: base seed.
        crop_samples: random crop of this many samples (zero-padded if shorter), or None.
    Returns (per item): dict with ``audio`` (augmented, torch float32), ``clean`` (the crop
    before augmentation) and ``chain`` (the applied chain as a JSON string: the labels).
    """

    def __init__(self, source: Sequence, augment: Augment, *, sample_rate: int, seed: int = 0, crop_samples: int | None = None):
        self.source = source
        self.augment = augment
        self.sample_rate = sample_rate
        self.seed = int(seed)
        self.crop_samples = crop_samples
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> dict:
        import torch

        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        x = np.asarray(self.source[index], dtype=np.float32)
        if self.crop_samples is not None:
            x = random_crop(x, self.crop_samples, rng)
        result = self.augment(x, sample_rate=self.sample_rate, rng=rng)
        return {
            "audio": torch.from_numpy(np.ascontiguousarray(result.audio, dtype=np.float32)),
            "clean": torch.from_numpy(x),
            "chain": json.dumps(result.labels),
        }


def random_crop(x: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    if x.shape[-1] <= length:
        return np.pad(x, ((0, 0), (0, length - x.shape[-1])))
    start = int(rng.integers(x.shape[-1] - length + 1))
    return x[:, start : start + length].copy()


class TorchAugment:
    """Batched transform: augment each item of a (batch, channels, samples) tensor with its own
    drawn chain (numpy DSP on CPU), returning the tensor and the chains.

    Args:
        augment: the :class:`Augment`.
        sample_rate: Hz.
        seed: base seed, combined with the worker's torch seed (see module docstring).
    """

    def __init__(self, augment: Augment, *, sample_rate: int, seed: int = 0):
        self.augment = augment
        self.sample_rate = sample_rate
        self.seed = int(seed)
        self._rng: np.random.Generator | None = None
        self._owner: int | None = None

    def generator(self) -> np.random.Generator:
        import torch

        worker_seed = int(torch.initial_seed()) % (2**63)
        if self._rng is None or self._owner != worker_seed:  # a new worker or a new epoch
            self._rng = np.random.default_rng([self.seed, worker_seed])
            self._owner = worker_seed
        return self._rng

    def __call__(self, batch: Any) -> tuple[Any, list]:
        import torch

        if batch.ndim == 2:
            out, chains = self(batch[None])
            return out[0], chains
        rng = self.generator()
        audio, chains = [], []
        for item in batch.detach().cpu().numpy():
            result = self.augment(item, sample_rate=self.sample_rate, rng=rng)
            audio.append(result.audio)
            chains.append(result.chain)
        lengths = {a.shape[-1] for a in audio}
        if len(lengths) > 1:
            raise DrywetError(
                f"augmented items have different lengths {sorted(lengths)}; set length='same' on speed / time_stretch"
            )
        return torch.from_numpy(np.stack(audio).astype(np.float32)).to(batch.device), chains
