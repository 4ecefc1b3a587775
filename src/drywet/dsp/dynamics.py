"""Dynamics building blocks after Giannoulis, Massberg & Reiss, "Digital Dynamic Range
Compressor Design - A Tutorial and Analysis", JAES 60(6), 2012.

Signal flow (feed-forward, log domain, stereo-linked):
    level_db = 20 log10(max_c |x_c|)           peak level, linked over channels
    red_db   = gain_computer(level_db)         static curve, >= 0 dB of gain reduction
    smooth   = smooth branching peak detector  attack when reduction rises, release when it falls
    y        = x * 10^((makeup_db - smooth)/20)

The smoothing recursion is ``s[n] = s[n-1] + c[n] (r[n] - s[n-1])`` with
``c = 1 - exp(-1 / (tau * sample_rate))`` (attack or release constant). Numpy runs it in a
numba kernel; the torch smoother on CPU is one autograd node over the same kernel with its
reverse-time adjoint (exact gradients for the input and both time constants, as torchcomp's
``compressor_core``, which the twin uses on other devices and which the tests compare against).
The torch compressor on CPU goes further: the whole flow above is one node whose backward is a
single reverse pass (:func:`compress_torch`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

LEVEL_FLOOR_DB = -120.0
_KNEE_EPS = 1e-6


def time_to_coef(time_ms: Any, sample_rate: int) -> Any:
    """One-pole smoothing coefficient ``c = 1 - exp(-1/(tau fs))`` for a time constant."""
    tau = time_ms * (sample_rate / 1000.0)
    if isinstance(tau, float):
        return 1.0 - math.exp(-1.0 / tau)
    return 1.0 - (-1.0 / tau).exp()


def compressor_curve(level_db: Any, threshold_db: Any, ratio: Any, knee_db: Any, xp: Any = np) -> Any:
    """Gain reduction (dB, >= 0) of the soft-knee compressor, Giannoulis eq. (4).

    Written without branches: with o = level - threshold and half knee h = W/2,
    ``slope * ((clip(o, -h, h) + h)^2 / (2W) + max(o - h, 0))`` is 0 below the knee, the
    quadratic inside it and ``slope * o`` above it (the quadratic reaches h at the top).
    ``ratio=inf`` (slope 1) gives a limiter. Works on floats, numpy arrays and tensors.
    """
    slope = 1.0 - 1.0 / ratio
    over = level_db - threshold_db
    if xp is np:  # Python-float scalars keep float32 audio in float32 (NumPy's weak scalars)
        half = max(float(knee_db), _KNEE_EPS) / 2.0
        inside = np.clip(over, -half, half) + half
        return (inside * inside * (1.0 / (4.0 * half)) + np.maximum(over - half, 0.0)) * float(slope)
    half = knee_db.clamp(min=_KNEE_EPS) / 2.0
    inside = xp.clamp(over, -half, half) + half
    return slope * (inside.square() / (4.0 * half) + (over - half).clamp(min=0.0))


def expander_curve(level_db: Any, threshold_db: Any, ratio: Any, range_db: Any, xp: Any = np) -> Any:
    """Gain reduction (dB, >= 0) of a downward expander, capped at ``range_db``."""
    below = (threshold_db - level_db) * (ratio - 1.0)
    if xp is np:
        return np.clip(below, 0.0, range_db)
    return xp.minimum(below.clamp(min=0.0), range_db * xp.ones_like(below))


def linked_level_db(x: Any, xp: Any = np) -> Any:
    """Peak level in dB linked over channels: (B, C, T) -> (B, T)."""
    if xp is np:  # in place: fresh signal-sized arrays cost more (page faults) than the arithmetic
        peak = np.abs(x[:, 0])
        for c in range(1, x.shape[1]):
            np.maximum(peak, np.abs(x[:, c]), out=peak)
        np.maximum(peak, np.asarray(10.0 ** (LEVEL_FLOOR_DB / 20.0), dtype=x.dtype), out=peak)
        np.log10(peak, out=peak)
        peak *= np.asarray(20.0, x.dtype)
        return peak
    peak = x.abs().amax(dim=1)
    return 20.0 * peak.clamp(min=10.0 ** (LEVEL_FLOOR_DB / 20.0)).log10()


@njit(cache=True)
def _smooth_kernel(target, attack, release, out):  # pragma: no cover - compiled
    """s[n] = s[n-1] + c[n] (r[n] - s[n-1]), c[n] = attack[b] if r[n] > s[n-1] else release[b]."""
    batch, length = target.shape
    for b in range(batch):
        up, down = attack[b], release[b]  # locals: LLVM cannot prove ``out`` does not alias them
        state = 0.0  # float64 even for float32 signals: long releases accumulate tiny steps
        for n in range(length):
            r = target[b, n]
            c = up if r > state else down
            state += c * (r - state)
            out[b, n] = state


@njit(cache=True, inline="always")
def _smoother_adjoint_step(lam, r, prev, up, down):  # pragma: no cover - compiled
    """One sample of the smoother's adjoint: its coefficient (the branch re-derived from the
    saved state) and this sample's share of dL/d(attack) and dL/d(release)."""
    step = lam * (r - prev)
    if r > prev:
        return up, step, 0.0
    return down, 0.0, step


