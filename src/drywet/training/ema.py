"""Exponential moving average of a network's weights (Polyak averaging)."""

from __future__ import annotations

import contextlib


class WeightAverage:
    """EMA of the floating-point parameters; buffers (BatchNorm statistics) are copied as they are."""

    def __init__(self, net, decay: float):
        self.decay = decay
        self.state = {k: v.detach().clone() for k, v in net.state_dict().items()}

    def update(self, net) -> None:
        import torch

        with torch.no_grad():
            params = dict(net.named_parameters())
            for k, v in net.state_dict().items():
                if k in params and v.is_floating_point():
                    self.state[k].mul_(self.decay).add_(v, alpha=1.0 - self.decay)
                else:
                    self.state[k].copy_(v)


@contextlib.contextmanager
def averaged(net, ema: WeightAverage | None):
    """Run the block with the averaged weights in ``net`` (nothing changes without ``ema``)."""
    if ema is None:
        yield
        return
    raw = {k: v.detach().clone() for k, v in net.state_dict().items()}
    net.load_state_dict(ema.state)
    try:
        yield
    finally:
        net.load_state_dict(raw)
