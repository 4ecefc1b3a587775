"""Demucs-style Wave-U-Net with FiLM in every encoder and decoder block."""

from __future__ import annotations

import torch
from torch import nn

from .film import FiLM, conditioning_mlp
from .outputs import sigmoid_gain


class _Down(nn.Module):
    def __init__(self, cin, cout, kernel, stride, cond_dim):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, kernel, stride)
        self.film = FiLM(cond_dim, cout)
        self.act = nn.PReLU(cout)  # PReLU, not ReLU: a FiLM shift cannot kill the whole level
        self.glu = nn.Conv1d(cout, 2 * cout, 1)

    def forward(self, x, cond):
        return nn.functional.glu(self.glu(self.act(self.film(self.conv(x), cond))), dim=1)


class _Up(nn.Module):
    def __init__(self, cin, cout, kernel, stride, cond_dim, last):
        super().__init__()
        self.glu = nn.Conv1d(cin, 2 * cin, 3, padding=1)
        self.conv = nn.ConvTranspose1d(cin, cout, kernel, stride)
        self.film = FiLM(cond_dim, cout)
        self.act = None if last else nn.PReLU(cout)

    def forward(self, x, cond):
        h = self.film(self.conv(nn.functional.glu(self.glu(x), dim=1)), cond)
        return h if self.act is None else self.act(h)


class WaveUNet(nn.Module):
    """Conditional Demucs-style Wave-U-Net (FiLM in encoder and decoder).

    Args:
        num_params: size of q.
        channels: width of the first level (doubles per level).
        depth: number of levels.
        kernel: length of the strided convolutions.
        stride: their stride (the down-sampling per level).
        output: ``"signal"`` (predict x + residual) or ``"gain"`` (predict g[n] applied to x).
        gain_db_range: (min, max) dB span of the sigmoid gain.
        cond_dim: size of the conditioning embedding.
    """

    def __init__(self, num_params: int, *, channels: int = 8, depth: int = 4, kernel: int = 8, stride: int = 4,
                 output: str = "signal", gain_db_range: tuple = (-60.0, 24.0), cond_dim: int = 32):
        super().__init__()
        if output not in ("signal", "gain"):
            raise ValueError(f"output must be 'signal' or 'gain', not {output!r}")
        self.num_params, self.kernel, self.stride, self.depth = num_params, kernel, stride, depth
        self.output, self.gain_db_range = output, tuple(float(v) for v in gain_db_range)
        self.cond = conditioning_mlp(num_params, cond_dim)
        widths = [channels * 2**i for i in range(depth)]
        self.down = nn.ModuleList(_Down(1 if i == 0 else widths[i - 1], widths[i], kernel, stride, cond_dim) for i in range(depth))
        self.up = nn.ModuleList(
            _Up(widths[i], 1 if i == 0 else widths[i - 1], kernel, stride, cond_dim, i == 0) for i in reversed(range(depth))
        )
        lo, hi = self.gain_db_range  # the gain head starts at 0 dB
        self.register_buffer("gain_bias", torch.logit(torch.tensor(-lo / (hi - lo))), persistent=False)
        self.valid_margin = 0  # padded: same-length output
        # context seen by one output sample: strided encoder, then the decoders' 3-tap GLU convs
        rf, jump = 1, 1
        for _ in range(depth):
            rf, jump = rf + (kernel - 1) * jump, jump * stride
        for _ in range(depth):
            jump //= stride
            rf += 2 * jump * stride + (kernel - 1) * jump
        self.receptive_field = rf

    def _padded_length(self, n: int) -> int:
        length = n
        for _ in range(self.depth):
            length = max(1, -(-(length - self.kernel) // self.stride) + 1)
        for _ in range(self.depth):
            length = (length - 1) * self.stride + self.kernel
        return length

    def forward(self, x: torch.Tensor, q: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_params == 0:
            q = torch.zeros(x.shape[0], 1, device=x.device, dtype=x.dtype)
        cond = self.cond(q)
        n = x.shape[-1]
        h = nn.functional.pad(x, (0, self._padded_length(n) - n))
        skips = []
        for block in self.down:
            h = block(h, cond)
            skips.append(h)
        for block in self.up:
            skip = skips.pop()
            h = block(h + skip[..., : h.shape[-1]], cond)
        if self.output == "gain":
            return sigmoid_gain(h[..., :n] + self.gain_bias, self.gain_db_range) * x
        return h[..., :n] + x  # predict the difference: the identity is the easy start
