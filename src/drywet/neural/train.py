"""Training of neural proxies on the fly from drywet's own DSP.

Each step draws real music crops (with the thesis' augmentations), random normalized
parameters q ~ U(0, 1) and, for a chain proxy with order conditioning, a random stage order;
renders the target with the numpy DSP; and fits the network with L1 + MR-STFT. Crops are
``receptive_field - 1`` samples longer than the output, so the DSP (and the network) have
warmed up on real audio before the part that is compared.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from .. import weights
from ..chain import Chain, Stage
from ..errors import BlackBoxError, DrywetError
from ..datasets import MusicCrops
from ..training import LoopConfig, fit
from .augment import augment_crop, mixup
from .proxy import Proxy, order_permutations


@dataclass
class ProxyConfig:
    """Everything that defines a proxy training run (stored with the weights)."""

    effects: str = "compressor"
    options: dict = field(default_factory=dict)  # {effect name: {option: value}}
    network: str = "tcn"
    output: str = "gain"
    channels: int = 8
    blocks: int = 10
    depth: int = 4  # Wave-U-Net levels
    kernel: int = 13
    dilation_growth: int = 2
    causal: bool = False
    order_conditioning: bool = False
    inverse: bool = False  # learn wet -> dry (a restoration network) instead of dry -> wet
    sample_rate: int = 22050
    output_s: float = 0.75
    steps: int = 1000
    batch: int = 16
    lr: float = 3e-3
    augment: float = 0.5
    mixup: bool = False
    mrstft_weight: float = 0.1
    loss: str = "l1"  # "l1": mean absolute error; "log_l1": mean over items of log(L1 error), see LOSSES
    seed: int = 0
    device: str = "cpu"
    valid_every: int = 100
    max_seconds: float | None = None  # stop (and anneal the learning rate) by wall-clock time
    init: str | None = None  # fine-tune a saved proxy (same effects, network and rate) instead of starting from scratch
    keep_best: bool = True  # return the weights with the lowest validation MAE, not the last ones
    checkpoint: str | None = None  # resumable checkpoint path (drywet.training.LoopConfig.checkpoint)
    progress: bool = False  # progress bar
    history: list = field(default_factory=list)

    def network_config(self) -> dict:
        if self.network == "tcn":
            return {"channels": self.channels, "blocks": self.blocks, "kernel": self.kernel,
                    "dilation_growth": self.dilation_growth, "stack": self.blocks, "causal": self.causal, "output": self.output}
        return {"channels": self.channels, "depth": self.depth, "output": self.output}


def proxy_chain(effects: str, options: dict | None = None) -> Chain:
    """The chain a proxy imitates: names ("eq,compressor") with per-effect options."""
    names = [n.strip() for n in effects.split(",") if n.strip()]
    if not names:
        raise DrywetError("give at least one effect to imitate, e.g. 'compressor'")
    return Chain([Stage.create(n, options=(options or {}).get(n)) for n in names])


# "log_l1" weighs every item by its own error scale: each item's gradient is that of its error
# in dB, so a restorer learns as much from a clean item (where it must not add noise) as from a
# badly degraded one, which plain L1 lets dominate. The floor keeps exact outputs finite.
LOSSES = ("l1", "log_l1")
LOG_L1_FLOOR = 1e-5


def _waveform_loss(kind: str, y_hat, y):
    import torch

    error = torch.mean(torch.abs(y_hat - y), dim=tuple(range(1, y.dim())))
    return torch.mean(torch.log(error + LOG_L1_FLOOR)) if kind == "log_l1" else torch.mean(error)


def _crop_target(y: np.ndarray, length: int, causal: bool) -> np.ndarray:
    if causal:
        return y[..., y.shape[-1] - length :]
    start = (y.shape[-1] - length) // 2
    return y[..., start : start + length]


def render(chain: Chain, crops: MusicCrops, rng: np.random.Generator, batch: int, in_len: int, out_len: int,
           causal: bool, augment: float, order_conditioning: bool, inverse: bool = False):
    """x (B, 1, in_len), y (B, 1, out_len), conditioning (B, P[+orders]); black-box failures are
    skipped and counted (returned last). ``inverse``: x is the wet signal, y the dry one."""
    crops_len = crops.crop
    xs, ys, cs, failures = [], [], [], 0
    orders = order_permutations(len(chain)) if order_conditioning else [tuple(range(len(chain)))]
    while len(xs) < batch:
        x = crops.sample(rng)[..., :in_len] if crops_len >= in_len else None
        if x is None:
            raise DrywetError("crops are shorter than the proxy's input")
        if augment > 0:
            x = augment_crop(x, rng, lambda: crops.sample(rng)[..., :in_len], augment)
        q = rng.uniform(0.0, 1.0, chain.num_params)
        k = int(rng.integers(len(orders)))
        rendered = chain.with_q(q)
        if inverse:  # a restorer must never see the same noise twice: fresh seeds per item
            rendered = Chain([replace(s, options={**s.options, "seed": int(rng.integers(2**31))}) if "seed" in s.options else s
                              for s in rendered.stages])
        ordered = Chain([rendered.stages[i] for i in orders[k]])
        try:
            y = ordered(x, sample_rate=crops.sample_rate)
        except BlackBoxError:
            failures += 1
            if failures > 10 * batch:
                raise
            continue
        cond = np.concatenate([q, np.eye(len(orders))[k]]) if order_conditioning else q
        if inverse:
            x, y = y.astype(np.float32), x
        xs.append(x)
        ys.append(_crop_target(y, out_len, causal))
        cs.append(cond)
    return np.stack(xs), np.stack(ys).astype(np.float32), np.stack(cs).astype(np.float32), failures


def train_proxy(config: ProxyConfig, train_crops: MusicCrops, valid_crops: MusicCrops | None = None, log=print) -> Proxy:
    """Train a proxy for ``config.effects`` and return it (evaluated on ``valid_crops``)."""
    import torch

    from ..metrics import losses

    if config.loss not in LOSSES:
        raise DrywetError(f"loss must be one of {LOSSES}, not {config.loss!r}")
    if train_crops.sample_rate != config.sample_rate:
        raise DrywetError(f"crops are at {train_crops.sample_rate} Hz but the config says {config.sample_rate} Hz")
    torch.manual_seed(config.seed)
    torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick the fastest kernels
    chain = proxy_chain(config.effects, config.options)
    proxy = Proxy.build(chain, sample_rate=config.sample_rate, network=config.network,
                        order_conditioning=config.order_conditioning, **config.network_config())
    prior_steps = 0
    if config.init:
        proxy = _initial_proxy(config, proxy)
        history = proxy.meta.get("history") or [{"step": 0}]
        prior_steps = int(proxy.meta.get("steps", history[-1]["step"])) + int(proxy.meta.get("init", {}).get("steps", 0))
    net = proxy.network.to(config.device).train()
    out_len = int(config.output_s * config.sample_rate)
    in_len = out_len + proxy.network.valid_margin
    if train_crops.crop < in_len:
        raise DrywetError(f"training crops must hold {in_len} samples (output + receptive field); load MusicCrops with crop_samples >= {in_len}")
    args = (in_len, out_len, config.causal, 0.0, config.order_conditioning, config.inverse)
    valid = render(chain, valid_crops, np.random.default_rng(1234), 32, *args) if valid_crops else None
    dev = lambda a: torch.from_numpy(a).to(config.device)  # noqa: E731
    skipped = [0]  # black-box failures skipped so far (the batches' side channel)

    def batches(start):
        for step in itertools.count(start):  # each step its own generator: resumable, the same stream anywhere
            rng = np.random.default_rng((config.seed, step))
            x, y, c, failed = render(chain, train_crops, rng, config.batch, in_len, out_len, config.causal, config.augment,
                                     config.order_conditioning, config.inverse)
            skipped[0] += failed
            yield mixup(x, y, c, rng) if config.mixup else (x, y, c)

    def loss_fn(model, batch):
        x, y, c = batch
        y_hat = model(dev(x), dev(c) if c.size else None)
        loss = _waveform_loss(config.loss, y_hat, dev(y))
        return loss + config.mrstft_weight * losses.mrstft(dev(y), y_hat) if config.mrstft_weight else loss

    def validate(model):
        v = model(dev(valid[0]), dev(valid[2]) if valid[2].size else None).cpu().numpy()
        return {"valid_mae": float(np.mean(np.abs(v - valid[1]))), "skipped": skipped[0]}

    loop = LoopConfig(steps=config.steps, lr=config.lr, schedule="cosine", clip_norm=1.0, keep_best=config.keep_best,
                      valid_every=config.valid_every, max_seconds=config.max_seconds, checkpoint=config.checkpoint,
                      progress=config.progress, device=config.device)
    done = fit(net, loss_fn, batches, loop, validate=validate if valid is not None else None, score="valid_mae", log=log,
               describe=lambda r: f"step {r['step']:5d}  train {r['train_loss']:.5f}"
                                  + (f"  valid MAE {r['valid_mae']:.5f}" if "valid_mae" in r else "") + f"  ({r['seconds']:.0f} s)")
    config.history[:] = done.history
    step, best_state, best_mae = done.steps, done.best_score is not None, done.best_score
    net.eval().cpu()
    proxy.direction = "inverse" if config.inverse else "forward"
    proxy.meta = {"training": {k: v for k, v in asdict(config).items() if k not in ("history", "device")},
                  "history": config.history, "skipped_items": skipped[0], "steps": step,
                  "best_valid_mae": best_mae if best_state else None}
    if config.init:
        proxy.meta["init"] = {"path": str(config.init), "steps": prior_steps}
    return proxy


def _initial_proxy(config: ProxyConfig, fresh: Proxy) -> Proxy:
    """The saved proxy ``config.init``, checked to be the network the config describes."""
    start = Proxy.load(config.init)
    wanted = {"effects": [s.effect.name for s in fresh.chain.stages], "config": fresh.config, "sample_rate": fresh.sample_rate,
              "order_conditioning": fresh.order_conditioning, "direction": "inverse" if config.inverse else "forward"}
    found = {"effects": [s.effect.name for s in start.chain.stages], "config": start.config, "sample_rate": start.sample_rate,
             "order_conditioning": start.order_conditioning, "direction": start.direction}
    weights.check_fine_tune(config.init, found, wanted, "effects, network settings and sample rate")
    return start
