"""One resolution of the MR-STFT loss as a single autograd node, fused on CPU.

Why: written with torch ops, the loss builds a dozen full-size spectrogram temporaries per
resolution (abs, clamp, log, differences, squares) and autograd keeps and walks them all;
that, and the page faults of those large buffers, not the FFT, is where the time goes. Here
each signal row is handled on its own, so every buffer stays small and cache-resident: two
STFTs, one numba pass that accumulates the three sums of the loss and, when the estimate needs
a gradient, a second pass that writes d loss / d STFT in place, an inverse real FFT and an
overlap-add (the adjoint of ``torch.stft`` with center=True and reflect padding, written out).
The x-gradient is therefore computed during the forward pass and only scaled in backward:
the loss is cheap to keep (one signal-sized tensor) and the backward pass is one multiply.

The value and gradient are those of the plain torch graph in :mod:`drywet.metrics.losses`
(same floors, same ``_safe_sqrt``); tests/test_metrics.py checks both.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .spectral import EPS, MAG_FLOOR


@numba.njit(cache=True, fastmath=True)
def _row_loss(est, tgt, floor, eps, want_grad):
    """Spectral convergence + mean |log|T| - log|E||, for one row's spectra laid out
    (frames, bins, re/im); both buffers are overwritten. With ``want_grad``, ``est`` then holds d loss / d STFT,
    halved on the bins that a real inverse FFT counts twice so that irfft(norm="forward")
    is the adjoint of the forward rfft. ``floor`` has the spectra's dtype, so float32 spectra
    are handled in float32 arithmetic like the torch graph (sums across frames in float64)."""
    frames, bins = est.shape[0], est.shape[1]
    d2 = 0.0
    t2 = 0.0
    la = 0.0
    for n in range(frames):
        frame_d2 = floor - floor  # a zero of the spectra's dtype
        frame_t2 = floor - floor
        frame_la = floor - floor
        for k in range(bins):
            raw = math.sqrt(est[n, k, 0] * est[n, k, 0] + est[n, k, 1] * est[n, k, 1])
            mt = max(math.sqrt(tgt[n, k, 0] * tgt[n, k, 0] + tgt[n, k, 1] * tgt[n, k, 1]), floor)
            me = max(raw, floor)
            frame_d2 += (mt - me) * (mt - me)
            frame_t2 += mt * mt
            frame_la += abs(math.log(mt / me))
            tgt[n, k, 0] = mt  # the target spectrum is ours and no longer needed: keep both
            tgt[n, k, 1] = raw  # magnitudes for the gradient pass
        d2 += frame_d2
        t2 += frame_t2
        la += frame_la
    count = frames * bins
    root = math.sqrt(d2 + eps)
    tnorm = math.sqrt(t2)
    loss = (root - math.sqrt(eps)) / tnorm + la / count
    if not want_grad:
        return loss
    # d sc / d|E| = -(|T| - |E|) / (root tnorm); d logmag / d|E| = -sign(|T| - |E|) / (count |E|);
    # both halved for the bins an inverse real FFT counts twice (the two edge bins are doubled back below)
    w_sc = 0.5 / (root * tnorm)
    w_log = 0.5 / count
    for n in range(frames):
        for k in range(bins):
            mt = tgt[n, k, 0]
            raw = tgt[n, k, 1]
            me = max(raw, floor)
            inv = 1.0 / me
            sign = (mt > me) - (mt < me)  # branch-free: this comparison is a coin flip
            g = -w_sc * (mt - me) - sign * w_log * inv
            scale = g * inv if raw >= floor else 0.0  # the floor's clamp passes no gradient
            est[n, k, 0] *= scale  # d|E| / d(re, im) = (re, im) / |E|
            est[n, k, 1] *= scale
        for k in (0, bins - 1):
            est[n, k, 0] *= 2.0
            est[n, k, 1] *= 2.0
    return loss


@numba.njit(cache=True)
def _overlap_add(frames, window, hop, offset, length, out):
    """Adjoint of torch.stft's framing: window each frame (the window sits ``offset`` samples
    into the n_fft frame), add the frames at their hops into the reflect-padded signal, then
    fold the padding back onto the samples it mirrored."""
    n_frames, n_fft = frames.shape
    win = window.shape[0]
    pad = n_fft // 2
    padded = np.zeros(length + 2 * pad, dtype=out.dtype)
    for f in range(n_frames):
        start = f * hop + offset
        for i in range(win):
            padded[start + i] += frames[f, offset + i] * window[i]
    for i in range(length):
        out[i] = padded[pad + i]
    for i in range(pad):  # padded[i] mirrors x[pad - i]; padded[pad + length + i] mirrors x[length - 2 - i]
        out[pad - i] += padded[i]
        out[length - 2 - i] += padded[pad + length + i]


def _spectrum(x, n_fft: int, hop: int, win: int, window):
    """(samples,) -> (frames, bins, 2) real view of torch.stft, which is laid out frame-major already."""
    import torch

    spec = torch.stft(x, n_fft, hop, win, window, center=True, return_complex=True)
    return torch.view_as_real(spec.transpose(0, 1).contiguous())


def _forward(estimate, target, n_fft: int, hop: int, win: int, want_grad: bool):
    """Per-row losses (rows,) and, with ``want_grad``, their x-gradients (rows, samples)."""
    import torch

    window = torch.hann_window(win, dtype=estimate.dtype)
    window_np = window.numpy()
    rows, length = estimate.shape
    losses = torch.empty(rows, dtype=torch.float64)
    grads = torch.empty_like(estimate) if want_grad else None
    floor = np.dtype(window_np.dtype).type(MAG_FLOOR)
    offset = (n_fft - win) // 2  # torch.stft centres a shorter window inside the frame
    for r in range(rows):
        se = _spectrum(estimate[r], n_fft, hop, win, window)
        st = _spectrum(target[r], n_fft, hop, win, window)
        losses[r] = _row_loss(se.numpy(), st.numpy(), floor, EPS, want_grad)
        if want_grad:
            frames = torch.fft.irfft(torch.view_as_complex(se), n=n_fft, dim=-1, norm="forward")
            _overlap_add(frames.numpy(), window_np, hop, offset, length, grads[r].numpy())
    return losses.to(estimate.dtype), grads


def _function():
    import torch

    class SpectralLoss(torch.autograd.Function):
        """(estimate rows, target rows) -> per-row spectral convergence + mean |log mag difference|."""

        @staticmethod
        def forward(ctx, estimate, target, n_fft, hop, win, want_grad):
            loss, grad = _forward(estimate.detach(), target, n_fft, hop, win, want_grad)
            ctx.save_for_backward(grad)
            return loss

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad_loss):
            (grad,) = ctx.saved_tensors
            return grad_loss[:, None] * grad, None, None, None, None, None

    return SpectralLoss


_SPECTRAL_LOSS = None


def spectral_loss(estimate, target, n_fft: int, hop: int, win: int):
    """Per-row spectral convergence + log-magnitude L1 of (rows, samples) CPU tensors;
    differentiable once with respect to ``estimate`` (``target`` is treated as a constant).
    The gradient is computed in the forward pass whenever ``estimate`` requires one."""
    global _SPECTRAL_LOSS
    if _SPECTRAL_LOSS is None:
        _SPECTRAL_LOSS = _function()
    import torch

    # decided here: inside forward grad mode is always off and needs_input_grad ignores no_grad()
    want_grad = torch.is_grad_enabled() and estimate.requires_grad
    return _SPECTRAL_LOSS.apply(estimate.contiguous(), target.detach().contiguous(), n_fft, hop, win, want_grad)


def usable(target, estimate) -> bool:
    """Whether the fused path applies: CPU float tensors of one dtype, a constant target."""
    import torch

    return (estimate.device.type == "cpu" and target.device.type == "cpu" and not target.requires_grad
            and estimate.dtype in (torch.float32, torch.float64) and estimate.dtype == target.dtype)
