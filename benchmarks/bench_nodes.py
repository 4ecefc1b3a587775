"""The CPU autograd nodes against the torch-ops versions they replace, in one process.

    python benchmarks/bench_nodes.py [--rounds 3]

Batch 8 x 5 s of real mono music at 44.1 kHz (as bench_speed.py's torch rows), forward +
backward, single thread, best of 5 per round; the two versions alternate round by round so
that this machine's drift between processes (+-20 %) hits both alike. Rows:
- compressor: the one-node compressor vs autograd through the composed ops
  (``compressor_composed_torch``);
- clipper: the numba-pass node vs the same node written in torch ops (used on GPU);
- FIR impulse response: the recursion node vs sampling the complex response on the taps grid
  and autograd through it (5 sections, the taps bench_speed's EQ draws);
- FFT convolution: the node vs autograd through rfft/irfft, 16k-tap FIRs.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from bench_speed import SR, load_music  # noqa: E402
from timing import best_time  # noqa: E402

from drywet import get_effect  # noqa: E402
from drywet.dsp import biquad, convolve  # noqa: E402
from drywet.effects import distortion, dynamics, filters  # noqa: E402

torch.set_num_threads(1)
BATCH = 8


def cases(xb):
    rng = np.random.default_rng(0)

    def params_of(name):
        return {p.name: torch.tensor([p.sample(rng) for _ in range(BATCH)], dtype=torch.float32, requires_grad=True)
                for p in get_effect(name).spec.params}

    def fwd_bwd(fn):
        return lambda: fn().square().mean().backward()

    signal = xb.clone().requires_grad_()
    pcomp, pclip, peq = params_of("compressor"), params_of("clipper"), params_of("parametric_eq")
    taps = biquad.fir_taps(filters.peq_sos(peq, SR, torch), xb.shape[-1])
    fir = torch.randn(BATCH, 1, 16384, generator=torch.Generator().manual_seed(0)).mul_(0.01).requires_grad_()
    n = convolve.fft_size(xb.shape[-1] + fir.shape[-1] - 1)

    def clipper(on_cpu):
        gain = 10.0 ** (pclip["drive_db"] / 20.0)
        return distortion._clipper_function(on_cpu).apply(signal, gain, pclip["offset"], pclip["hardness"])

    def composed_convolution():
        spectrum = torch.fft.rfft(xb, n=n) * torch.fft.rfft(fir, n=n)
        return torch.fft.irfft(spectrum, n=n)[..., : xb.shape[-1]]

    return {
        "compressor": (fwd_bwd(lambda: dynamics.compressor_torch(signal, sample_rate=SR, **pcomp)),
                       fwd_bwd(lambda: dynamics.compressor_composed_torch(signal, sample_rate=SR, **pcomp))),
        "clipper": (fwd_bwd(lambda: clipper(True)), fwd_bwd(lambda: clipper(False))),
        f"FIR impulse response ({taps} taps)": (
            fwd_bwd(lambda: biquad.sos_impulse_response_torch(filters.peq_sos(peq, SR, torch), taps)),
            fwd_bwd(lambda: torch.fft.irfft(biquad.sos_response_torch(filters.peq_sos(peq, SR, torch), taps), n=taps))),
        "FFT convolution (16k taps)": (fwd_bwd(lambda: convolve.convolve_torch(xb, fir, xb.shape[-1])),
                                       fwd_bwd(composed_convolution)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    x, origin = load_music()
    n = 5 * SR
    mono = x.mean(0)
    xb = torch.tensor(np.stack([mono[i * n : (i + 1) * n] for i in range(BATCH)])[:, None], dtype=torch.float32)
    print(f"audio: {origin}; batch {BATCH} x 5 s mono, forward + backward, single thread, ms (best per round)")
    print(f"| {'case':34s} | {'node':>18s} | {'torch ops':>18s} | speedup |")
    print(f"|{'-' * 36}|{'-' * 20}|{'-' * 20}|---------|")
    for name, (node, reference) in cases(xb).items():
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(1e3 * best_time(node, 5))
            theirs.append(1e3 * best_time(reference, 5))
        span = lambda t: f"{min(t):6.1f} - {max(t):6.1f}"  # noqa: E731
        print(f"| {name:34s} | {span(ours):>18s} | {span(theirs):>18s} | {min(theirs) / min(ours):6.2f}x |")


if __name__ == "__main__":
    main()
