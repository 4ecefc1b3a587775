"""Gain, polarity, constant-power pan and mid/side stereo width."""

from __future__ import annotations

import math

import numpy as np

from ..errors import AudioError
from ..spec import EffectSpec, Param
from .base import Effect, batch_param, sample_param

GAIN = EffectSpec(
    name="gain",
    doc="Static gain.",
    category="gain",
    params=(Param("gain_db", "dB", -24.0, 24.0, 0.0, curve=True, doc="gain applied to every channel"),),
)

POLARITY = EffectSpec(
    name="polarity",
    doc="Polarity inversion (invert=1 flips the sign; values between fade through silence).",
    category="gain",
    params=(Param("invert", "", 0.0, 1.0, 0.0, integer=True, doc="1 inverts the polarity"),),
)

PAN = EffectSpec(
    name="pan",
    doc=(
        "Constant-power pan. Mono in -> stereo out (L=cos, R=sin of (pan+1)*pi/4, -3 dB at "
        "center). Stereo in -> balance with the same law scaled to unity at center."
    ),
    category="gain",
    params=(Param("pan", "", -1.0, 1.0, 0.0, curve=True, doc="-1 hard left, 0 center, 1 hard right"),),
)

STEREO_WIDTH = EffectSpec(
    name="stereo_width",
    doc="Mid/side width: side signal scaled by width (0 mono, 1 unchanged, 2 twice as wide). Mono in: unchanged.",
    category="gain",
    params=(Param("width", "", 0.0, 2.0, 1.0, curve=True, doc="side gain (linear)"),),
)


def db_to_amp(db):
    return 10.0 ** (db / 20.0)


def gain_numpy(x, *, sample_rate, gain_db):
    return x * db_to_amp(gain_db)


def gain_torch(x, *, sample_rate, gain_db):
    return x * batch_param(db_to_amp(gain_db))


def polarity_numpy(x, *, sample_rate, invert):
    return x * (1.0 - 2.0 * invert)


def polarity_torch(x, *, sample_rate, invert):
    return x * batch_param(1.0 - 2.0 * invert)


def _pan_gains(pan, stereo_in):
    """Left/right gains of the constant-power law (works on floats and tensors)."""
    theta = (pan + 1.0) * (math.pi / 4.0)
    scale = math.sqrt(2.0) if stereo_in else 1.0
    if isinstance(theta, float):
        return scale * math.cos(theta), scale * math.sin(theta)
    if isinstance(theta, np.ndarray):  # a pan curve
        return scale * np.cos(theta), scale * np.sin(theta)
    return scale * theta.cos(), scale * theta.sin()


def _check_pan_channels(channels):
    if channels not in (1, 2):
        raise AudioError(f"pan needs mono or stereo audio, got {channels} channels; downmix first")


def pan_numpy(x, *, sample_rate, pan):
    _check_pan_channels(x.shape[1])
    left, right = _pan_gains(pan, x.shape[1] == 2)
    return np.stack([x[:, 0] * left, x[:, -1] * right], axis=1)


def pan_torch(x, *, sample_rate, pan):
    import torch

    _check_pan_channels(x.shape[1])
    left, right = _pan_gains(pan, x.shape[1] == 2)
    return torch.stack([x[:, 0] * sample_param(left), x[:, -1] * sample_param(right)], dim=1)


def _check_width_channels(channels):
    if channels > 2:
        raise AudioError(f"stereo_width needs mono or stereo audio, got {channels} channels")


def width_numpy(x, *, sample_rate, width):
    _check_width_channels(x.shape[1])
    if x.shape[1] == 1:
        return x.copy()
    mid = 0.5 * (x[:, 0] + x[:, 1])
    side = 0.5 * (x[:, 0] - x[:, 1]) * width
    return np.stack([mid + side, mid - side], axis=1)


def width_torch(x, *, sample_rate, width):
    import torch

    _check_width_channels(x.shape[1])
    if x.shape[1] == 1:
        return x.clone()
    mid = 0.5 * (x[:, 0] + x[:, 1])
    side = 0.5 * (x[:, 0] - x[:, 1]) * sample_param(width)
    return torch.stack([mid + side, mid - side], dim=1)


# -- inverses ---------------------------------------------------------------------------
MAX_PAN_BOOST_DB = 40.0  # a silenced channel is brought back by at most this much


def gain_inverse(y, sample_rate, p, o, context):
    return y * 10.0 ** (-np.asarray(p["gain_db"]) / 20.0), []


def polarity_inverse(y, sample_rate, p, o, context):
    return y * (1.0 - 2.0 * p["invert"]), []


def pan_inverse(y, sample_rate, p, o, context):
    mono_source = context.channels_before == 1
    left, right = _pan_gains(float(p["pan"]), stereo_in=not mono_source)
    if mono_source:  # least squares: cos^2 + sin^2 = 1
        return (y[:, :1] * left + y[:, 1:2] * right), []
    notes = []
    floor = 10.0 ** (-MAX_PAN_BOOST_DB / 20.0)
    if min(left, right) < floor:
        notes.append(f"pan={p['pan']:g} silenced a channel; its level is restored by at most {MAX_PAN_BOOST_DB:g} dB")
    return np.stack([y[:, 0] / max(left, floor), y[:, 1] / max(right, floor)], axis=1), notes


def width_inverse(y, sample_rate, p, o, context):
    w = float(p["width"])
    if y.shape[1] == 1:
        return y.copy(), []
    mid, side = 0.5 * (y[:, 0] + y[:, 1]), 0.5 * (y[:, 0] - y[:, 1])
    notes = []
    if w < 1e-3:
        notes.append("width=0 made the signal mono: the side signal is lost")
        w = 1.0
    side = side / w
    return np.stack([mid + side, mid - side], axis=1), notes


EFFECTS = (
    Effect(GAIN, gain_numpy, gain_torch, torch_curves=("gain_db",), inverse=gain_inverse, inverse_takes_curves=True,
           frequency_response=lambda p, f, sr: np.full(len(f), db_to_amp(p["gain_db"]), dtype=complex)),
    Effect(POLARITY, polarity_numpy, polarity_torch, inverse=polarity_inverse),
    Effect(PAN, pan_numpy, pan_torch, output_channels=lambda c: 2, torch_curves=("pan",), inverse=pan_inverse),
    Effect(STEREO_WIDTH, width_numpy, width_torch, aliases=("width",), torch_curves=("width",), inverse=width_inverse),
)
