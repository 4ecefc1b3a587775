"""Audio encoders of the analysis networks (blind estimation, style embeddings).

Encoders (Peladeau & Peeters, ICASSP 2024, after Steinmetz et al. and Pons et al.):

* ``MEE`` - music effects encoder: residual 1-D convolutions on the waveform, strided down.
* ``TE`` - timbre encoder: one 2-D convolution with several vertical filter shapes on the
  CQT, max-pooled over frequency and time.
* ``TFE`` - time and frequency motifs: separate 2-D convolutions shaped along time and along
  frequency, pooled and concatenated.
* ``Compact`` - ours, for CPU: depthwise-separable 2-D convolutions on the CQT with
  BatchNorm and PReLU, then mean and standard deviation pooled over time and frequency.

The head is an MLP (hidden sizes configurable, 2048-1024-512 in the paper; BatchNorm, PReLU)
ending in a sigmoid, sized from the chain: it outputs q in [0, 1]^C and the spec maps q to
physical values, so no range is written here.
"""

from __future__ import annotations

import torch
from torch import nn

from .features import log_frequency_spectrogram


class CQTInput(nn.Module):
    """Waveform (B, 1, T) -> log-frequency spectrogram (B, 1, K, F), scaled by a BatchNorm
    (global statistics: the absolute level stays in, it carries gains and thresholds)."""

    def __init__(self, sample_rate: int):
        super().__init__()
        self.sample_rate = sample_rate
        self.norm = nn.BatchNorm2d(1)

    def forward(self, x):
        return self.norm(log_frequency_spectrogram(x, self.sample_rate))


class MEE(nn.Module):
    def __init__(self, sample_rate: int, channels: int = 32, blocks: int = 6, out_dim: int = 256):
        super().__init__()
        layers = [nn.Conv1d(1, channels, 15, stride=4, padding=7), nn.PReLU(channels)]
        for _ in range(blocks):
            layers.append(_ResidualBlock1d(channels))
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(2 * channels, out_dim)
        self.out_dim = out_dim
        self.receptive_field = 15 + blocks * 2 * 4 * 8  # samples, at the input rate

    def forward(self, x):
        h = self.body(x)
        return self.out(torch.cat([h.mean(-1), h.std(-1)], dim=-1))


class _ResidualBlock1d(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv1d(channels, channels, 9, padding=4)
        self.bn1 = nn.BatchNorm1d(channels)
        self.act = nn.PReLU(channels)
        self.conv2 = nn.Conv1d(channels, channels, 9, padding=4)
        self.bn2 = nn.BatchNorm1d(channels)
        self.down = nn.MaxPool1d(2)

    def forward(self, x):
        return self.down(self.act(x + self.bn2(self.conv2(self.act(self.bn1(self.conv1(x)))))))


class TE(nn.Module):
    def __init__(self, sample_rate: int, filters: int = 32, out_dim: int = 256):
        super().__init__()
        self.input = CQTInput(sample_rate)
        self.convs = nn.ModuleList(nn.Conv2d(1, filters, (h, 1), padding=(h // 2, 0)) for h in (3, 7, 15, 31))
        self.bn = nn.BatchNorm1d(4 * filters)
        self.out = nn.Linear(4 * filters, out_dim)
        self.out_dim = out_dim

    def forward(self, x):
        s = self.input(x)
        pooled = [torch.relu(c(s)).amax(dim=2).mean(dim=-1) for c in self.convs]
        return self.out(self.bn(torch.cat(pooled, dim=1)))


class TFE(nn.Module):
    def __init__(self, sample_rate: int, filters: int = 32, out_dim: int = 256):
        super().__init__()
        self.input = CQTInput(sample_rate)
        self.freq = nn.ModuleList(nn.Conv2d(1, filters, (h, 1), padding=(h // 2, 0)) for h in (7, 25))
        self.time = nn.ModuleList(nn.Conv2d(1, filters, (1, w), padding=(0, w // 2)) for w in (5, 17))
        self.bn = nn.BatchNorm1d(4 * filters)
        self.out = nn.Linear(4 * filters, out_dim)
        self.out_dim = out_dim

    def forward(self, x):
        s = self.input(x)
        f = [torch.relu(c(s)).amax(dim=2).mean(dim=-1) for c in self.freq]
        t = [torch.relu(c(s)).mean(dim=3).amax(dim=-1) for c in self.time]
        return self.out(self.bn(torch.cat(f + t, dim=1)))


class Compact(nn.Module):
    def __init__(self, sample_rate: int, widths: tuple[int, ...] = (16, 32, 48, 48, 64), out_dim: int = 256):
        super().__init__()
        self.input = CQTInput(sample_rate)

        def block(cin, cout, stride):
            return nn.Sequential(
                nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin),
                nn.Conv2d(cin, cout, 1),
                nn.BatchNorm2d(cout),
                nn.PReLU(cout),
            )

        strides = ((2, 1), (2, 2), (2, 1), (1, 2))
        layers = [nn.Conv2d(1, widths[0], 3, stride=(1, 2), padding=1), nn.BatchNorm2d(widths[0]), nn.PReLU(widths[0])]
        layers += [block(a, b, st) for a, b, st in zip(widths[:-1], widths[1:], strides)]
        self.body = nn.Sequential(*layers)
        # frequency keeps its axis (per-band levels matter for EQ); time is pooled
        self.out = nn.LazyLinear(out_dim)
        self.out_dim = out_dim

    def forward(self, x):
        h = self.body(self.input(x))  # (B, C, K', F')
        stats = torch.cat([h.mean(dim=-1), h.std(dim=-1)], dim=1)  # (B, 2C, K')
        return self.out(stats.flatten(1))


ENCODERS = {"mee": MEE, "te": TE, "tfe": TFE, "compact": Compact}
