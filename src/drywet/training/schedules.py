"""Learning-rate schedules of the loop, by name."""

from __future__ import annotations

import math

SCHEDULES = ("cosine", "onecycle")
WARMUP_STEPS = 20
FINAL_FRACTION = 0.02  # the cosine ends at this fraction of the peak rate


def progress(step: int, steps: int, elapsed: float, max_seconds: float | None) -> float:
    """How far a run is, in [0, 1]: steps or wall-clock time, whichever is further."""
    done = step / steps
    if max_seconds:
        done = max(done, elapsed / max_seconds)
    return min(done, 1.0)


def cosine_lr(lr: float, step: int, done: float, warmup_steps: int = WARMUP_STEPS) -> float:
    """Linear warm-up over ``warmup_steps``, then a cosine from ``lr`` to ``FINAL_FRACTION * lr``
    along ``done`` (the progress in [0, 1]); annealing by time is what makes a time budget safe."""
    warm = min(1.0, step / warmup_steps)
    return lr * warm * (FINAL_FRACTION + (1 - FINAL_FRACTION) * 0.5 * (1 + math.cos(math.pi * done)))


def onecycle(optimizer, lr: float, steps: int):
    """torch's OneCycleLR with 10 % warm-up (the blind estimators' schedule)."""
    import torch

    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps, pct_start=0.1)
