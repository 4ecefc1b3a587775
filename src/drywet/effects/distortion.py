"""Memoryless distortion: the parametric clipper and polynomial waveshapers of Peladeau &
Peeters (ICASSP 2024, eq. 1-7), hard clip, tanh overdrive and a bit crusher (numpy only).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from ..dsp.waveshapers import CUBIC_COEF, CUBIC_EDGE, blend_weights, clipper_curve, cubic_curve, hard_curve  # noqa: F401
from ..spec import EffectSpec, Param, Strength
from . import distortion_inverse as inv
from .base import Effect, StaticCurve, batch_param, keyword_signature

NUM_POLY_COEFFS = 24  # H in the paper

CLIPPER = EffectSpec(
    "clipper",
    "Parametric clipper: hardness blends tanh (0), cubic (1) and hard (2) clipping; "
    "y = (f(g x + o) - f(o)) / g removes the DC the offset adds.",
    (
        Param("drive_db", "dB", -10.0, 20.0, 0.0, doc="input gain g before the curve"),
        Param("offset", "", 0.0, 1.0, 0.0, doc="bias o before the curve (asymmetry, even harmonics)"),
        Param("hardness", "", 0.0, 2.0, 0.0, doc="0 tanh, 1 cubic, 2 hard clip, linear blend between"),
    ),
    category="distortion",
    strength=Strength("drive_db", -10.0, 20.0),
)

HARD_CLIP = EffectSpec(
    "hard_clip",
    "Hard clipping at +/- threshold.",
    (Param("threshold_db", "dB", -40.0, 0.0, 0.0, curve=True, doc="clip level re full scale"),),
    category="distortion",
    strength=Strength("threshold_db", 0.0, -40.0),
)

TANH_OVERDRIVE = EffectSpec(
    "tanh_overdrive",
    "y = tanh(10^(drive_db/20) x), the curve of pedalboard's Distortion.",
    (Param("drive_db", "dB", 0.0, 50.0, 12.0, curve=True, doc="gain before tanh"),),
    category="distortion",
    strength=Strength("drive_db", 0.0, 50.0),
)


def _poly_spec(name: str, doc: str) -> EffectSpec:
    return EffectSpec(
        name,
        doc,
        tuple(
            Param(f"c{h}", "", -1.0, 1.0, 1.0 if h == 1 else 0.0, doc=f"coefficient of order {h}")
            for h in range(1, NUM_POLY_COEFFS + 1)
        ),
        category="distortion",
    )


TAYLOR = _poly_spec("taylor_waveshaper", "Taylor polynomial y = sum_h c_h u^h, u = clip(x, -1, 1) (eq. 5-6).")
CHEBYSHEV = _poly_spec("chebyshev_waveshaper", "Chebyshev series y = sum_h c_h T_h(u), u = clip(x, -1, 1) (eq. 7).")

BITCRUSHER = EffectSpec(
    "bitcrusher",
    "Bit-depth reduction (rounding) and sample-rate reduction by sample-and-hold.",
    (
        Param("bit_depth", "bit", 2.0, 24.0, 16.0, integer=True, doc="bits of the quantizer (rounded)"),
        Param("downsample", "", 1.0, 32.0, 1.0, "log", integer=True, doc="hold every sample this many times"),
    ),
    category="distortion",
    differentiable=False,
    strength=Strength("bit_depth", 24.0, 2.0),
)


def _clipper_curve_inplace(u, hardness):
    """numpy :func:`clipper_curve` for a float ``hardness``, reusing ``u`` and each curve's
    output: every fresh signal-sized array costs page faults (about 3 ms per 20 MB here), more
    than the arithmetic."""
    w_tanh, w_cubic, w_hard = blend_weights(float(hardness))
    out = np.tanh(u) if w_tanh else None
    if out is not None and w_tanh != 1.0:
        out *= w_tanh
    if w_cubic:
        v = np.clip(u, -CUBIC_EDGE, CUBIC_EDGE)
        cube = v * v
        cube *= v
        cube *= CUBIC_COEF
        v -= cube  # v - 4 v^3 / 27
        if w_cubic != 1.0:
            v *= w_cubic
        out = v if out is None else np.add(out, v, out=out)
    if w_hard:
        k = np.clip(u, -1.0, 1.0, out=u)  # u is ours and not needed after this
        if w_hard != 1.0:
            k *= w_hard
        out = k if out is None else np.add(out, k, out=out)
    return out


def clipper_numpy(x, *, sample_rate, drive_db, offset, hardness):
    g = 10.0 ** (drive_db / 20.0)
    bias = float(clipper_curve(np.asarray([offset], dtype=np.float64), hardness)[0])
    u = x * np.asarray(g, x.dtype)
    u += np.asarray(offset, x.dtype)
    y = _clipper_curve_inplace(u, hardness)
    y -= np.asarray(bias, x.dtype)
    y *= np.asarray(1.0 / g, x.dtype)
    return y


def clipper_torch(x, *, sample_rate, drive_db, offset, hardness):
    import torch

    g = 10.0 ** (drive_db / 20.0)
    on_cpu = x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64)
    return _clipper_function(on_cpu).apply(x, g, offset, hardness)


@njit(cache=True)
def _clipper_forward_kernel(x, t, gain, offset, w_tanh, w_cubic, w_hard, bias, y):  # pragma: no cover - compiled
    """y = (f(g x + o) - f(o)) / g from t = tanh(g x + o) (torch's SIMD tanh); the cubic and
    hard curves and the blend in one pass."""
    batch, channels, length = x.shape
    for b in range(batch):
        g, o, a0, a1, a2, f0 = gain[b], offset[b], w_tanh[b], w_cubic[b], w_hard[b], bias[b]
        inv = 1.0 / g
        for ch in range(channels):
            for n in range(length):
                u = o + g * x[b, ch, n]
                v = min(max(u, -CUBIC_EDGE), CUBIC_EDGE)
                k = min(max(u, -1.0), 1.0)
                y[b, ch, n] = (a0 * t[b, ch, n] + a1 * v * (1.0 - CUBIC_COEF * v * v) + a2 * k - f0) * inv


# Reassociation lets LLVM vectorize the seven sums; NaN/Inf semantics are kept.
@njit(cache=True, fastmath={"reassoc", "nsz", "contract"})
def _clipper_backward_kernel(grad_y, x, t, y, gain, offset, w_tanh, w_cubic, w_hard, grad_x, sums):  # pragma: no cover
    """grad_x = grad_y f'(u) and, per item, the seven sums the parameter gradients need:
    <grad_x, x>, <grad_y, y>, sum grad_x, sum grad_y, <grad_y, tanh>, <grad_y, cubic>, <grad_y, hard>.
    f'(u) = w0 (1 - t^2) + w1 (1 - 3 (4/27) v^2) + w2 [|u| <= 1]; the cubic's slope is 0 beyond
    |u| = 1.5 by itself; the masks follow torch's clamp (the bound itself passes)."""
    batch, channels, length = x.shape
    for b in range(batch):
        g, o, a0, a1, a2 = gain[b], offset[b], w_tanh[b], w_cubic[b], w_hard[b]
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = 0.0
        for ch in range(channels):
            for n in range(length):
                gy = grad_y[b, ch, n]
                xv = x[b, ch, n]
                u = o + g * xv
                tv = t[b, ch, n]
                v = min(max(u, -CUBIC_EDGE), CUBIC_EDGE)
                k = min(max(u, -1.0), 1.0)
                slope = a0 * (1.0 - tv * tv) + a1 * (1.0 - 3.0 * CUBIC_COEF * v * v) + (a2 if abs(u) <= 1.0 else 0.0)
                gx = gy * slope
                grad_x[b, ch, n] = gx
                s0 += gx * xv
                s1 += gy * y[b, ch, n]
                s2 += gx
                s3 += gy
                s4 += gy * tv
                s5 += gy * v * (1.0 - CUBIC_COEF * v * v)
                s6 += gy * k
        sums[b, 0], sums[b, 1], sums[b, 2], sums[b, 3] = s0, s1, s2, s3
        sums[b, 4], sums[b, 5], sums[b, 6] = s4, s5, s6


@functools.cache
def _clipper_function(on_cpu: bool):
    """The torch clipper as one autograd node with a hand-written backward.

    Why: as a composed graph the blend keeps some fifteen signal-sized temporaries and autograd
    walks each of them. On CPU torch computes tanh (SIMD) and two numba passes do the rest:
    the forward keeps only x, tanh and y, the backward is one pass for the slope and the seven
    per-item sums (16 against 28 ms forward + backward on 8 x 5 s, benchmarks/bench_nodes.py). Elsewhere the same node runs as
    torch ops. tests/test_distortion.py checks both against the composed graph and gradcheck.
    """
    import torch

    def dot(a, b):  # per item sum of a * b without a temporary
        return torch.einsum("bct,bct->b", a, b)

    def per_item(*tensors):
        return [t.detach().double().contiguous().numpy() for t in tensors]

    def parameter_grads(g, o, h, sums):
        """From the per-item sums (B, 7) to the gradients of g, o and h: y = (f(g x + o) - f(o)) / g."""
        gx_x, gy_y, gx_sum, gy_sum, gy_t, gy_c, gy_k = sums.unbind(1)
        with torch.enable_grad():  # the bias f(o) is per item: let autograd do its few scalars
            o_, h_ = o.detach().requires_grad_(), h.detach().requires_grad_()
            bias_do, bias_dh = torch.autograd.grad(clipper_curve(o_, h_).sum(), (o_, h_))
        # d weights / dh with torch's conventions at the kinks (clamp passes its bound, |.|' = 0 at 0)
        d0, d1, d2 = -(h <= 1.0).to(h.dtype), torch.sign(1.0 - h), (h >= 1.0).to(h.dtype)
        grad_g = (gx_x - gy_y) / g
        grad_o = (gx_sum - gy_sum * bias_do) / g
        grad_h = (d0 * gy_t + d1 * gy_c + d2 * gy_k - gy_sum * bias_dh) / g
        return grad_g, grad_o, grad_h

    class ClipperFunction(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, g, o, h):
            if on_cpu:
                x = x.contiguous()
                t = torch.addcmul(batch_param(o), batch_param(g), x).tanh_()
                y = torch.empty(x.shape, dtype=x.dtype)
                _clipper_forward_kernel(x.numpy(), t.numpy(), *per_item(g, o, *blend_weights(h), clipper_curve(o, h)), y.numpy())
                ctx.save_for_backward(x, g, o, h, t, y)
                return y
            w0, w1, w2 = (batch_param(w) for w in blend_weights(h))
            u = torch.addcmul(batch_param(o), batch_param(g), x)
            t = u.tanh()
            v = u.clamp(-CUBIC_EDGE, CUBIC_EDGE)
            v2 = v * v
            c = v * (1.0 - CUBIC_COEF * v2)
            k = u.clamp(-1.0, 1.0)
            y = w0 * t
            y.addcmul_(w1, c).addcmul_(w2, k).sub_(batch_param(clipper_curve(o, h))).div_(batch_param(g))
            ctx.save_for_backward(x, g, o, h, t, y, u, v2, c, k)
            return y

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad_y):
            if on_cpu:
                x, g, o, h, t, y = ctx.saved_tensors
                grad_x = torch.empty(x.shape, dtype=x.dtype)
                sums = torch.empty(x.shape[0], 7, dtype=torch.float64)
                _clipper_backward_kernel(grad_y.contiguous().numpy(), x.numpy(), t.numpy(), y.numpy(), *per_item(g, o, *blend_weights(h)),
                                         grad_x.numpy(), sums.numpy())
                return (grad_x, *(grad.to(g.dtype) for grad in parameter_grads(g, o, h, sums)))
            x, g, o, h, t, y, u, v2, c, k = ctx.saved_tensors
            w0, w1, w2 = blend_weights(h)
            slope = (t * t).mul_(batch_param(-w0)).add_(batch_param(w0 + w1))
            slope.addcmul_(v2, batch_param(-3.0 * CUBIC_COEF * w1)).addcmul_((u.abs() <= 1.0).to(u.dtype), batch_param(w2))
            grad_x = grad_y * slope
            sums = torch.stack([dot(grad_x, x), dot(grad_y, y), grad_x.sum((1, 2)), grad_y.sum((1, 2)),
                                dot(grad_y, t), dot(grad_y, c), dot(grad_y, k)], dim=1)
            return (grad_x, *parameter_grads(g, o, h, sums))

    return ClipperFunction


