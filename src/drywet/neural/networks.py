"""Conditional networks that model an effect: TCN with FiLM and a Wave-U-Net with FiLM.

* :class:`TCN`: dilated 1-D convolutions without padding ("valid"), FiLM from the normalized
  parameters after each convolution, PReLU, a residual path centre-cropped (or end-cropped when
  causal) to the convolution's output, and skip connections summed into the output layer;
  after Steinmetz & Reiss' TCN used in the seed thesis and in DeepAFx-ST's proxies.
  ``output="gain"`` is the variant of Peladeau & Peeters (ICASSP 2024): the network predicts
  a gain g[n] through a sigmoid (mapped to a dB range) that multiplies the input, instead of
  the output samples, which suits gain-only effects (compressors, gates, tremolo).
* :class:`WaveUNet`: Demucs-style encoder/decoder (strided conv + GLU down, transposed conv up,
  U-Net skips) with FiLM in every encoder and decoder block, for comparison.

Both map (batch, 1, samples) and q (batch, P) to (batch, 1, samples - receptive_field + 1)
(TCN, valid) or (batch, 1, samples) (Wave-U-Net); :func:`run_padded` gives same-length output.
"""

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


def conditioning_mlp(num_params: int, dim: int) -> nn.Module:
    """q (batch, P) -> embedding (batch, dim); P = 0 gives a learned constant."""
    return nn.Sequential(nn.Linear(max(num_params, 1), dim), nn.PReLU(), nn.Linear(dim, dim), nn.PReLU())


def _crop(x: torch.Tensor, length: int, causal: bool) -> torch.Tensor:
    if causal:
        return x[..., x.shape[-1] - length :]
    start = (x.shape[-1] - length) // 2
    return x[..., start : start + length]


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
        return h + _crop(self.res(x), h.shape[-1], self.causal)


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
        z = self.out(torch.cat([_crop(s, length, self.causal) for s in skips], dim=1))
        if self.output == "signal":
            return z
        if self.output == "residual":
            return z + _crop(x, length, self.causal)
        return sigmoid_gain(z, self.gain_db_range) * _crop(x, length, self.causal)


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
        kernel, stride: of the strided convolutions.
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


def run_padded(net: nn.Module, x: torch.Tensor, q: torch.Tensor | None) -> torch.Tensor:
    """Same-length output from a valid-convolution network by zero-padding its margins."""
    margin = net.valid_margin
    if margin == 0:
        return net(x, q)
    causal = getattr(net, "causal", False)
    left = margin if causal else margin // 2
    return net(nn.functional.pad(x, (left, margin - left)), q)


NETWORKS = {"tcn": TCN, "wave_unet": WaveUNet}
