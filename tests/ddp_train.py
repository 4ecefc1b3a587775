"""Train a small conditional TCN (drywet.nn) with drywet.training.fit: run alone or under
``torchrun --nproc_per_node N``; the first rank saves the final weights to ``argv[1]``
(tests/test_training.py compares 1 and 2 processes)."""

import json
import os
import sys

import torch

from drywet.nn import TCN
from drywet.training import LoopConfig, fit

GLOBAL_BATCH = 8


def batches(start):
    step = start
    while True:  # the global batch of each step, the same on every rank
        g = torch.Generator().manual_seed(step)
        x = torch.randn(GLOBAL_BATCH, 1, 600, generator=g)
        q = torch.rand(GLOBAL_BATCH, 2, generator=g)
        yield x, q
        step += 1


SEEN = []  # the batch sizes this rank trained on: its slice of each global batch


def loss_fn(model, batch):
    x, q = batch
    SEEN.append(int(x.shape[0]))
    y = model(x, q)
    target = torch.tanh(3 * q[:, :1, None] * x[..., -y.shape[-1]:])  # a parametric distortion to imitate
    return (y - target).abs().mean()


if __name__ == "__main__":
    torch.manual_seed(0)
    net = TCN(num_params=2, channels=4, blocks=3, kernel=5, causal=True, output="signal")
    fit(net, loss_fn, batches, LoopConfig(steps=12, lr=3e-3, valid_every=6), log=lambda m: None)
    rank = int(os.environ.get("RANK", "0"))
    with open(f"{sys.argv[1]}.rank{rank}.json", "w") as f:
        json.dump(SEEN, f)
    if rank == 0:
        torch.save({k: v.detach().clone() for k, v in net.state_dict().items()}, sys.argv[1])
