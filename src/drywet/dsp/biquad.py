"""RBJ cookbook biquads: one design formula for numpy and torch, and three ways to filter.

Coefficients follow R. Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter
coefficients". The design functions take ``xp`` (the numpy or torch module) so the formula
exists once. Second-order sections are stored as ``[b0, b1, b2, 1, a1, a2]`` (normalized by
a0), scipy's ``sos`` layout.

Frequencies above the usable band are clamped: ``freq_hz -> min(freq_hz, MAX_FREQ_FRACTION *
sample_rate)``. At 44.1 kHz that is 21.6 kHz, so every range of the specs works at 44.1 kHz
and up; at lower rates a high shelf at 20 kHz becomes a shelf just below Nyquist instead of
an unstable filter.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numba import njit

from .convolve import convolve_torch

MAX_FREQ_FRACTION = 0.49

BIQUAD_TYPES = ("lowpass", "highpass", "bandpass", "notch", "peak", "lowshelf", "highshelf")


def clamp_freq(freq_hz: Any, sample_rate: int, xp: Any = np) -> Any:
    """Apply the documented clamp rule (see module docstring)."""
    limit = MAX_FREQ_FRACTION * sample_rate
    if xp is np:
        return np.minimum(freq_hz, limit)
    return xp.clamp(freq_hz, max=limit)


def design(kind: str, freq_hz: Any, q: Any, gain_db: Any, sample_rate: int, xp: Any = np) -> Any:
    """Return the normalized section ``[..., 6]`` of one RBJ biquad.

    Args:
        kind: one of BIQUAD_TYPES.
        freq_hz: cutoff / center frequency (Hz), scalar or array of shape (B,).
        q: quality factor (> 0).
        gain_db: gain for peak and shelves (dB); ignored by the others.
        sample_rate: Hz.
        xp: ``numpy`` or ``torch``.
    """
    w0 = 2.0 * math.pi * clamp_freq(freq_hz, sample_rate, xp) / sample_rate
    cos, sin = xp.cos(w0), xp.sin(w0)
    alpha = sin / (2.0 * q)
    one = xp.ones_like(cos)
    if kind in ("peak", "lowshelf", "highshelf"):
        a_lin = 10.0 ** (gain_db / 40.0) * one
    if kind == "lowpass":
        b = ((1 - cos) / 2, 1 - cos, (1 - cos) / 2)
        a = (1 + alpha, -2 * cos, 1 - alpha)
    elif kind == "highpass":
        b = ((1 + cos) / 2, -(1 + cos), (1 + cos) / 2)
        a = (1 + alpha, -2 * cos, 1 - alpha)
    elif kind == "bandpass":  # constant 0 dB peak gain
        b = (alpha, 0 * cos, -alpha)
        a = (1 + alpha, -2 * cos, 1 - alpha)
    elif kind == "notch":
        b = (one, -2 * cos, one)
        a = (1 + alpha, -2 * cos, 1 - alpha)
    elif kind == "peak":
        b = (1 + alpha * a_lin, -2 * cos, 1 - alpha * a_lin)
        a = (1 + alpha / a_lin, -2 * cos, 1 - alpha / a_lin)
    elif kind == "lowshelf":
        sq = 2 * xp.sqrt(a_lin) * alpha
        b = (
            a_lin * ((a_lin + 1) - (a_lin - 1) * cos + sq),
            2 * a_lin * ((a_lin - 1) - (a_lin + 1) * cos),
            a_lin * ((a_lin + 1) - (a_lin - 1) * cos - sq),
        )
        a = ((a_lin + 1) + (a_lin - 1) * cos + sq, -2 * ((a_lin - 1) + (a_lin + 1) * cos), (a_lin + 1) + (a_lin - 1) * cos - sq)
    elif kind == "highshelf":
        sq = 2 * xp.sqrt(a_lin) * alpha
        b = (
            a_lin * ((a_lin + 1) + (a_lin - 1) * cos + sq),
            -2 * a_lin * ((a_lin - 1) + (a_lin + 1) * cos),
            a_lin * ((a_lin + 1) + (a_lin - 1) * cos - sq),
        )
        a = ((a_lin + 1) - (a_lin - 1) * cos + sq, 2 * ((a_lin - 1) - (a_lin + 1) * cos), (a_lin + 1) - (a_lin - 1) * cos - sq)
    else:
        raise ValueError(f"unknown biquad type {kind!r}; choose one of {BIQUAD_TYPES}")
    a0 = a[0]
    return xp.stack([b[0] / a0, b[1] / a0, b[2] / a0, one, a[1] / a0, a[2] / a0], -1)


# -- numpy: exact IIR ---------------------------------------------------------------
MAX_UNROLLED_SECTIONS = 16


@functools.cache
def _cascade_kernel(sections: int):
    """A numba kernel for a cascade of ``sections`` biquads (transposed direct form II).

    The source is generated with one scalar state per section and channel, and two channels
    run in the same loop, so the states stay in registers and the two independent
    recursions overlap in the CPU pipeline: 1.6x faster than scipy's sosfilt on stereo
    audio (benchmarks/bench_speed.py), same float64 arithmetic.
    """
    from numba import njit

    lines = ["def cascade(sos, x, y):", "    rows, length = x.shape"]
    for k in range(sections):
        lines.append(f"    b0_{k}, b1_{k}, b2_{k}, a1_{k}, a2_{k} = sos[{k}, 0], sos[{k}, 1], sos[{k}, 2], sos[{k}, 4], sos[{k}, 5]")
    lines.append("    for r in range(0, rows, 2):")
    for k in range(sections):
        lines.append(f"        p1_{k} = 0.0; p2_{k} = 0.0; q1_{k} = 0.0; q2_{k} = 0.0")
    lines.append("        for n in range(length):")
    lines.append("            u = np.float64(x[r, n]); v = np.float64(x[r + 1, n])")
    for k in range(sections):
        lines.append(f"            o = b0_{k} * u + p1_{k}; p1_{k} = b1_{k} * u - a1_{k} * o + p2_{k}; p2_{k} = b2_{k} * u - a2_{k} * o; u = o")
        lines.append(f"            o = b0_{k} * v + q1_{k}; q1_{k} = b1_{k} * v - a1_{k} * o + q2_{k}; q2_{k} = b2_{k} * v - a2_{k} * o; v = o")
    lines.append("            y[r, n] = u; y[r + 1, n] = v")
    namespace = {"np": np}
    exec("\n".join(lines), namespace)  # noqa: S102 - generated from integers only
    return njit(nogil=True)(namespace["cascade"])


def sosfilt_numpy(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Filter ``x`` (..., samples) with sections ``sos`` (S, 6); float64 arithmetic, output in
    x's dtype. Equal to ``scipy.signal.sosfilt`` to rounding (tests/test_filters.py)."""
    sos = np.ascontiguousarray(sos, dtype=np.float64)
    if sos.shape[0] > MAX_UNROLLED_SECTIONS:
        from scipy.signal import sosfilt

        return sosfilt(sos, x, axis=-1).astype(x.dtype, copy=False)
    rows = x.reshape(-1, x.shape[-1])
    if rows.shape[0] % 2:  # the kernel runs channels in pairs; pad with a silent one
        rows = np.concatenate([rows, np.zeros_like(rows[:1])])
    out = np.empty_like(rows)
    _cascade_kernel(sos.shape[0])(sos, np.ascontiguousarray(rows), out)
    return out[: int(np.prod(x.shape[:-1]))].reshape(x.shape)


