"""The drywet cases of bench_speed.py timed on two checkouts side by side, in one process.

    git worktree add /tmp/before <commit>
    python benchmarks/compare_checkouts.py --before /tmp/before/src

The other checkout's package is copied and imported under the name ``drywet_before`` (drywet's
own imports are relative), so both run on the same audio, in the same process, alternately,
best of ``--repeats``. Prints each case's "x real-time" before and after and their ratio.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from bench_speed import CLIP, COMP, EQ, SR, load_ir, load_music  # noqa: E402
from timing import best_time  # noqa: E402

torch.set_num_threads(1)


def load_before(src: Path):
    target = Path(tempfile.mkdtemp()) / "drywet_before"
    shutil.copytree(src / "drywet", target, ignore=shutil.ignore_patterns("__pycache__"))
    sys.path.insert(0, str(target.parent))
    return importlib.import_module("drywet_before")


def cases(pkg, x, ir, xt):
    """name -> (seconds of audio, callable) for one drywet package."""
    chain_mod = importlib.import_module(pkg.__name__ + ".chain")
    Chain, Stage = chain_mod.Chain, chain_mod.Stage
    get = pkg.get_effect
    eq, comp, clip, conv, rev = (get(n) for n in ("parametric_eq", "compressor", "clipper", "convolution_reverb", "noise_reverb"))
    chain = Chain([Stage.create("parametric_eq", EQ), Stage.create("compressor", COMP), Stage.create("clipper", CLIP),
                   Stage.create("convolution_reverb", options={"impulse_response": ir})])
    torch_chain = Chain([Stage.create("parametric_eq", EQ), Stage.create("compressor", COMP), Stage.create("clipper", CLIP)])
    q = torch.tensor(torch_chain.to_q(), dtype=torch.float32).expand(xt.shape[0], -1).clone().requires_grad_(True)
    dur, tdur = x.shape[1] / SR, xt.shape[0] * xt.shape[-1] / SR

    def fwd_bwd(fn):
        def run():
            fn().square().mean().backward()
        return run

    return {
        "numpy parametric EQ": (dur, lambda: eq(x, sample_rate=SR, **EQ)),
        "numpy compressor": (dur, lambda: comp(x, sample_rate=SR, **COMP)),
        "numpy clipper": (dur, lambda: clip(x, sample_rate=SR, **CLIP)),
        "numpy convolution, 2 s IR": (dur, lambda: conv(x, sample_rate=SR, impulse_response=ir)),
        "numpy chain EQ > comp > clip > conv": (dur, lambda: chain(x, sample_rate=SR)),
        "torch EQ fwd+bwd": (tdur, fwd_bwd(lambda: eq.torch(xt, sample_rate=SR, **{k: torch.full((8,), v) for k, v in EQ.items()}))),
        "torch compressor fwd+bwd": (tdur, fwd_bwd(lambda: comp.torch(xt, sample_rate=SR, **{k: torch.full((8,), v) for k, v in COMP.items()}))),
        "torch noise reverb fwd+bwd": (tdur, fwd_bwd(lambda: rev.torch(xt, sample_rate=SR))),
        "torch chain apply_torch fwd+bwd": (tdur, fwd_bwd(lambda: torch_chain.apply_torch(xt, sample_rate=SR, q=q))),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, type=Path, help="the src/ folder of the other checkout")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    import drywet

    before = load_before(args.before)
    x, _ = load_music()
    ir, _ = load_ir()
    xt = torch.tensor(x[:1, : 5 * SR]).expand(8, 1, -1).contiguous().requires_grad_(True)
    now, then = cases(drywet, x, ir, xt), cases(before, x, ir, xt)
    print(f"{'case':40s} {'before x RT':>12s} {'after x RT':>12s} {'after/before':>13s}")
    for name in now:
        dur, fn_after = now[name]
        _, fn_before = then[name]
        t_before, t_after = [], []
        for _ in range(args.repeats):  # alternate, so drift of the machine hits both
            t_before.append(best_time(fn_before, 1, warm_up=not t_before))
            t_after.append(best_time(fn_after, 1, warm_up=not t_after))
        b, a = dur / min(t_before), dur / min(t_after)
        print(f"{name:40s} {b:12.1f} {a:12.1f} {a / b:13.2f}", flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
