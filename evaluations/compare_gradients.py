"""Same estimation task, five ways to get gradients through the compressor (issue #5's table).

Task: analysis by synthesis of an EQ > compressor chain (21 normalized parameters) from a
dry/wet pair of real music (test split: Brahms and the Bach chorale mix, 1.5 s at 22.05 kHz,
random true parameters). Adam on the logits of q for a fixed number of steps; the EQ is always
differentiated exactly, the compressor stage uses the method of the row. The final loss is the
MR-STFT distance between the REAL chain (numpy DSP) at the final q and the target, divided by
the loss at the start (lower is better); time is the mean wall time per step on this CPU.

  python evaluations/compare_gradients.py [--data ../shared/data] [--clips 6] [--steps 100]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from drywet.chain import Chain
from drywet.datasets import MusicCrops, split_files
from drywet.gradients import ThroughChain
from drywet.metrics import losses
from drywet.neural.proxy import bundled_proxy

METHODS = ("autodiff", "proxy", "half_hybrid", "full_hybrid", "spsa")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    proxy = bundled_proxy("compressor")
    sr = proxy.sample_rate
    chain = Chain.from_names("parametric_eq,compressor")
    crops = MusicCrops(split_files(Path(args.data), "test"), sample_rate=sr, crop_samples=int(1.5 * sr))
    rng = np.random.default_rng(args.seed)
    problems = []
    for _ in range(args.clips):
        x = crops.sample(rng)
        q = rng.uniform(0.0, 1.0, chain.num_params)
        problems.append((x, chain.with_q(q)(x, sample_rate=sr).astype(np.float32)))

    def real_loss(q: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
        y_hat = chain.with_q(np.clip(q, 0, 1))(x, sample_rate=sr)
        return float(losses.mrstft(torch.from_numpy(y[None]), torch.from_numpy(y_hat[None].astype(np.float32))))

    print(f"{args.clips} clips x {args.steps} Adam steps, EQ > compressor ({chain.num_params} parameters), {sr} Hz, 1.5 s")
    print("| compressor gradient | final / initial MR-STFT (median) | mean | ms per step |")
    print("|---|---|---|---|")
    for method in METHODS:
        through = ThroughChain(chain, sample_rate=sr, methods={"compressor": method}, proxies={"compressor": proxy},
                               approx={"samples": 1, "epsilon": 0.02, "seed": args.seed})
        ratios, times = [], []
        for x, y in problems:
            xt, yt = torch.from_numpy(x[None]), torch.from_numpy(y[None])
            logits = torch.zeros(1, chain.num_params, requires_grad=True)  # start at q = 0.5
            opt = torch.optim.Adam([logits], lr=0.05)
            start = real_loss(np.full(chain.num_params, 0.5), x, y)
            t0 = time.perf_counter()
            for _ in range(args.steps):
                loss = losses.mrstft(yt, through.train()(xt, torch.sigmoid(logits)))
                opt.zero_grad()
                loss.backward()
                opt.step()
            times.append((time.perf_counter() - t0) / args.steps)
            ratios.append(real_loss(torch.sigmoid(logits).detach().double().numpy()[0], x, y) / start)
        print(f"| {method} | {np.median(ratios):.3f} | {np.mean(ratios):.3f} | {1000 * np.mean(times):.1f} |", flush=True)


if __name__ == "__main__":
    main()
