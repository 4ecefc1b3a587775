"""FFT convolution and fractional delay shared by the reverbs (numpy and torch)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def fft_size(n: int) -> int:
    """A fast FFT length >= n (scipy's next_fast_len: products of 2, 3, 5)."""
    from scipy.fft import next_fast_len

    return next_fast_len(max(int(n), 1), real=True)


def fractional_shift_numpy(ir: np.ndarray, delay_samples: float) -> np.ndarray:
    """Delay ``ir`` (..., L) by a fractional number of samples with linear interpolation.

    Returns (..., L + ceil(delay)). Linear interpolation keeps the result differentiable in
    the delay in the torch twin (:func:`fractional_shift_torch`), which does the same.
    """
    whole = int(math.floor(delay_samples))
    frac = delay_samples - whole
    pad = [(0, 0)] * (ir.ndim - 1)
    if frac == 0.0:
        return np.pad(ir, pad + [(whole, 0)])
    a = np.pad(ir, pad + [(whole, 1)])
    b = np.pad(ir, pad + [(whole + 1, 0)])
    return (1.0 - frac) * a + frac * b


def fractional_shift_torch(ir: Any, delay_samples: Any) -> Any:
    """Torch twin of :func:`fractional_shift_numpy` for per-item delays.

    Args:
        ir: (B, C, L) impulse responses.
        delay_samples: (B,) delays (>= 0).
    Returns:
        (B, C, L + ceil(max delay)), the numpy length for the largest delay.
    """
    import torch

    batch, channels, length = ir.shape
    out_len = length + int(math.ceil(float(delay_samples.detach().max())))
    whole = delay_samples.detach().floor()
    frac = (delay_samples - whole)[:, None, None]
    idx = torch.arange(out_len, device=ir.device)[None, :] - whole.long()[:, None]  # (B, out_len)

    def gather(shift):
        src = idx - shift
        valid = (src >= 0) & (src < length)
        g = torch.gather(ir, 2, src.clamp(0, length - 1)[:, None, :].expand(batch, channels, out_len))
        return g * valid[:, None, :].to(ir.dtype)

    return (1.0 - frac) * gather(0) + frac * gather(1)


def ola_block_size(signal_len: int, ir_len: int) -> int:
    """FFT size of the overlap-add blocks: a power of two about 4-8 IR lengths (measured
    fastest for 1-2 s IRs), or one FFT covering everything for short signals."""
    whole = 1 << (signal_len + ir_len - 2).bit_length()
    return min(whole, max(1 << 16, 1 << (4 * ir_len - 1).bit_length()))


def convolve_numpy(x: np.ndarray, ir: np.ndarray, out_len: int) -> np.ndarray:
    """Linear convolution of x (B, C, T) with ir (C or 1, L), first ``out_len`` samples.

    Overlap-add with scipy.fft in the signal's dtype (float32 audio -> float32 FFTs).
    """
    import scipy.fft as sfft

    dtype = np.result_type(x.dtype, np.float32)
    length, ir_len = x.shape[-1], ir.shape[-1]
    block = ola_block_size(length, ir_len)
    hop = block - ir_len + 1
    spectrum = sfft.rfft(ir.astype(dtype, copy=False), n=block, axis=-1)
    channels = max(x.shape[-2], ir.shape[0])  # a stereo IR on mono audio gives stereo
    y = np.zeros((x.shape[0], channels, max(out_len, 0)), dtype=dtype)
    for start in range(0, min(length, out_len), hop):
        seg = sfft.irfft(sfft.rfft(x[..., start : start + hop], n=block, axis=-1) * spectrum, n=block, axis=-1)
        stop = min(out_len, start + block)
        y[..., start:stop] += seg[..., : stop - start]
    return y


def convolve_torch(x: Any, ir: Any, out_len: int) -> Any:
    """Linear FFT convolution of x (B, C, T) with ir (B or 1, C or 1, L), first ``out_len``."""
    import torch

    n = fft_size(x.shape[-1] + ir.shape[-1] - 1)
    spec = torch.fft.rfft(x, n=n) * torch.fft.rfft(ir, n=n)
    return torch.fft.irfft(spec, n=n)[..., :out_len]
