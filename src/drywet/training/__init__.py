"""The one training loop of drywet (:func:`fit`): schedule, gradient clipping, EMA, keep-best,
a time or step budget, resumable checkpoints, a progress bar and a JSON log, and
DistributedDataParallel under ``torchrun``. The blind estimators, proxies, restorers and device
models train with it; mixing and style transfer will."""

from .distributed import World, world
from .ema import WeightAverage, averaged
from .loop import FitResult, LoopConfig, fit
from .schedules import SCHEDULES, cosine_lr

__all__ = ["FitResult", "LoopConfig", "SCHEDULES", "WeightAverage", "World", "averaged", "cosine_lr", "fit", "world"]
