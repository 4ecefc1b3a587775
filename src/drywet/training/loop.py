"""The training loop: one implementation of what every drywet model's training needs.

``fit(net, loss_fn, batches, config)`` runs Adam on ``loss_fn(model, batch)`` over the batches
``batches(start_step)`` yields (deterministic per step, so a resumed or distributed run sees
the same stream), with the schedule, clipping, EMA, validation, keep-best, budget, checkpoints
and logs of :class:`LoopConfig`.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DrywetError
from .distributed import World, agree, shard, world, wrap
from .ema import WeightAverage, averaged
from .schedules import SCHEDULES, WARMUP_STEPS, cosine_lr, onecycle, progress


@dataclass
class LoopConfig:
    """How to train (what to train on is the caller's).

    Attributes:
        steps: optimizer steps (the schedule's length).
        lr: peak learning rate.
        schedule: ``"cosine"`` (warm-up, then a cosine that anneals by steps or by
            ``max_seconds``, whichever is further) or ``"onecycle"`` (torch's OneCycleLR).
        warmup_steps: the cosine schedule's linear warm-up.
        clip_norm: gradient norm clipping (None: off).
        ema: decay of an exponential moving average of the weights, validated and kept (None: off).
        keep_best: end with the weights of the best validation score.
        valid_every: validate (or, without validation, log) every this many steps and at the end.
        max_seconds: a time budget (cosine: the schedule anneals to it; onecycle: the run stops
            at the first validation past it).
        checkpoint: path of a resumable checkpoint; a run started with an existing one resumes.
        checkpoint_every: steps between checkpoints (one is also written at the end).
        log_json: append every logged row to this file as one JSON line.
        progress: show a progress bar (tqdm).
        device: torch device.
    """

    steps: int = 1000
    lr: float = 1e-3
    schedule: str = "cosine"
    warmup_steps: int = WARMUP_STEPS
    clip_norm: float | None = 1.0
    ema: float | None = None
    keep_best: bool = False
    valid_every: int = 100
    max_seconds: float | None = None
    checkpoint: str | None = None
    checkpoint_every: int = 100
    log_json: str | None = None
    progress: bool = False
    device: str = "cpu"

    def check(self) -> None:
        if self.schedule not in SCHEDULES:
            raise DrywetError(f"schedule must be one of {SCHEDULES}, not {self.schedule!r}")
        if not (isinstance(self.steps, int) and self.steps >= 1):
            raise DrywetError(f"steps must be a positive whole number, got {self.steps!r}")
        if self.ema is not None and not 0.0 < self.ema < 1.0:
            raise DrywetError(f"ema is the decay of the weights' moving average, in (0, 1) (e.g. 0.99), not {self.ema!r}")
        if self.valid_every < 1 or self.checkpoint_every < 1:
            raise DrywetError("valid_every and checkpoint_every count steps: give 1 or more")


@dataclass
class FitResult:
    """What :func:`fit` did: the logged rows and where it ended."""

    history: list = field(default_factory=list)
    steps: int = 0  # the last step run
    best_score: float | None = None  # with keep_best: the kept weights' validation score
    stopped_at: int | None = None  # a onecycle run stopped early by its time budget
    resumed_from: int | None = None  # the checkpoint's step, when the run resumed


# the settings a checkpoint must share with the run that resumes it
_RESUME_KEYS = ("steps", "lr", "schedule", "warmup_steps", "clip_norm", "ema", "keep_best")


def fit(net: Any, loss_fn: Callable[[Any, Any], Any], batches: Callable[[int], Iterator], config: LoopConfig, *,
        validate: Callable[[Any], dict] | None = None, score: str = "valid_loss",
        describe: Callable[[dict], str] | None = None, log: Callable[[str], None] = print) -> FitResult:
    """Train ``net`` in place and return the record.

    Args:
        net: the torch module (on ``config.device``).
        loss_fn: ``loss_fn(model, batch) -> scalar tensor``; ``model`` is ``net``, or its
            DistributedDataParallel wrapper under torchrun.
        batches: ``batches(first_step)`` yields the global batch of every step from
            ``first_step`` on; under torchrun each rank keeps its slice.
        config: the loop's settings.
        validate: ``validate(net) -> {name: value}`` on held-out data (run in eval mode, without
            gradients, with the EMA weights when there are some).
        score: the key of ``validate``'s result that ``keep_best`` minimizes.
        describe: one log line from a row (default: every value).
        log: where log lines go (only the first rank logs).
    """
    import torch

    config.check()
    w = world(config.device)
    model = wrap(net, w, config.device)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    sched = onecycle(opt, config.lr, config.steps) if config.schedule == "onecycle" else None
    ema = WeightAverage(net, config.ema) if config.ema is not None else None
    result, best_state, elapsed0 = FitResult(), None, 0.0
    best = math.inf
    if config.checkpoint and Path(config.checkpoint).exists():
        state = _load_checkpoint(Path(config.checkpoint), config, net, opt, sched, ema)
        result.history, result.steps, elapsed0 = state["history"], state["step"], state["elapsed"]
        best, best_state, result.stopped_at = state["best"], state["best_state"], state.get("stopped_at")
        result.resumed_from = result.steps
        if w.main:
            log(f"resumed from {config.checkpoint} at step {result.steps}")
    say = log if w.main else (lambda line: None)
    describe = describe or _describe
    t0 = time.time() - elapsed0
    step = result.steps
    finished = step >= config.steps or result.stopped_at is not None
    stream = iter(batches(step + 1)) if not finished else iter(())
    bar = _bar(config.steps, step, config.progress and w.main)
    net.train()
    while not finished:
        step += 1
        elapsed = time.time() - t0
        if sched is None:
            done = progress(step, config.steps, elapsed, config.max_seconds)
            for group in opt.param_groups:
                group["lr"] = cosine_lr(config.lr, step, done, config.warmup_steps)
            last = agree(done >= 1.0, w)
        else:
            last = step >= config.steps
        loss = loss_fn(model, shard(next(stream), w))
        opt.zero_grad()
        loss.backward()
        if config.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(net.parameters(), config.clip_norm)
        opt.step()
        if sched is not None:
            sched.step()
        if ema is not None:
            ema.update(net)
        bar.update(1)
        if step % config.valid_every == 0 or last:
            row = {"step": step, "train_loss": float(loss.detach())}
            if validate is not None:
                with averaged(net, ema):
                    net.eval()
                    with torch.no_grad():
                        row.update(validate(net))
                    net.train()
                    if config.keep_best and row[score] < best:
                        best, best_state = row[score], {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
            row["seconds"] = round(time.time() - t0, 1)
            result.history.append(row)
            say(describe(row))
            _log_json(config.log_json, row, w)
            over = config.max_seconds is not None and row["seconds"] > config.max_seconds
            if sched is not None and validate is not None and agree(over, w) and step < config.steps:
                say(f"stopped at step {step}: past max_seconds={config.max_seconds:g}")
                result.stopped_at, last = step, True
        result.steps = step
        if config.checkpoint and (step % config.checkpoint_every == 0 or last):
            _save_checkpoint(Path(config.checkpoint), config, net, opt, sched, ema, result, best, best_state, time.time() - t0, w)
        finished = last
    bar.close()
    if ema is not None:  # the average is the trained network
        net.load_state_dict(ema.state)
    if best_state is not None:
        net.load_state_dict(best_state)
        result.best_score = best
    return result


def _describe(row: dict) -> str:
    parts = [f"step {row['step']:5d}"] + [f"{k} {v:.5g}" for k, v in row.items() if k not in ("step", "seconds")
                                          and isinstance(v, (int, float))]
    return "  ".join(parts) + f"  ({row['seconds']:.0f} s)"


def _log_json(path: str | None, row: dict, w: World) -> None:
    if path and w.main:
        with open(path, "a") as f:
            f.write(json.dumps(row) + "\n")


def _bar(total: int, initial: int, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="step")


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _save_checkpoint(path: Path, config, net, opt, sched, ema, result, best, best_state, elapsed, w: World) -> None:
    """Atomically (temporary name, then rename): a run killed while writing keeps the last one."""
    if not w.main:
        return
    import torch

    state = {"config": {k: asdict(config)[k] for k in _RESUME_KEYS}, "net": net.state_dict(), "opt": opt.state_dict(),
             "sched": sched.state_dict() if sched is not None else None, "ema": ema.state if ema is not None else None,
             "step": result.steps, "history": result.history, "best": best, "best_state": best_state, "elapsed": elapsed,
             "stopped_at": result.stopped_at}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _load_checkpoint(path: Path, config, net, opt, sched, ema) -> dict:
    import torch

    try:
        state = torch.load(path, map_location=config.device, weights_only=False)
    except Exception as exc:  # a foreign or damaged file: say which and what to do
        raise DrywetError(f"cannot read the checkpoint {path} ({type(exc).__name__}: {exc}); delete it to start afresh") from None
    wanted = {k: asdict(config)[k] for k in _RESUME_KEYS}
    if state.get("config") != wanted:
        raise DrywetError(f"the checkpoint {path} was written by a run with other settings ({state.get('config')}, "
                          f"this run: {wanted}); delete it or give another checkpoint path")
    net.load_state_dict(state["net"])
    opt.load_state_dict(state["opt"])
    if sched is not None and state["sched"] is not None:
        sched.load_state_dict(state["sched"])
    if ema is not None and state["ema"] is not None:
        ema.state = state["ema"]
    return state
