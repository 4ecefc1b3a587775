"""Training of analysis networks (CPU-sized), in three modes:

* ``"param"``: MSE between predicted and true normalized parameters.
* ``"audio"``: the predicted q drives the differentiable analysis chain on x (EQ in its FIR
  mode) and the loss is the log-mel L1 distance between y_hat and y after RMS normalization.
* ``"stages"``: each stage is scored on its own true input, stage(q_hat) against stage(q), by
  the log-mel L1 distance plus the error of its output level (``stage_loss``). Inversion undoes
  the chain stage by stage, so an estimate must get each stage right; the end-to-end audio loss
  also rewards one stage's error that another stage's error hides (an EQ boost that imitates
  clipping's harmonics), and it cannot see levels, which the dynamics inverses depend on.
* ``"audio+stages"``: the sum of both losses.

The synthesis chain (which renders y) may differ from the analysis chain, e.g. synthesize
with ``simple_compressor`` and analyze with ``compressor``, as in the paper.
"""

from __future__ import annotations

import collections
import itertools
import multiprocessing
from dataclasses import dataclass, field

import numpy as np

from ... import weights
from ...chain import Chain
from ...errors import DrywetError
from ...metrics.spectral import EPS
from ...datasets import MusicCrops
from .data import render_batch
from .model import BlindEstimator
from ...nn import AnalysisNetwork
from ...training import LoopConfig, fit


@dataclass
class TrainConfig:
    effects: str
    encoder: str = "compact"
    mode: str = "param"
    steps: int = 1000
    batch: int = 32
    lr: float = 1e-3
    sample_rate: int = 44100
    crop_s: float = 1.5
    hidden: tuple = (512, 256)
    seed: int = 0
    synthesis: str | None = None
    valid_every: int = 100
    valid_items: int = 64  # validation crops (fixed draw); more when the valid split holds many recordings
    init: str | None = None  # fine-tune saved weights (same chain, encoder and head) instead of starting from scratch
    keep_best: bool = False  # end with the weights of the best validation score (MSE_q, or log-mel in audio mode)
    device: str = "cpu"  # torch device of the network ("cuda" on a GPU machine)
    workers: int = 0  # processes rendering training batches (0: in the training process)
    max_seconds: float | None = None  # stop early (after a validation) once training has run this long
    ema: float | None = None  # decay of an exponential moving average of the weights (e.g. 0.99): validated and kept instead of the raw weights
    checkpoint: str | None = None  # resumable checkpoint path (drywet.training.LoopConfig.checkpoint)
    progress: bool = False  # progress bar
    history: list = field(default_factory=list)


MODES = ("param", "audio", "stages", "audio+stages")


def _loss(config, chain, net, x, y, q):
    import torch

    x, y, q = (torch.from_numpy(a).to(config.device) for a in (x, y, q))
    q_hat = net(y)
    if config.mode == "param":
        return torch.mean((q_hat - q) ** 2)
    from ...metrics import losses
    from ..informed import fir_analysis_chain

    analysis, loss = fir_analysis_chain(chain), 0.0
    if "stages" in config.mode:
        loss = stage_loss(analysis, x, q, q_hat, sample_rate=config.sample_rate).mean()
    if "audio" in config.mode:
        y_hat = analysis.apply_torch(x, sample_rate=config.sample_rate, q=q_hat)
        loss = loss + losses.logmel_per_item(y, y_hat, sample_rate=config.sample_rate).mean()
    return loss


def stage_loss(chain: Chain, x, q, q_hat, *, sample_rate: int):
    """Mean over the stages of each stage's error on its true input (batch,): the log-mel L1
    distance of stage(q_hat) to stage(q) plus 2 |ln(rms ratio)|, the amount by which a pure
    gain error would shift every log-mel bin (the log-mel distance itself is level-blind)."""
    import torch

    from ...metrics import losses

    total, start, signal = 0.0, 0, x
    for stage in chain.stages:
        one, stop = Chain([stage]), start + stage.effect.spec.num_params
        with torch.no_grad():
            target = one.apply_torch(signal, sample_rate=sample_rate, q=q[:, start:stop])
        estimate = one.apply_torch(signal, sample_rate=sample_rate, q=q_hat[:, start:stop])
        level = (estimate.square().mean((-2, -1)) + EPS).log() - (target.square().mean((-2, -1)) + EPS).log()
        total = total + losses.logmel_per_item(target, estimate, sample_rate=sample_rate) + level.abs()
        signal, start = target, stop
    return total / len(chain.stages)


# Batch ``step`` is rendered from its own generator, seeded (seed, step): the training stream
# is then the same whether 0, 1 or 16 processes render it.
_WORKER_STATE: tuple = ()


def _set_worker_state(*state) -> None:
    global _WORKER_STATE
    _WORKER_STATE = state


def _render_step(seed) -> tuple:
    chain, crops, batch, synthesis = _WORKER_STATE
    return render_batch(chain, crops, np.random.default_rng(seed), batch, synthesis)


def training_batches(config: TrainConfig, chain: Chain, crops: MusicCrops, synthesis: Chain | None = None, start: int = 1):
    """Yield the training batches (x, y, q) of steps ``start`` to ``config.steps``, rendered by
    ``config.workers`` processes."""
    seeds = ((config.seed, step) for step in range(start, config.steps + 1))
    if config.workers <= 0:
        _set_worker_state(chain, crops, config.batch, synthesis)
        yield from map(_render_step, seeds)
        return
    # fork: the workers share the decoded recordings instead of receiving a copy each
    with multiprocessing.get_context("fork").Pool(config.workers, _set_worker_state, (chain, crops, config.batch, synthesis)) as pool:
        yield from _prefetched(pool, seeds, ahead=2 * config.workers)


