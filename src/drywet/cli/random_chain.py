"""``drywet random-chain``: sample a random chain and save it as a preset."""

from __future__ import annotations

import numpy as np


NAME = "random-chain"
HELP = "sample a random chain and save it as a preset"


def add_arguments(p) -> None:
    p.add_argument("--effects", default="eq,compressor,clipper", help="comma-separated effect names")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--random-order", action="store_true")
    p.add_argument("--bypass-prob", type=float, default=0.0)
    p.add_argument("-o", "--output", required=True, help="preset file (.yaml or .json)")
    p.add_argument("--overwrite", action="store_true")


def run(args) -> int:
    from ..chain import Chain

    chain = Chain.from_names(args.effects).sample(
        np.random.default_rng(args.seed), random_order=args.random_order, bypass_prob=args.bypass_prob
    )
    chain.save(args.output, overwrite=args.overwrite)
    print(chain)
    print(f"wrote {args.output}")
    return 0