# -- torch: exact recursive IIR with gradients ----------------------------------------
def sosfilt_torch(sos: Any, x: Any) -> Any:
    """Exact IIR cascade in torch, differentiable w.r.t. ``x`` and ``sos``.

    The FIR part of each section is three shifted products; the all-pole part runs on
    torchlpc's compiled recursion (``sample_wise_lpc``), whose backward pass is another
    recursion, not an unrolled graph.

    Args:
        sos: (B, S, 6) sections.
        x: (B, C, T) audio.
    Returns:
        (B, C, T) filtered audio.
    """
    import torch.nn.functional as F
    from torchlpc import sample_wise_lpc

    batch, channels, length = x.shape
    y = x
    for s in range(sos.shape[1]):
        b = sos[:, s, :3].to(x.dtype)
        a = sos[:, s, 4:].to(x.dtype)
        padded = F.pad(y, (2, 0))
        fir = (
            b[:, 0, None, None] * y
            + b[:, 1, None, None] * padded[..., 1:-1]
            + b[:, 2, None, None] * padded[..., :-2]
        )
        coeffs = a.repeat_interleave(channels, 0)[:, None, :].expand(batch * channels, length, 2)
        y = sample_wise_lpc(fir.reshape(batch * channels, length), coeffs).reshape(batch, channels, length)
    return y


