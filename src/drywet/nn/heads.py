"""Spec-sized heads: an MLP ending in a sigmoid that outputs C normalized parameters q in [0, 1]^C;
the spec maps q to physical values, so no range is written here."""

from __future__ import annotations

import torch
from torch import nn

from .encoders import ENCODERS


class Head(nn.Module):
    """MLP to C normalized parameters (sigmoid), BatchNorm + PReLU between layers."""

    def __init__(self, in_dim: int, num_params: int, hidden: tuple[int, ...] = (512, 256)):
        super().__init__()
        layers, d = [], in_dim
        for h in hidden:
            layers += [nn.Linear(d, h), nn.BatchNorm1d(h), nn.PReLU(h)]
            d = h
        layers.append(nn.Linear(d, num_params))
        self.mlp = nn.Sequential(*layers)

    def forward(self, z):
        return torch.sigmoid(self.mlp(z))


class AnalysisNetwork(nn.Module):
    def __init__(self, encoder: str, num_params: int, sample_rate: int, hidden: tuple[int, ...] = (512, 256)):
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {list(ENCODERS)}, not {encoder!r}")
        self.encoder = ENCODERS[encoder](sample_rate)
        self.head = Head(self.encoder.out_dim, num_params, hidden)

    def forward(self, x):
        return self.head(self.encoder(x))
