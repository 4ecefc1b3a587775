"""Memoryless distortion: the parametric clipper and polynomial waveshapers of Peladeau &
Peeters (ICASSP 2024, eq. 1-7), hard clip, tanh overdrive and a bit crusher (numpy only).
"""

from __future__ import annotations

import numpy as np

from ..spec import EffectSpec, Param, Strength
from .base import Effect, batch_param, keyword_signature

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


# -- the clipper's three curves, written once for numpy and torch ---------------------
def _tanh(u):
    return np.tanh(u) if isinstance(u, np.ndarray) else u.tanh()


def _clamp(u, lo, hi):
    return np.clip(u, lo, hi) if isinstance(u, np.ndarray) else u.clamp(lo, hi)


CUBIC_EDGE = 1.5  # x - 4x^3/27 reaches its maximum 1 (slope 0) at |x| = 1.5
CUBIC_COEF = 4.0 / 27.0


def cubic_curve(u):
    """x - 4x^3/27 on |x| <= 1.5, +/-1 beyond (C1-continuous at the joint)."""
    v = _clamp(u, -CUBIC_EDGE, CUBIC_EDGE)
    return v - CUBIC_COEF * (v * v * v)


def hard_curve(u):
    return _clamp(u, -1.0, 1.0)


def blend_weights(hardness):
    """Weights of (tanh, cubic, hard) for a hardness in [0, 2] (eq. 4 as one formula):
    hardness h <= 1 gives (1 - h, h, 0), h > 1 gives (0, 2 - h, h - 1)."""
    if isinstance(hardness, (float, int)):
        return max(1.0 - hardness, 0.0), 1.0 - abs(1.0 - hardness), max(hardness - 1.0, 0.0)
    return (1.0 - hardness).clamp(min=0.0), 1.0 - (1.0 - hardness).abs(), (hardness - 1.0).clamp(min=0.0)


def clipper_curve(u, hardness):
    """The blended curve f_h(u); curves with a zero (Python float) weight are skipped."""
    out = None
    for weight, curve in zip(blend_weights(hardness), (_tanh, cubic_curve, hard_curve)):
        if isinstance(weight, float) and weight == 0.0:
            continue
        term = weight * curve(u)
        out = term if out is None else out + term
    return out


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
    global _CLIPPER
    if _CLIPPER is None:
        _CLIPPER = _clipper_function()
    return _CLIPPER.apply(x, 10.0 ** (drive_db / 20.0), offset, hardness)


_CLIPPER = None


def _clipper_function():
    """The torch clipper as one autograd node with a hand-written backward.

    Why: as a composed graph the blend keeps some fifteen signal-sized temporaries and autograd
    walks each of them; here the forward keeps the four curve values it needs and the backward
    is one slope and four dot products (about 1.5-2x faster forward + backward on 8 x 5 s).
    tests/test_distortion.py checks it against the composed graph and gradcheck.
    """
    import torch

    def dot(a, b):  # per item sum of a * b without a temporary
        return torch.einsum("bct,bct->b", a, b)

    class ClipperFunction(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, g, o, h):
            w0, w1, w2 = (batch_param(w) for w in blend_weights(h))
            u = torch.addcmul(batch_param(o), batch_param(g), x)
            t = u.tanh()
            v = u.clamp(-CUBIC_EDGE, CUBIC_EDGE)
            v2 = v * v
            c = v * (1.0 - CUBIC_COEF * v2)
            k = u.clamp(-1.0, 1.0)
            y = w0 * t
            y.addcmul_(w1, c).addcmul_(w2, k).sub_(batch_param(clipper_curve(o, h))).div_(batch_param(g))
            ctx.save_for_backward(x, g, o, h, u, t, v2, c, k, y)
            return y

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad_y):
            x, g, o, h, u, t, v2, c, k, y = ctx.saved_tensors
            w0, w1, w2 = blend_weights(h)
            # f'(u) = w0 (1 - t^2) + w1 (1 - 3 v^2 4/27) + w2 [|u| <= 1]; the cubic's slope is 0 beyond |u| = 1.5 by itself
            slope = (t * t).mul_(batch_param(-w0)).add_(batch_param(w0 + w1))
            slope.addcmul_(v2, batch_param(-3.0 * CUBIC_COEF * w1)).addcmul_((u.abs() <= 1.0).to(u.dtype), batch_param(w2))
            grad_x = grad_y * slope
            with torch.enable_grad():  # the bias f(o) is per item: let autograd do its few scalars
                o_, h_ = o.detach().requires_grad_(), h.detach().requires_grad_()
                bias_do, bias_dh = torch.autograd.grad(clipper_curve(o_, h_).sum(), (o_, h_))
            # d weights / dh with torch's conventions at the kinks (clamp passes its bound, |.|' = 0 at 0)
            d0, d1, d2 = -(h <= 1.0).to(h.dtype), torch.sign(1.0 - h), (h >= 1.0).to(h.dtype)
            total = grad_y.sum((1, 2))
            # y = (f(g x + o) - f(o)) / g
            grad_g = (dot(grad_x, x) - dot(grad_y, y)) / g
            grad_o = (grad_x.sum((1, 2)) - total * bias_do) / g
            grad_h = (d0 * dot(grad_y, t) + d1 * dot(grad_y, c) + d2 * dot(grad_y, k) - total * bias_dh) / g
            return grad_x, grad_g, grad_o, grad_h

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


EFFECTS = (
    Effect(CLIPPER, clipper_numpy, clipper_torch, aliases=("dist", "distortion")),
    Effect(HARD_CLIP, hard_clip_numpy, hard_clip_torch),
    Effect(TANH_OVERDRIVE, tanh_overdrive_numpy, tanh_overdrive_torch, aliases=("overdrive",)),
    Effect(TAYLOR, *_poly_kernels(taylor_series)),
    Effect(CHEBYSHEV, *_poly_kernels(chebyshev_series)),
    Effect(BITCRUSHER, bitcrusher_numpy, None),
)