@njit(cache=True)
def _smooth_adjoint_kernel(grad_out, target, smooth, attack, release, grad_target, grad_coefs):  # pragma: no cover
    """Reverse-time adjoint of :func:`_smooth_kernel`: with lam[n] = dL/ds[n] (through all later
    samples), dL/dr[n] = c[n] lam[n], dL/dc[n] = lam[n] (r[n] - s[n-1]) summed per branch, and
    lam[n-1] = grad_out[n-1] + (1 - c[n]) lam[n]. The branch is re-derived from the saved s."""
    batch, length = target.shape
    for b in range(batch):
        up, down = attack[b], release[b]
        carry = 0.0
        sum_attack = 0.0
        sum_release = 0.0
        for n in range(length - 1, -1, -1):
            lam = grad_out[b, n] + carry
            prev = smooth[b, n - 1] if n > 0 else 0.0
            c, d_attack, d_release = _smoother_adjoint_step(lam, target[b, n], prev, up, down)
            sum_attack += d_attack
            sum_release += d_release
            grad_target[b, n] = c * lam
            carry = (1.0 - c) * lam
        grad_coefs[b, 0] = sum_attack
        grad_coefs[b, 1] = sum_release


@njit(cache=True)
def _curve_smooth_kernel(level_db, threshold_db, slope, half, attack, release, out):  # pragma: no cover - compiled
    """:func:`compressor_curve` then :func:`_smooth_kernel` in one pass, per-item parameters
    (B,): the static curve is a few multiply-adds per sample, cheaper inside the recursion's
    loop than as separate array passes."""
    batch, length = level_db.shape
    for b in range(batch):
        thr, s, h, up, down = threshold_db[b], slope[b], half[b], attack[b], release[b]
        inv = 1.0 / (4.0 * h)
        state = 0.0
        for n in range(length):
            over = level_db[b, n] - thr
            inside = min(max(over, -h), h) + h
            r = s * (inside * inside * inv + max(over - h, 0.0))
            c = up if r > state else down
            state += c * (r - state)
            out[b, n] = state


_DB_PER_NEPER = 20.0 / math.log(10.0)  # d(20 log10 p)/dp = _DB_PER_NEPER / p
_NEPER_PER_DB = 1.0 / _DB_PER_NEPER  # gain = exp(_NEPER_PER_DB * (makeup_db - smooth_db))


