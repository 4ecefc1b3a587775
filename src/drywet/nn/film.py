"""Conditioning: FiLM (feature-wise affine modulation) and the MLP that embeds normalized parameters."""

from __future__ import annotations

import torch
from torch import nn


class FiLM(nn.Module):
    """Feature-wise affine modulation: x * (1 + gamma(c)) + beta(c)."""

    def __init__(self, cond_dim: int, channels: int):
        super().__init__()
        self.proj = nn.Linear(cond_dim, 2 * channels)
        nn.init.zeros_(self.proj.weight)  # start as the identity
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.proj(cond).unsqueeze(-1).chunk(2, dim=1)
        return x * (1 + gamma) + beta


def conditioning_mlp(num_params: int, dim: int) -> nn.Module:
    """q (batch, P) -> embedding (batch, dim); P = 0 gives a learned constant."""
    return nn.Sequential(nn.Linear(max(num_params, 1), dim), nn.PReLU(), nn.Linear(dim, dim), nn.PReLU())
