"""Speed of issue #5's pieces on this CPU: proxy inference as a multiple of real time, and the
cost of one gradient step through the compressor with each method.

  python benchmarks/bench_proxy.py [--seconds 10] [--repeats 3]

Audio: the bundled Brahms clip at the proxy's rate (22.05 kHz), mono.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from timing import best_time

from drywet import io
from drywet.gradients import ApproxGradEffect
from drywet.neural.proxy import Proxy, bundled_proxy
from drywet.registry import get_effect


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device-model", default="recipes/proxy_results/models/hall_arthur")
    args = parser.parse_args(argv)
    proxy = bundled_proxy("compressor")
    sr = proxy.sample_rate
    x, _ = io.bundled_example()
    x = io.resample(x.mean(axis=0, keepdims=True), 44100, sr)[:, : int(args.seconds * sr)].astype(np.float32)
    xt = torch.from_numpy(x)[None]
    q = torch.full((1, 6), 0.5)
    print(f"{args.seconds:g} s of music at {sr} Hz, best of {args.repeats}, torch threads as below")
    print("| model | receptive field | threads | x real time |")
    print("|---|---|---|---|")
    models = [("compressor proxy (TCN 8 ch, gain)", proxy, q)]
    try:
        models.append(("device model hall_arthur (TCN 16 ch)", Proxy.load(args.device_model), None))
    except Exception as exc:  # optional: the benchmark still runs without the committed device model
        print(f"(device model skipped: {exc})")
    for name, model, cond in models:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            with torch.no_grad():
                t = best_time(lambda model=model, cond=cond: model(xt, cond, sample_rate=sr), args.repeats)
            print(f"| {name} | {model.receptive_field / sr:.2f} s | {threads} | {args.seconds / t:.1f} |")
    torch.set_num_threads(2)
    eff = get_effect("compressor")
    clip = xt[..., : int(1.5 * sr)].double()
    target = eff.torch(clip, sample_rate=sr, **eff.spec.denormalize(torch.full((1, 6), 0.7, dtype=torch.float64))).detach()

    def autodiff():
        qv = q.double().clone().requires_grad_(True)
        torch.mean((eff.torch(clip, sample_rate=sr, **eff.spec.denormalize(qv)) - target) ** 2).backward()

    def proxy_step():
        qv = q.clone().requires_grad_(True)
        torch.mean((proxy(clip.float(), qv, sample_rate=sr) - target.float()) ** 2).backward()

    def approx(method, samples):
        a = ApproxGradEffect(eff, sample_rate=sr, method=method, samples=samples)

        def step():
            qv = q.double().clone().requires_grad_(True)
            torch.mean((a(clip, qv) - target) ** 2).backward()
        return step

    print()
    print("One forward + backward through the compressor, 1.5 s mono, gradient for its 6 parameters:")
    print("| method | ms per step | effect evaluations |")
    print("|---|---|---|")
    rows = [("autodiff (torch twin)", autodiff, 0), ("neural proxy", proxy_step, 0), ("SPSA, 1 draw", approx("spsa", 1), 3),
            ("SPSA, 8 draws", approx("spsa", 8), 17), ("central differences", approx("fd", 1), 13)]
    for name, fn, evals in rows:
        print(f"| {name} | {1000 * best_time(fn, args.repeats):.1f} | {evals or '-'} |")


if __name__ == "__main__":
    main()