@njit(cache=True)
def _compressor_adjoint_kernel(grad_y, x, peak, level_db, smooth, gain, threshold_db, slope, half, attack, release,
                               floor, grad_x, grad_params):  # pragma: no cover - compiled
    """Reverse-time adjoint of the whole compressor y = x exp(k (makeup - smooth(curve(level(x))))).

    One pass per item from the last sample: the output gradient gives dL/d(log gain), the
    smoother's adjoint carries lam = dL/ds backwards (as :func:`_smooth_adjoint_kernel`), the
    curve's slope gives dL/dlevel and the peak detector routes it to the channel(s) holding
    the peak (shared evenly on ties, as torch's amax). grad_params[b] collects the sums for
    threshold, slope, half knee, attack and release coefficients and log-gain (makeup / k).
    """
    batch, channels, length = x.shape
    k = _NEPER_PER_DB
    for b in range(batch):
        thr, s, h, up, down = threshold_db[b], slope[b], half[b], attack[b], release[b]
        inv = 1.0 / (4.0 * h)
        carry = 0.0
        sum_thr = sum_slope = sum_half = sum_attack = sum_release = sum_log_gain = 0.0
        for n in range(length - 1, -1, -1):
            g = gain[b, n]
            d_gain = 0.0
            for ch in range(channels):
                d_gain += grad_y[b, ch, n] * x[b, ch, n]
                grad_x[b, ch, n] = grad_y[b, ch, n] * g
            d_log_gain = g * d_gain
            sum_log_gain += d_log_gain
            lam = carry - k * d_log_gain
            over = level_db[b, n] - thr
            inside = min(max(over, -h), h) + h
            f = inside * inside * inv + max(over - h, 0.0)
            r = s * f
            prev = smooth[b, n - 1] if n > 0 else 0.0
            c, d_attack, d_release = _smoother_adjoint_step(lam, r, prev, up, down)
            sum_attack += d_attack
            sum_release += d_release
            d_r = c * lam
            carry = (1.0 - c) * lam
            sum_slope += d_r * f
            if over > h:  # above the knee: r = s over, independent of the knee width
                d_over = d_r * s
            elif over >= -h:  # inside the knee: r = s (over + h)^2 / (4h)
                d_over = d_r * s * 2.0 * inside * inv
                sum_half += d_r * s * (2.0 * inside * inv - inside * inside * inv / h)
            else:
                continue
            sum_thr -= d_over
            p = peak[b, n]
            if p > floor:
                ties = 0
                for ch in range(channels):
                    if abs(x[b, ch, n]) == p:
                        ties += 1
                share = d_over * _DB_PER_NEPER / (p * ties)
                for ch in range(channels):
                    v = x[b, ch, n]
                    if abs(v) == p:
                        grad_x[b, ch, n] += share if v > 0 else -share
        grad_params[b, 0] = sum_thr
        grad_params[b, 1] = sum_slope
        grad_params[b, 2] = sum_half
        grad_params[b, 3] = sum_attack
        grad_params[b, 4] = sum_release
        grad_params[b, 5] = sum_log_gain


def compressed_reduction_numpy(level_db: np.ndarray, threshold_db: float, ratio: float, knee_db: float,
                               attack_coef: float, release_coef: float) -> np.ndarray:
    """smooth_numpy(compressor_curve(level_db, ...), attack, release) in one pass, in the dtype
    of ``level_db`` (float64 state); ``ratio=inf`` gives the limiter."""
    level = np.ascontiguousarray(level_db)
    out = np.empty_like(level)

    def per_item(value):
        return np.full(level.shape[0], float(value))

    _curve_smooth_kernel(level, per_item(threshold_db), per_item(1.0 - 1.0 / float(ratio)),
                         per_item(max(float(knee_db), _KNEE_EPS) / 2.0), per_item(attack_coef), per_item(release_coef), out)
    return out


def smooth_numpy(reduction_db: np.ndarray, attack_coef: float, release_coef: float) -> np.ndarray:
    """Branching one-pole smoothing of a gain reduction (B, T), starting from 0 dB.

    Runs in the dtype of ``reduction_db`` (float32 or float64) with a float64 state.
    """
    target = np.ascontiguousarray(reduction_db)
    out = np.empty_like(target)
    batch = target.shape[0]
    _smooth_kernel(target, np.full(batch, float(attack_coef)), np.full(batch, float(release_coef)), out)
    return out


def _smoother_function():
    import torch

    class Smoother(torch.autograd.Function):
        """The smoother as one autograd node: numba forward, numba reverse-time adjoint."""

        @staticmethod
        def forward(ctx, target, attack, release):
            out = torch.empty_like(target)
            _smooth_kernel(target.detach().numpy(), attack.detach().double().numpy(), release.detach().double().numpy(),
                           out.numpy())
            ctx.save_for_backward(target, out, attack, release)
            return out

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad_out):
            target, out, attack, release = ctx.saved_tensors
            grad_target = torch.empty_like(target)
            grad_coefs = torch.empty(target.shape[0], 2, dtype=torch.float64)
            _smooth_adjoint_kernel(grad_out.contiguous().numpy(), target.numpy(), out.numpy(), attack.double().numpy(),
                                   release.double().numpy(), grad_target.numpy(), grad_coefs.numpy())
            return grad_target, grad_coefs[:, 0].to(attack.dtype), grad_coefs[:, 1].to(release.dtype)

    return Smoother


