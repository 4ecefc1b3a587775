"""Temporal convolutional network with FiLM (Steinmetz & Reiss; the seed thesis; DeepAFx-ST's
proxies), optionally predicting a gain g[n] (Peladeau & Peeters, ICASSP 2024).

See :mod:`drywet.nn` for the shapes."""

from __future__ import annotations

import torch
from torch import nn

from .film import FiLM, conditioning_mlp
from .outputs import crop, init_unity_gain, sigmoid_gain


class TCNBlock(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, dilation: int, cond_dim: int, causal: bool):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, kernel, dilation=dilation)
        self.film = FiLM(cond_dim, cout)
        self.act = nn.PReLU(cout)
        self.res = nn.Conv1d(cin, cout, 1, bias=False)
        self.causal = causal

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.act(self.film(self.conv(x), cond))
        return h + crop(self.res(x), h.shape[-1], self.causal)


class TCN(nn.Module):
    """Conditional temporal convolutional network.

    Args:
        num_params: size of the conditioning vector q (0 for an unconditional model).
        channels: width of every block (8 in the blind-estimation paper's proxy).
        blocks: number of dilated convolutions.
        kernel: kernel size.
        dilation_growth: dilation of block i is growth ** (i % stack).
        stack: blocks per dilation cycle.
        causal: crop residuals at the end (causal) or the centre (non-causal).
        output: ``"signal"`` (predict samples), ``"gain"`` (predict g[n] applied to x) or
            ``"residual"`` (predict a correction added to x: the identity is the starting point,
            which suits restoration of mild degradations).
        gain_db_range: (min, max) dB span of the sigmoid gain.
        cond_dim: size of the conditioning embedding.
    """

    def __init__(self, num_params: int, *, channels: int = 8, blocks: int = 10, kernel: int = 13, dilation_growth: int = 4,
                 stack: int = 10, causal: bool = False, output: str = "signal", gain_db_range: tuple = (-60.0, 24.0),
                 cond_dim: int = 32):
        super().__init__()
        if output not in ("signal", "gain", "residual"):
            raise ValueError(f"output must be 'signal', 'gain' or 'residual', not {output!r}")
        self.num_params, self.causal, self.output = num_params, causal, output
        self.gain_db_range = tuple(float(v) for v in gain_db_range)
        self.cond = conditioning_mlp(num_params, cond_dim)
        self.dilations = [dilation_growth ** (i % stack) for i in range(blocks)]
        self.kernel = kernel
        self.blocks = nn.ModuleList(
            TCNBlock(1 if i == 0 else channels, channels, kernel, d, cond_dim, causal) for i, d in enumerate(self.dilations)
        )
        self.out = nn.Conv1d(channels * blocks, 1, 1)
        if output == "gain":
            init_unity_gain(self.out, self.gain_db_range)
        elif output == "residual":  # start as the identity
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

    @property
    def receptive_field(self) -> int:
        return 1 + sum((self.kernel - 1) * d for d in self.dilations)

    @property
    def valid_margin(self) -> int:
        """Samples lost by the valid convolutions (input length - output length)."""
        return self.receptive_field - 1

    def embed(self, q: torch.Tensor, batch: int) -> torch.Tensor:
        if self.num_params == 0:
            q = torch.zeros(batch, 1, device=self.out.weight.device, dtype=self.out.weight.dtype)
        return self.cond(q)

    def forward(self, x: torch.Tensor, q: torch.Tensor | None = None) -> torch.Tensor:
        cond = self.embed(q, x.shape[0])
        h, skips = x, []
        for block in self.blocks:
            h = block(h, cond)
            skips.append(h)
        length = h.shape[-1]
        z = self.out(torch.cat([crop(s, length, self.causal) for s in skips], dim=1))
        if self.output == "signal":
            return z
        if self.output == "residual":
            return z + crop(x, length, self.causal)
        return sigmoid_gain(z, self.gain_db_range) * crop(x, length, self.causal)