def hard_clip_numpy(x, *, sample_rate, threshold_db):
    t = 10.0 ** (threshold_db / 20.0)
    return np.clip(x, -t, t)


def hard_clip_torch(x, *, sample_rate, threshold_db):
    import torch

    t = batch_param(10.0 ** (threshold_db / 20.0))
    return torch.minimum(torch.maximum(x, -t), t)


def tanh_overdrive_numpy(x, *, sample_rate, drive_db):
    return np.tanh(x * 10.0 ** (drive_db / 20.0))


def tanh_overdrive_torch(x, *, sample_rate, drive_db):
    return (x * batch_param(10.0 ** (drive_db / 20.0))).tanh()


def taylor_series(u, coeffs):
    """Horner evaluation of sum_h c_h u^h, h = 1..H (``coeffs`` in order 1..H)."""
    acc = coeffs[-1] * u
    for c in reversed(coeffs[:-1]):
        acc = (acc + c) * u
    return acc


def chebyshev_series(u, coeffs):
    """sum_h c_h T_h(u), h = 1..H, with the recurrence T_{h+1} = 2u T_h - T_{h-1}."""
    t_prev, t_cur = u * 0 + 1, u
    acc = coeffs[0] * t_cur
    for c in coeffs[1:]:
        t_prev, t_cur = t_cur, 2 * u * t_cur - t_prev
        acc = acc + c * t_cur
    return acc