def _compressor_function():
    import torch

    class Compressor(torch.autograd.Function):
        """The whole compressor as one autograd node: torch's SIMD log10/exp for level and
        gain, one numba pass for curve + smoothing, one reverse numba pass for every gradient.
        Autograd through the composed ops keeps about fifteen signal-sized temporaries."""

        @staticmethod
        def forward(ctx, x, threshold_db, slope, half, attack, release, makeup_db):
            peak = x.abs().amax(dim=1) if x.shape[1] > 1 else x[:, 0].abs()
            floor = 10.0 ** (LEVEL_FLOOR_DB / 20.0)
            level = peak.clamp(min=floor).log10_().mul_(20.0)
            smooth = torch.empty_like(level)
            params = [t.detach().double().contiguous().numpy() for t in (threshold_db, slope, half, attack, release)]
            _curve_smooth_kernel(level.numpy(), *params, smooth.numpy())
            gain = torch.sub(makeup_db[:, None].to(x.dtype), smooth).mul_(_NEPER_PER_DB).exp_()
            ctx.save_for_backward(x, peak, level, smooth, gain, threshold_db, slope, half, attack, release)
            ctx.floor = floor
            return x * gain[:, None, :]

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad_y):
            x, peak, level, smooth, gain, *params = ctx.saved_tensors
            grad_x = torch.empty(x.shape, dtype=x.dtype)
            sums = torch.empty(x.shape[0], 6, dtype=torch.float64)
            _compressor_adjoint_kernel(grad_y.contiguous().numpy(), x.numpy(), peak.numpy(), level.numpy(), smooth.numpy(),
                                       gain.numpy(), *[t.double().contiguous().numpy() for t in params], ctx.floor,
                                       grad_x.numpy(), sums.numpy())
            dtype = params[0].dtype
            grads = [sums[:, i].to(dtype) for i in range(5)] + [(sums[:, 5] * _NEPER_PER_DB).to(dtype)]
            return (grad_x, *grads)

    return Compressor


_COMPRESSOR = None


def compressor_node_usable(x: Any, *params: Any) -> bool:
    """Whether :func:`compress_torch` can run as one node: CPU float32/float64 tensors of one
    dtype, no gradient of a gradient needed (the node is once-differentiable)."""
    import torch

    return (x.dtype in (torch.float32, torch.float64) and x.device.type == "cpu" and x.ndim == 3
            and all(p.device.type == "cpu" and p.dtype == x.dtype and p.shape == (x.shape[0],) for p in params))


def compress_torch(x: Any, threshold_db: Any, ratio: Any, knee_db: Any, attack_coef: Any, release_coef: Any,
                   makeup_db: Any) -> Any:
    """The compressor's signal flow (module docstring) on (B, C, T) as one CPU autograd node,
    per-item parameters (B,). Equal to autograd through :func:`linked_level_db`,
    :func:`compressor_curve`, :func:`smooth_torch` and the makeup gain (values and every
    gradient, tests/test_dynamics.py::test_fused_compressor_node_matches_composed_graph)."""
    global _COMPRESSOR
    if _COMPRESSOR is None:
        _COMPRESSOR = _compressor_function()
    slope = 1.0 - 1.0 / ratio
    half = knee_db.clamp(min=_KNEE_EPS) / 2.0
    return _COMPRESSOR.apply(x.contiguous(), threshold_db, slope, half, attack_coef, release_coef, makeup_db)


_SMOOTHER = None


def smooth_torch(reduction_db: Any, attack_coef: Any, release_coef: Any) -> Any:
    """Torch twin of :func:`smooth_numpy`, differentiable in the reduction and both per-item
    coefficients (B,). On CPU float tensors one fused node (numba forward and adjoint, float64
    state like numpy); elsewhere torchcomp's ``compressor_core`` (same recursion)."""
    global _SMOOTHER
    import torch

    fused = all(t.device.type == "cpu" and t.dtype == reduction_db.dtype for t in (reduction_db, attack_coef, release_coef))
    if fused and reduction_db.dtype in (torch.float32, torch.float64):
        if _SMOOTHER is None:
            _SMOOTHER = _smoother_function()
        return _SMOOTHER.apply(reduction_db.contiguous(), attack_coef, release_coef)
    from torchcomp import compressor_core

    # torchcomp smooths a gain and attacks when it falls: feed it the negated reduction.
    zi = reduction_db.new_zeros(reduction_db.shape[0])
    return -compressor_core(-reduction_db.contiguous(), zi, attack_coef, release_coef)
