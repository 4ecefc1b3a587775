"""Learned restoration (issue #6) against the model-based path, per degradation family.

For each family a conditional TCN with a residual head (FiLM on the degradation's true normalized parameters,
16 channels, 8 blocks, receptive field 0.19 s at 16 kHz) learns wet -> dry on the fly from
the train split of ../shared/data (random parameters, fresh noise seeds per item). Evaluation
on the test split (Brahms, Bach chorale mix; 24 random 2 s crops and parameter draws, seed 7):
SI-SDR to the dry signal of the degraded input, of the model-based inversion (drywet.invert,
where one exists) and of the learned restorer.

  python recipes/train_restorers.py --minutes 8 [--families clipper,noise,band_limit,mp3] [--out recipes/restore_results]
  # the shipped colored_noise restorer: per-item log-L1 loss, then its apply_range chosen on the valid split
  python recipes/train_restorers.py --families noise --minutes 35 --threads 1 --loss log_l1 --out DIR
  python recipes/train_restorers.py --families noise --evaluate DIR --items 96 --threads 1 --split valid

"model_based" never counts a shipped learned restorer (invert_chain would run it): for effects
without a closed-form inverse it is the input as is.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from drywet.chain import Chain
from drywet.errors import DrywetError
from drywet.datasets import MusicCrops, split_files
from drywet.invert import InversionWarning, invert_chain, learned
from drywet.metrics import losses
from drywet.neural.proxy import Proxy
from drywet.neural.train import ProxyConfig, train_proxy

RATE = 16000
FAMILIES = {"clipper": "clipper", "noise": "colored_noise", "band_limit": "band_limit", "mp3": "mp3"}


def si_sdr(ref: np.ndarray, est: np.ndarray) -> float:
    return float(losses.si_sdr(torch.from_numpy(ref[None].astype(np.float32)), torch.from_numpy(est[None].astype(np.float32))))


def evaluate(effect: str, restorer: Proxy, crops: MusicCrops, items: int = 24, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    chain = Chain.from_names(effect)
    rows = {"input": [], "model_based": [], "learned": []}
    first = []  # the first normalized parameter of each draw (the SNR, the bit rate...)
    for _ in range(items):
        x = crops.sample(rng)
        q = rng.uniform(0.0, 1.0, chain.num_params)
        first.append(q[0])
        c = chain.with_q(q)
        c = Chain([replace(s, options={**s.options, "seed": int(rng.integers(2**31))}) if "seed" in s.options else s for s in c.stages])
        y = c(x, sample_rate=RATE)
        rows["input"].append(si_sdr(x, y))
        try:
            if effect in learned.available():  # invert_chain would use the shipped restorer: not model-based
                raise DrywetError("no model-based inverse")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InversionWarning)
                rows["model_based"].append(si_sdr(x, invert_chain(y, c, sample_rate=RATE).audio))
        except DrywetError:
            rows["model_based"].append(rows["input"][-1])  # no model-based inverse: the input as is
        with torch.no_grad():
            x_hat = restorer(torch.from_numpy(y.astype(np.float32)), torch.from_numpy(q[None].astype(np.float32)), sample_rate=RATE).numpy()
        rows["learned"].append(si_sdr(x, x_hat))
    result = {k: float(np.median(v)) for k, v in rows.items()}
    # where it helps: medians per third of the first parameter's normalized range
    param = chain.stages[0].effect.spec.params[0]
    third = np.minimum((np.asarray(first) * 3).astype(int), 2)
    result["by_thirds"] = [
        {param.name: [round(float(param.denormalize(b / 3)), 2), round(float(param.denormalize((b + 1) / 3)), 2)],
         "items": int(np.sum(third == b)), **{k: float(np.median(np.asarray(v)[third == b])) for k, v in rows.items()}}
        for b in range(3) if np.any(third == b)]
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--out", default="recipes/restore_results")
    parser.add_argument("--channels", type=int, default=16, help="TCN channels")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--device", default="cpu", help="torch device of the network, e.g. cuda (batches are rendered on the CPU)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--evaluate", metavar="DIR", help="evaluate DIR/<family>.safetensors instead of training")
    parser.add_argument("--items", type=int, default=24, help="test draws per family")
    parser.add_argument("--split", default="test", help="recordings to evaluate on: test, or valid (to choose a restorer's apply_range)")
    parser.add_argument("--loss", default="l1", help="l1 or log_l1 (every item weighted by its own error scale)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    margin = 12 * 255  # valid margin of the 8-block TCN below
    train = MusicCrops(split_files(Path(args.data), "train"), sample_rate=RATE, crop_samples=int(0.5 * RATE) + margin)
    test = MusicCrops(split_files(Path(args.data), args.split), sample_rate=RATE, crop_samples=2 * RATE)
    print("| degradation | input SI-SDR (dB) | model-based | learned | training steps |")
    print("|---|---|---|---|---|")
    for family in args.families.split(","):
        effect = FAMILIES[family]
        config = ProxyConfig(effects=effect, inverse=True, output="residual", channels=args.channels, blocks=8, sample_rate=RATE,
                             output_s=0.5, steps=100000, max_seconds=args.minutes * 60, batch=args.batch, device=args.device, loss=args.loss, augment=0.3, valid_every=100000, seed=0)
        t0 = time.time()
        if args.evaluate:
            restorer = Proxy.load(Path(args.evaluate) / f"{family}.safetensors")
        else:
            restorer = train_proxy(config, train, log=lambda *_: None)
            restorer.network.cpu()
            restorer.meta["command"] = "python recipes/train_restorers.py " + " ".join(argv if argv is not None else sys.argv[1:])
            restorer.save(out / family)
        result = evaluate(effect, restorer, test, items=args.items)
        result.update(steps=restorer.meta["steps"], seconds=round(time.time() - t0))
        (out / f"{family}.result.json").write_text(json.dumps(result, indent=1))
        print(f"| {family} ({effect}) | {result['input']:.2f} | {result['model_based']:.2f} | {result['learned']:.2f} | {result['steps']} |",
              flush=True)


if __name__ == "__main__":
    main()