def _poly_kernels(series):
    def numpy_kernel(x, *, sample_rate, **coeffs):
        u = np.clip(x.astype(np.float64), -1.0, 1.0)
        return series(u, [coeffs[f"c{h}"] for h in range(1, NUM_POLY_COEFFS + 1)])

    def torch_kernel(x, *, sample_rate, **coeffs):
        u = x.clamp(-1.0, 1.0)
        return series(u, [batch_param(coeffs[f"c{h}"]) for h in range(1, NUM_POLY_COEFFS + 1)])

    names = tuple(f"c{h}" for h in range(1, NUM_POLY_COEFFS + 1))
    return keyword_signature(numpy_kernel, names, ()), keyword_signature(torch_kernel, names, ())


def bitcrusher_numpy(x, *, sample_rate, bit_depth, downsample):
    steps = 2.0 ** (round(bit_depth) - 1)
    y = np.round(x * steps) / steps
    hold = int(round(downsample))
    if hold > 1:
        y = np.repeat(y[..., ::hold], hold, axis=-1)[..., : x.shape[-1]]
    return y


# -- static (transfer) curves, for reports and the hook test ----------------------------------
def _clipper_transfer(p, u):
    g = 10.0 ** (p["drive_db"] / 20.0)
    return (clipper_curve(u * g + p["offset"], p["hardness"]) - clipper_curve(np.array([p["offset"]]), p["hardness"])[0]) / g


