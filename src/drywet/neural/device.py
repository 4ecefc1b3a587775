"""Neural modeling of a real device from paired recordings (dry in, wet out).

Pairs are aligned (the wet's latency is found by cross-correlation and removed), the dry is
zero-padded to cover the wet's tail, and the last ``holdout`` fraction of every pair is kept
out of training. An unconditional :class:`~drywet.nn.TCN` is fit on random crops
of the training parts; the report gives MAE, ESR, MCD and MR-STFT on the held-out parts, next
to the same metrics for "no model" (wet vs dry), so the gain is visible.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import io
from ..chain import Chain
from ..dsp.align import find_lag
from ..errors import AudioError, DrywetError
from ..training import LoopConfig, fit
from .evaluate import audio_metrics
from .proxy import Proxy


@dataclass
class Pair:
    name: str
    dry: np.ndarray  # (T,) aligned and padded to the wet's length
    wet: np.ndarray  # (T,)
    latency: int  # samples the wet was late by


@dataclass
class DeviceConfig:
    channels: int = 16
    blocks: int = 10
    kernel: int = 13
    dilation_growth: int = 2
    causal: bool = True
    sample_rate: int = 44100
    output_s: float = 0.5
    steps: int = 1000
    batch: int = 8
    lr: float = 3e-3
    holdout: float = 0.25
    mrstft_weight: float = 0.1
    seed: int = 0
    device: str = "cpu"
    max_seconds: float | None = None
    checkpoint: str | None = None  # resumable checkpoint path (drywet.training.LoopConfig.checkpoint)
    history: list = field(default_factory=list)


def find_pairs(dry_dir: Path, wet_dir: Path) -> list[tuple[Path, Path]]:
    """(dry, wet) files matched by name; a wet file matches the dry whose stem starts its stem."""
    dry_files = sorted(p for p in Path(dry_dir).iterdir() if p.suffix.lower() in io.READ_FORMATS)
    wet_files = sorted(p for p in Path(wet_dir).iterdir() if p.suffix.lower() in io.READ_FORMATS)
    if not dry_files or not wet_files:
        raise DrywetError(f"no audio in {dry_dir if not dry_files else wet_dir}")
    pairs = []
    for w in wet_files:
        match = [d for d in dry_files if w.stem == d.stem or w.stem.startswith(d.stem + "_")]
        if match:
            pairs.append((max(match, key=lambda d: len(d.stem)), w))
    if not pairs:
        raise DrywetError("no wet file matches a dry file: name them alike (song.wav -> song.wav or song_room.wav)")
    return pairs


def align(dry: np.ndarray, wet: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Remove the wet's latency (see :mod:`drywet.dsp.align`) and pad to equal length."""
    lag = find_lag(dry, wet, sample_rate)
    if lag > 0:
        wet = wet[lag:]
    elif lag < 0:
        dry = dry[-lag:]
    length = max(dry.size, wet.size)
    return np.pad(dry, (0, length - dry.size)), np.pad(wet, (0, length - wet.size)), lag


def load_pairs(files: Sequence[tuple[Path, Path]], sample_rate: int) -> list[Pair]:
    """Read, resample to ``sample_rate`` and align each (dry, wet) pair.

    A file recorded at a lower rate than the model's has nothing above its Nyquist frequency;
    the model would learn that empty band as part of the device, and MCD on such a pair is
    dominated by it, so this warns and names the rate to fit at instead.
    """
    out = []
    for d, w in files:
        dry, dry_rate = io.read_audio(d, channels=1)
        wet, wet_rate = io.read_audio(w, channels=1)
        lowest = min(dry_rate, wet_rate)
        if lowest < sample_rate:
            low = d.name if dry_rate == lowest else w.name
            warnings.warn(
                f"{low} is at {lowest} Hz, below the model's {sample_rate} Hz: the band above {lowest // 2} Hz is empty "
                f"in it and the model would learn that as part of the device; fit at --sample-rate {lowest}",
                stacklevel=2,
            )
        dry, wet = io.resample(dry, dry_rate, sample_rate), io.resample(wet, wet_rate, sample_rate)
        if np.abs(dry).max() == 0 or np.abs(wet).max() == 0:
            raise AudioError(f"{d.name} or {w.name} is silent; a device cannot be learned from silence")
        a, b, lag = align(dry[0], wet[0], sample_rate)
        out.append(Pair(f"{d.stem} -> {w.stem}", a.astype(np.float32), b.astype(np.float32), lag))
    return out


