"""Data-parallel training under ``torchrun``: one process per device, gradients averaged by
DistributedDataParallel. Every rank draws the same global batch (the streams are seeded by
step) and keeps its contiguous slice, so N processes compute the gradient of the same global
batch as one process does (tests/test_training.py checks it on 2 CPU processes, gloo)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..errors import DrywetError


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def world(device: str = "cpu") -> World:
    """The process group torchrun describes (WORLD_SIZE, RANK), started once; one process otherwise."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if str(device).startswith("cuda") else "gloo"
        dist.init_process_group(backend)
    return World(dist.get_rank(), dist.get_world_size())


def shard(batch: Any, w: World) -> Any:
    """This rank's contiguous slice of a global batch (arrays or tensors, or tuples of them)."""
    if w.size == 1:
        return batch
    if isinstance(batch, (tuple, list)):
        return type(batch)(shard(b, w) for b in batch)
    n = batch.shape[0]
    if n % w.size:
        raise DrywetError(f"a global batch of {n} does not split over {w.size} processes; make the batch a multiple of it")
    per = n // w.size
    return batch[w.rank * per : (w.rank + 1) * per]


def agree(flag: bool, w: World) -> bool:
    """True on every rank when it is true on any (a time budget must stop all ranks together)."""
    if w.size == 1:
        return flag
    import torch
    import torch.distributed as dist

    t = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def wrap(net, w: World, device: str):
    """The module the loss runs through: DDP on several ranks, the network itself on one."""
    if w.size == 1:
        return net
    from torch.nn.parallel import DistributedDataParallel

    ids = [int(str(device).split(":")[1])] if str(device).startswith("cuda:") else None
    return DistributedDataParallel(net, device_ids=ids)