def sosfilt_varying_torch(sos: Any, x: Any) -> Any:
    """One biquad whose coefficients change every sample (direct form I), differentiable.

    The FIR part uses each sample's numerator, the all-pole part torchlpc's time-varying
    recursion. For constant coefficients it equals :func:`sosfilt_torch`; for moving ones it is
    the direct-form filter (the numpy path's state-variable filter differs while the
    coefficients move fast, tests/test_graph.py measures it on sweeps).

    Args:
        sos: (B, T, 6) one section per sample.
        x: (B, C, T) audio.
    """
    import torch.nn.functional as F
    from torchlpc import sample_wise_lpc

    batch, channels, length = x.shape
    sos = sos.to(x.dtype)
    b = sos[..., :3][:, None]  # (B, 1, T, 3)
    padded = F.pad(x, (2, 0))
    fir = b[..., 0] * x + b[..., 1] * padded[..., 1:-1] + b[..., 2] * padded[..., :-2]
    coeffs = sos[..., 4:].repeat_interleave(channels, 0)  # (B*C, T, 2)
    return sample_wise_lpc(fir.reshape(batch * channels, length), coeffs).reshape(batch, channels, length)


# -- torch: frequency-sampled FIR (fast training mode) --------------------------------
FIR_TAIL_DB = -100.0  # the sampled impulse response keeps everything above this level


def fir_size(length: int) -> int:
    """The power of two >= 2 * length (the longest FIR the FSM mode ever samples)."""
    return 1 << max(1, (2 * max(length, 1) - 1).bit_length())


def fir_taps(sos: Any, length: int) -> int:
    """Number of taps at which the cascade's impulse response has decayed by FIR_TAIL_DB.

    From the largest pole radius r of the sections: r^n = 10^(FIR_TAIL_DB/20). Rounded up to
    a power of two, at least 1024 and at most :func:`fir_size` of the signal.
    """
    a = np.asarray(sos[..., 4:].detach().cpu(), dtype=np.float64).reshape(-1, 2)
    disc = a[:, 0] ** 2 - 4 * a[:, 1]
    root = np.sqrt(np.abs(disc))
    radius = np.where(disc < 0, np.sqrt(np.abs(a[:, 1])), np.maximum(np.abs(-a[:, 0] + root), np.abs(-a[:, 0] - root)) / 2)
    r = float(np.clip(radius.max(), 1e-6, 1 - 1e-12))
    decay = FIR_TAIL_DB / 20 * math.log(10) / math.log(r)
    return int(min(fir_size(length), max(1024, 1 << int(math.ceil(decay)).bit_length())))