def _split(pair: Pair, holdout: float) -> int:
    return int(round(pair.dry.size * (1 - holdout)))


def fit_device(pairs: Sequence[Pair], config: DeviceConfig, log=print) -> tuple[Proxy, dict]:
    """Train one model on all pairs; returns it and {pair: {"model": metrics, "dry": metrics}}."""
    import torch

    from ..metrics import losses

    if not config.causal:
        raise DrywetError("device models are causal: a real device cannot look ahead (set causal=True)")
    torch.manual_seed(config.seed)
    model = Proxy.build(Chain([]), sample_rate=config.sample_rate, network="tcn", channels=config.channels,
                        blocks=config.blocks, kernel=config.kernel, dilation_growth=config.dilation_growth,
                        stack=config.blocks, causal=config.causal, output="signal")
    net = model.network.to(config.device).train()
    rf = model.receptive_field
    out_len = int(config.output_s * config.sample_rate)
    in_len = out_len + rf - 1
    sources = []
    for p in pairs:
        stop = _split(p, config.holdout)
        if stop < out_len:
            raise DrywetError(f"{p.name}: training part is {stop / config.sample_rate:.2f} s, shorter than one output crop "
                              f"({config.output_s} s); lower output_s or give longer recordings")
        sources.append((np.pad(p.dry[:stop], (rf - 1, 0)), p.wet[:stop]))  # zeros before: the device was silent

    def batches(start):
        for step in itertools.count(start):  # each step its own generator: resumable, the same stream anywhere
            rng = np.random.default_rng((config.seed, step))
            xs, ys = [], []
            for _ in range(config.batch):
                dry, wet = sources[int(rng.integers(len(sources)))]
                begin = int(rng.integers(0, wet.size - out_len + 1))  # output start in wet coordinates
                xs.append(dry[begin : begin + in_len])
                ys.append(wet[begin : begin + out_len])
            yield np.stack(xs)[:, None], np.stack(ys)[:, None]

    def loss_fn(model, batch):
        x, y = (torch.from_numpy(a).to(config.device) for a in batch)
        y_hat = model(x, None)
        return torch.mean(torch.abs(y_hat - y)) + config.mrstft_weight * losses.mrstft(y, y_hat)

    loop = LoopConfig(steps=config.steps, lr=config.lr, schedule="cosine", clip_norm=1.0, valid_every=100,
                      max_seconds=config.max_seconds, checkpoint=config.checkpoint, device=config.device)
    done = fit(net, loss_fn, batches, loop, log=log,
               describe=lambda r: f"step {r['step']:5d}  train {r['train_loss']:.5f}  ({r['seconds']:.0f} s)")
    config.history[:] = done.history
    net.eval().cpu()
    report = evaluate_device(model, pairs, config.holdout)
    model.meta = {"training": {k: v for k, v in asdict(config).items() if k not in ("history", "device")},
                  "history": config.history, "pairs": [p.name for p in pairs], "holdout_metrics": report}
    return model, report


def evaluate_device(model: Proxy, pairs: Sequence[Pair], holdout: float) -> dict:
    """Metrics on the held-out end of every pair (the model sees the dry before it as context)."""
    import torch

    rf = model.receptive_field
    report = {}
    for p in pairs:
        stop = _split(p, holdout)
        context = np.pad(p.dry, (rf - 1, 0))[stop : p.dry.size + rf - 1]
        with torch.no_grad():
            y_hat = model.network(torch.from_numpy(context[None, None].astype(np.float32)), None).numpy()[0]
        wet = p.wet[None, stop:]
        report[p.name] = {"model": audio_metrics(wet, y_hat, sample_rate=model.sample_rate),
                          "dry": audio_metrics(wet, p.dry[None, stop:], sample_rate=model.sample_rate),
                          "latency_samples": p.latency, "heldout_s": round(wet.shape[-1] / model.sample_rate, 2)}
    return report