def _poly_transfer(series):
    return lambda p, u: series(np.clip(u, -1.0, 1.0), [p[f"c{h}"] for h in range(1, NUM_POLY_COEFFS + 1)])


def _bitcrusher_transfer(p, u):
    steps = 2.0 ** (round(p["bit_depth"]) - 1)
    return np.round(u * steps) / steps


EFFECTS = (
    Effect(CLIPPER, clipper_numpy, clipper_torch, aliases=("dist", "distortion"),
           static_curve=StaticCurve(_clipper_transfer, "amplitude"), inverse=inv.clipper_inverse,
           consistent=inv.consistent_clipper),
    Effect(HARD_CLIP, hard_clip_numpy, hard_clip_torch, inverse=inv.hard_clip_inverse,
           static_curve=StaticCurve(lambda p, u: np.clip(u, -(t := 10.0 ** (p["threshold_db"] / 20.0)), t), "amplitude")),
    Effect(TANH_OVERDRIVE, tanh_overdrive_numpy, tanh_overdrive_torch, aliases=("overdrive",), inverse=inv.tanh_overdrive_inverse,
           static_curve=StaticCurve(lambda p, u: np.tanh(u * 10.0 ** (p["drive_db"] / 20.0)), "amplitude")),
    Effect(TAYLOR, *_poly_kernels(taylor_series), static_curve=StaticCurve(_poly_transfer(taylor_series), "amplitude")),
    Effect(CHEBYSHEV, *_poly_kernels(chebyshev_series), static_curve=StaticCurve(_poly_transfer(chebyshev_series), "amplitude")),
    Effect(BITCRUSHER, bitcrusher_numpy, None, static_curve=StaticCurve(_bitcrusher_transfer, "amplitude")),
)