def sos_response_torch(sos: Any, n_fft: int) -> Any:
    """Complex response H(e^{jw}) of the cascade at the rfft bins, shape (B, n_fft//2+1)."""
    import torch

    w = torch.arange(n_fft // 2 + 1, dtype=sos.dtype, device=sos.device) * (2 * math.pi / n_fft)
    z1 = torch.polar(torch.ones_like(w), -w)
    z2 = z1 * z1
    num = sos[..., 0, None] + sos[..., 1, None] * z1 + sos[..., 2, None] * z2
    den = 1 + sos[..., 4, None] * z1 + sos[..., 5, None] * z2
    return (num / den).prod(dim=-2)


@njit(cache=True)
def _impulse_response_kernel(sos, signals):  # pragma: no cover - compiled
    """Run the impulse signals[:, 0] through each section s of sos (B, S, 6) in turn, writing
    its output to signals[:, s + 1] (direct form I, float64; the adjoint reads them all)."""
    batch, sections, _ = sos.shape
    length = signals.shape[2]
    for b in range(batch):
        for s in range(sections):
            b0, b1, b2, a1, a2 = sos[b, s, 0], sos[b, s, 1], sos[b, s, 2], sos[b, s, 4], sos[b, s, 5]
            u1 = u2 = v1 = v2 = 0.0
            for n in range(length):
                u = signals[b, s, n]
                v = b0 * u + b1 * u1 + b2 * u2 - a1 * v1 - a2 * v2
                signals[b, s + 1, n] = v
                u2, u1, v2, v1 = u1, u, v1, v


@njit(cache=True)
def _impulse_response_adjoint_kernel(sos, signals, grad_h, grad_sos):  # pragma: no cover - compiled
    """Adjoint of :func:`_impulse_response_kernel`, section by section from the last: the
    output gradient g, filtered backwards in time by the section's poles, gives
    w[n] = g[n] - a1 w[n+1] - a2 w[n+2] = dL/d(feed-forward part at n); then
    dL/db_k = sum w[n] u[n-k], dL/da_k = -sum w[n] v[n-k] and the input gradient
    dL/du[m] = sum_k b_k w[m+k] becomes g for the section before."""
    batch, sections, _ = sos.shape
    length = signals.shape[2]
    g = np.empty(length)
    w = np.empty(length)
    for b in range(batch):
        g[:] = grad_h[b]
        for s in range(sections - 1, -1, -1):
            b0, b1, b2, a1, a2 = sos[b, s, 0], sos[b, s, 1], sos[b, s, 2], sos[b, s, 4], sos[b, s, 5]
            w1 = w2 = 0.0
            db0 = db1 = db2 = da1 = da2 = 0.0
            for n in range(length - 1, 1, -1):
                wn = g[n] - a1 * w1 - a2 * w2
                w[n] = wn
                db0 += wn * signals[b, s, n]
                db1 += wn * signals[b, s, n - 1]
                db2 += wn * signals[b, s, n - 2]
                da1 -= wn * signals[b, s + 1, n - 1]
                da2 -= wn * signals[b, s + 1, n - 2]
                w2, w1 = w1, wn
            for n in range(min(1, length - 1), -1, -1):  # the first two samples: no n-2 (or n-1) term
                wn = g[n] - a1 * w1 - a2 * w2
                w[n] = wn
                db0 += wn * signals[b, s, n]
                if n == 1:
                    db1 += wn * signals[b, s, 0]
                    da1 -= wn * signals[b, s + 1, 0]
                w2, w1 = w1, wn
            grad_sos[b, s, 0], grad_sos[b, s, 1], grad_sos[b, s, 2] = db0, db1, db2
            grad_sos[b, s, 4], grad_sos[b, s, 5] = da1, da2
            if s > 0:
                for m in range(length):
                    gm = b0 * w[m]
                    if m + 1 < length:
                        gm += b1 * w[m + 1]
                    if m + 2 < length:
                        gm += b2 * w[m + 2]
                    g[m] = gm


@functools.cache
def _impulse_response_function():
    import torch

    class ImpulseResponse(torch.autograd.Function):
        """The first ``taps`` samples of the cascade's impulse response, (B, S, 6) -> (B, taps):
        numba recursions forward and backward, 1.7x cheaper than sampling the complex response
        on the taps grid and differentiating that with autograd (benchmarks/bench_nodes.py)."""

        @staticmethod
        def forward(ctx, sos, taps):
            coefs = sos.detach().double().contiguous().numpy()
            signals = np.zeros((sos.shape[0], sos.shape[1] + 1, taps))
            signals[:, 0, 0] = 1.0
            _impulse_response_kernel(coefs, signals)
            ctx.state = (coefs, signals)
            return torch.from_numpy(signals[:, -1].copy()).to(sos.dtype)

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad_h):
            coefs, signals = ctx.state
            grad_sos = np.zeros_like(coefs)
            _impulse_response_adjoint_kernel(coefs, signals, grad_h.detach().double().contiguous().numpy(), grad_sos)
            return torch.from_numpy(grad_sos).to(grad_h.dtype), None

    return ImpulseResponse


def sos_impulse_response_torch(sos: Any, taps: int) -> Any:
    """First ``taps`` samples of the impulse response of the cascades ``sos`` (B, S, 6), (B, taps).

    On CPU one autograd node over exact float64 recursions (tested against autograd through
    the frequency-sampled response and gradcheck, tests/test_filters.py); elsewhere the
    response sampled on the taps grid, whose tail wraps around instead of being cut (both below
    FIR_TAIL_DB when ``taps`` comes from :func:`fir_taps`).
    """
    import torch

    if sos.device.type == "cpu" and sos.dtype in (torch.float32, torch.float64) and sos.ndim == 3:
        return _impulse_response_function().apply(sos, taps)
    return torch.fft.irfft(sos_response_torch(sos, taps), n=taps)


def sosfilt_fsm_torch(sos: Any, x: Any) -> Any:
    """Frequency-sampled FIR approximation of :func:`sosfilt_torch`.

    The cascade's impulse response is cut after :func:`fir_taps` samples (where it has
    decayed by 100 dB) and applied with one FFT convolution. Approximation: the tail below
    -100 dB is dropped; measured against the exact IIR below -80 dB on music
    (tests/test_filters.py).
    """
    length = x.shape[-1]
    sos = sos.to(x.dtype)
    h = sos_impulse_response_torch(sos, fir_taps(sos, length))  # (B, taps)
    return convolve_torch(x, h[:, None, :], length)


def sos_response_numpy(sos: np.ndarray, freqs_hz: np.ndarray, sample_rate: int) -> np.ndarray:
    """Complex response of a cascade (S, 6) at ``freqs_hz`` (used by reports)."""
    z1 = np.exp(-2j * np.pi * np.asarray(freqs_hz) / sample_rate)
    h = np.ones_like(z1)
    for b0, b1, b2, _, a1, a2 in np.asarray(sos, dtype=np.float64):
        h = h * (b0 + b1 * z1 + b2 * z1**2) / (1 + a1 * z1 + a2 * z1**2)
    return h
