"""What waveform networks share at their ends: a gain output through a sigmoid in a dB range,
its identity start, cropping to a valid length, and same-length output by padding."""

from __future__ import annotations

import torch
from torch import nn


def sigmoid_gain(z: torch.Tensor, gain_db_range: tuple) -> torch.Tensor:
    """Raw network output -> linear gain through a sigmoid spanning ``gain_db_range`` dB."""
    lo, hi = gain_db_range
    return torch.pow(10.0, (lo + (hi - lo) * torch.sigmoid(z)) / 20.0)


def init_unity_gain(conv: nn.Conv1d, gain_db_range: tuple) -> None:
    """Make a gain head start at 0 dB (the identity) rather than mid-range."""
    lo, hi = gain_db_range
    with torch.no_grad():
        conv.weight.mul_(0.1)
        conv.bias.fill_(float(torch.logit(torch.tensor(-lo / (hi - lo)))))


def crop(x: torch.Tensor, length: int, causal: bool) -> torch.Tensor:
    if causal:
        return x[..., x.shape[-1] - length :]
    start = (x.shape[-1] - length) // 2
    return x[..., start : start + length]


def run_padded(net: nn.Module, x: torch.Tensor, q: torch.Tensor | None) -> torch.Tensor:
    """Same-length output from a valid-convolution network by zero-padding its margins."""
    margin = net.valid_margin
    if margin == 0:
        return net(x, q)
    causal = getattr(net, "causal", False)
    left = margin if causal else margin // 2
    return net(nn.functional.pad(x, (left, margin - left)), q)