def _prefetched(pool, args, *, ahead: int):
    """pool.imap(_render_step, args) in order, with at most ``ahead`` batches rendered but not
    yet consumed: imap renders as fast as the workers can, and when training is the slower side
    (a CPU) the waiting batches fill the memory (8.5 MB each at 32 x 1.5 s)."""
    pending = collections.deque(pool.apply_async(_render_step, (a,)) for a in itertools.islice(args, ahead))
    for a in args:
        ready = pending.popleft().get()
        pending.append(pool.apply_async(_render_step, (a,)))
        yield ready
    while pending:
        yield pending.popleft().get()


def train(config: TrainConfig, train_crops: MusicCrops, valid_crops: MusicCrops | None = None, log=print) -> BlindEstimator:
    import torch

    if config.mode not in MODES:
        raise DrywetError(f"mode must be one of {', '.join(MODES)}, not {config.mode!r}")
    torch.manual_seed(config.seed)
    chain = Chain.from_names(config.effects)
    synthesis = Chain.from_names(config.synthesis) if config.synthesis else None
    if synthesis is not None and synthesis.num_params != chain.num_params:
        raise DrywetError("the synthesis chain must have as many parameters as the analysis chain")
    crop = int(config.crop_s * config.sample_rate)
    start = None
    if config.init:
        start = _initial_estimator(config, chain, crop)
        net = start.network
    else:
        net = AnalysisNetwork(config.encoder, chain.num_params, config.sample_rate, tuple(config.hidden))
        with torch.no_grad():
            net.eval()
            net(torch.zeros(2, 1, crop))  # materialize lazy layers
    net.to(config.device).train()
    valid = render_batch(chain, valid_crops, np.random.default_rng(12345), config.valid_items, synthesis) if valid_crops else None
    loop = LoopConfig(steps=config.steps, lr=config.lr, schedule="onecycle", clip_norm=5.0, ema=config.ema,
                      keep_best=config.keep_best, valid_every=config.valid_every, max_seconds=config.max_seconds,
                      checkpoint=config.checkpoint, progress=config.progress, device=config.device)
    done = fit(net, lambda model, batch: _loss(config, chain, model, *batch),
               lambda start: training_batches(config, chain, train_crops, synthesis, start), loop,
               validate=(lambda n: _validate(config, chain, n, valid)) if valid is not None else None,
               score="valid_mse_q" if config.mode == "param" else "valid_logmel", describe=_describe, log=log)
    config.history[:] = done.history
    net.cpu().eval()
    meta = {"encoder": config.encoder, "hidden": list(config.hidden), "mode": config.mode, "steps": config.steps,
            "batch": config.batch, "lr": config.lr, "synthesis": config.synthesis, "ema": config.ema, "history": config.history}
    if start is not None:  # how the starting weights were made, so the whole recipe stays on record
        meta["init"] = {"path": str(config.init), "command": start.meta.get("command"), "steps": start.meta.get("steps"),
                        "mode": start.meta.get("mode"), "data": start.meta.get("data"), "init": start.meta.get("init")}
    if done.best_score is not None:
        meta["best_valid"] = done.best_score
    if done.stopped_at is not None:
        meta["stopped_at_step"] = done.stopped_at
    return BlindEstimator(net, chain, sample_rate=config.sample_rate, window_samples=crop, meta=meta)


def _describe(row: dict) -> str:
    extra = f"  valid log-mel {row['valid_logmel']:.4f}" if "valid_logmel" in row else ""
    valid = f"  valid MSE_q {row['valid_mse_q']:.4f}" if "valid_mse_q" in row else ""
    return f"step {row['step']:5d}  train {row['train_loss']:.4f}{valid}{extra}  ({row['seconds']:.0f} s)"


def _validate(config, chain, net, valid) -> dict:
    """Validation MSE_q, and in the audio modes the loss the training minimizes (``valid_logmel``)."""
    import torch

    x, y, q = valid
    net.eval()
    with torch.no_grad():
        q_hat = net(torch.from_numpy(y).to(config.device)).cpu()
        row = {"valid_mse_q": float(torch.mean((q_hat - torch.from_numpy(q)) ** 2))}
        if config.mode != "param":
            row["valid_logmel"] = float(_loss(config, chain, net, x, y, q))
    net.train()
    return row


def _initial_estimator(config: TrainConfig, chain: Chain, crop: int) -> BlindEstimator:
    """The saved estimator ``config.init``, checked to be the network this config trains."""
    start = BlindEstimator.load(config.init)
    wanted = {"chain": [s.effect.name for s in chain.stages], "encoder": config.encoder, "hidden": list(config.hidden),
              "sample_rate": config.sample_rate, "window_samples": crop}
    found = {"chain": [s.effect.name for s in start.chain.stages], "encoder": start.meta.get("encoder"),
             "hidden": list(start.meta.get("hidden", [])), "sample_rate": start.sample_rate, "window_samples": start.window}
    weights.check_fine_tune(config.init, found, wanted, "chain, encoder, head, sample rate and crop length")
    return start
