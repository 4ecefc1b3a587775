"""Invert a chain stage by stage, in reverse order, with the parameters it was rendered with
(known from a preset, or estimated).

Each inverse returns the recovered audio and notes; notes about ill-posed settings are also
issued as warnings (``DrywetWarning``) and the best-effort result is returned, never NaN or
Inf. Effects without a model-based inverse raise an error naming those that have one.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..audio import as_batch, check_sample_rate, unbatch
from ..chain import Chain, Stage
from ..dsp import dynamics as dyn
from ..dsp.curves import curve_to_samples
from ..effects.gain import _pan_gains
from ..errors import DrywetError
from . import clipping, learned, linear
from .declip import declip
from .dynamics import invert_compressor

MAX_GAIN_BACK_DB = 40.0  # a compressor inverse adding more than this is amplifying noise
MAX_SLOPE_GAIN = 10.0  # ... or one whose output-to-input error gain exceeds this
MAX_PAN_BOOST_DB = 40.0
UNRELIABLE_FRACTION = 0.001
# blind pipelines add back this fraction (in dB) of the gain reduction that an *estimated*
# compressor took: the blind estimates are noisy enough that the full inverse makes 38-47 % of
# compressed clips worse, half of it 6-18 % (benchmarks/blind_inversion_ideas.py partial-compressor)
BLIND_DYNAMICS_STRENGTH = 0.5
DYNAMICS = ("compressor", "simple_compressor", "limiter")


class InversionWarning(UserWarning):
    """An inverse is ill-posed for these parameters; a best-effort result was returned."""


@dataclass
class StageInversion:
    key: str
    effect: str
    audio: np.ndarray  # after undoing this stage
    notes: list[str] = field(default_factory=list)


@dataclass
class InversionResult:
    audio: Any
    stages: list[StageInversion]

    @property
    def notes(self) -> list[str]:
        return [n for s in self.stages for n in s.notes]


# -- per-effect inverses: f(y3, sample_rate, params, options) -> (x3, notes) ------------------
def _gain(y, sr, p, o):
    return y * 10.0 ** (-np.asarray(p["gain_db"]) / 20.0), []


# pointwise inverses that take parameter curves as they are (one value per sample)
CURVE_INVERSES = frozenset({"gain"})


def _polarity(y, sr, p, o):
    return y * (1.0 - 2.0 * p["invert"]), []


def _pan(y, sr, p, o, *, mono_source: bool = True):
    left, right = _pan_gains(float(p["pan"]), stereo_in=not mono_source)
    if mono_source:  # least squares: cos^2 + sin^2 = 1
        return (y[:, :1] * left + y[:, 1:2] * right), []
    notes = []
    floor = 10.0 ** (-MAX_PAN_BOOST_DB / 20.0)
    if min(left, right) < floor:
        notes.append(f"pan={p['pan']:g} silenced a channel; its level is restored by at most {MAX_PAN_BOOST_DB:g} dB")
    return np.stack([y[:, 0] / max(left, floor), y[:, 1] / max(right, floor)], axis=1), notes


def _width(y, sr, p, o):
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


def _eq(effect_name):
    def inverse(y, sr, p, o):
        from ..registry import get_effect

        params, notes = linear.inverse_gains(p, where=effect_name)
        return get_effect(effect_name)(y, sample_rate=sr, **params, **o), notes

    return inverse


def _compressor(kind):
    def inverse(y, sr, p, o, *, strength: float = 1.0):
        settings = dict(p)
        if kind == "simple_compressor":
            settings["attack_ms"] = settings["release_ms"] = settings.pop("time_ms")
        if kind == "limiter":
            settings["ratio"], settings["knee_db"] = math.inf, 0.0
        x, gain_db = invert_compressor(y, sample_rate=sr, **settings)
        if strength != 1.0:  # scale the gain reduction undone, not the makeup gain
            makeup = float(settings.get("makeup_db", 0.0))
            gain_db = strength * (gain_db + makeup) - makeup
            x = y * 10.0 ** (gain_db[:, None, :] / 20.0)
        notes = []
        slope = 1.0 - 1.0 / settings["ratio"]
        error_gain = 1.0 / max(1.0 - dyn.time_to_coef(float(settings["attack_ms"]), sr) * slope, 1e-12)
        if gain_db.size and gain_db.max() > MAX_GAIN_BACK_DB:
            notes.append(f"{kind}: the inverse adds up to {gain_db.max():.0f} dB of gain back: noise and estimation errors are amplified as much")
        if error_gain > MAX_SLOPE_GAIN:
            notes.append(f"{kind}: fast attack with ratio {settings['ratio']:g}: level errors of y grow {error_gain:.0f} times in x")
        return x, notes

    return inverse


def _declip(x, unreliable, sr, name):
    notes = []
    fraction = float(unreliable.mean()) if unreliable.size else 0.0
    if fraction > UNRELIABLE_FRACTION:
        notes.append(f"{name}: {100 * fraction:.2f} % of samples were clipped flat; re-estimated by S-SPADE declipping")
    if fraction > 0:
        x = declip(x, unreliable, sample_rate=sr).astype(x.dtype, copy=False)
    return x, notes


def _clipper(y, sr, p, o):
    x, unreliable = clipping.invert_clipper(y, drive_db=p["drive_db"], offset=p["offset"], hardness=p["hardness"])
    return _declip(x, unreliable, sr, "clipper")


def _consistent_clipper(y, stage):
    """An estimated clipper drive lowered until the curve can produce y (see
    :func:`clipping.consistent_clipper_drive`); None when no drive in the spec's range can."""
    p = dict(stage.params)
    drive = clipping.consistent_clipper_drive(y, drive_db=p["drive_db"], offset=p["offset"], hardness=p["hardness"])
    if drive >= p["drive_db"] - 1e-9:
        return p, []
    lowest = stage.effect.spec.param("drive_db").min
    if drive < lowest:
        note = (f"clipper: the estimated curve (offset {p['offset']:.2f}, hardness {p['hardness']:.2f}) cannot produce "
                f"this audio at any drive down to {lowest:g} dB; the stage is left as it is")
        return None, [note]
    note = (f"clipper: estimated drive lowered from {p['drive_db']:.1f} to {drive:.1f} dB, the most at which the curve "
            "produces every sample of the audio on its sloped part")
    return {**p, "drive_db": drive}, [note]


# estimated parameters made consistent with the audio before inverting: f(y3, stage) -> (params or
# None to leave the stage, notes)
CONSISTENT = {"clipper": _consistent_clipper}


def _tanh_overdrive(y, sr, p, o):
    g = 10.0 ** (p["drive_db"] / 20.0)
    x, unreliable = clipping.invert_clipper(y / g, drive_db=p["drive_db"], offset=0.0, hardness=0.0)
    return _declip(x, unreliable, sr, "tanh_overdrive")


def _hard_clip(y, sr, p, o):
    x, unreliable = clipping.invert_hard_clip(y, threshold_db=p["threshold_db"])
    return _declip(x, unreliable, sr, "hard_clip")


def _lti(effect_name, ir_seconds):
    """Regularized deconvolution by the effect's measured impulse response."""

    def inverse(y, sr, p, o):
        from ..registry import get_effect

        effect = get_effect(effect_name)
        settings = {**p, **o}
        if "length" in settings:
            settings["length"] = "same"
        length = int(ir_seconds(p, o, sr) * sr) + 1
        h = linear.impulse_response_of(effect, sr, y.shape[1], length, settings)
        return linear.deconvolve(y, h), []

    return inverse


def _reverb_length(p, o, sr):
    if o.get("impulse_response") is not None:
        from ..effects.reverb import load_impulse_response

        ir = load_impulse_response(o["impulse_response"], o.get("ir_sample_rate"), sr, o.get("normalize_ir", "none"))
        return ir.shape[-1] / sr + p.get("pre_delay_ms", 0.0) / 1000.0
    return o.get("ir_length_s", 2.0)


def _delay_length(p, o, sr):
    # echoes fall by 60 dB after log(1e-3) / log(feedback) repeats
    fb = max(float(p["feedback"]), 1e-3)
    repeats = min(math.log(1e-3) / math.log(fb), 200.0) if fb < 1 else 200.0
    return (1.0 + repeats) * p["time_ms"] / 1000.0


INVERSES: dict[str, Callable] = {
    "gain": _gain,
    "polarity": _polarity,
    "stereo_width": _width,
    "parametric_eq": _eq("parametric_eq"),
    "graphic_eq": _eq("graphic_eq"),
    "peak": _eq("peak"),
    "lowshelf": _eq("lowshelf"),
    "highshelf": _eq("highshelf"),
    "compressor": _compressor("compressor"),
    "simple_compressor": _compressor("simple_compressor"),
    "limiter": _compressor("limiter"),
    "clipper": _clipper,
    "tanh_overdrive": _tanh_overdrive,
    "hard_clip": _hard_clip,
    "convolution_reverb": _lti("convolution_reverb", _reverb_length),
    "noise_reverb": _lti("noise_reverb", _reverb_length),
    "delay": _lti("delay", _delay_length),
}


def invertible_effects() -> list[str]:
    """Effects with a model-based inverse, plus those with a shipped learned restorer."""
    from . import learned

    return sorted({*INVERSES, "pan", *learned.available()})


def invert_stage(y: np.ndarray, stage: Stage, sample_rate: int, channels_before: int | None = None,
                 estimated: bool = False, dynamics_strength: float = 1.0) -> StageInversion:
    """Undo one stage on (B, C, T) numpy audio (``estimated``, ``dynamics_strength``: see
    :func:`invert_chain`)."""
    name = stage.effect.name
    if stage.bypass:
        return StageInversion(stage.key, name, y.copy())
    if stage.curves and name not in CURVE_INVERSES:
        raise DrywetError(
            f"{stage.key}: {list(stage.curves)} vary over time; the model-based inverses take constant "
            f"parameters, except {sorted(CURVE_INVERSES)} (invert the constant parts of the signal one at a time)"
        )
    if stage.curves:  # one value per sample, as the forward effect used
        stage = dataclasses.replace(stage, params={
            k: curve_to_samples(np.asarray(v), y.shape[-1]) if k in stage.curves else v for k, v in stage.params.items()})
    early_notes = []
    if estimated and name in CONSISTENT:
        params, early_notes = CONSISTENT[name](y, stage)
        for note in early_notes:
            warnings.warn(note, InversionWarning, stacklevel=3)
        if params is None:
            return StageInversion(stage.key, name, y.copy(), early_notes)
        stage = dataclasses.replace(stage, params=params)
    if name == "pan":
        x, notes = _pan(y, sample_rate, stage.params, stage.options, mono_source=channels_before == 1)
    elif name in DYNAMICS:
        x, notes = INVERSES[name](y, sample_rate, dict(stage.params), dict(stage.options), strength=dynamics_strength)
    elif name in INVERSES:
        x, notes = INVERSES[name](y, sample_rate, dict(stage.params), dict(stage.options))
    elif name in learned.available():
        x, notes = learned.restore(y, stage, sample_rate)
    else:
        raise DrywetError(
            f"{name} has neither a model-based inverse nor a shipped restorer yet; invertible effects: {', '.join(invertible_effects())}"
        )
    x = np.nan_to_num(np.asarray(x), nan=0.0, posinf=0.0, neginf=0.0).astype(y.dtype, copy=False)
    for note in notes:
        warnings.warn(note, InversionWarning, stacklevel=3)
    return StageInversion(stage.key, name, x, early_notes + notes)


def check_dynamics_strength(value: float) -> float:
    """``value`` if it is a valid ``dynamics_strength`` (a fraction in [0, 1]), else a DrywetError."""
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        raise DrywetError(f"dynamics_strength must be in [0, 1] (1 undoes all the gain reduction), got {value}")
    return value


def invert_chain(y: Any, chain: Chain, *, sample_rate: int, input_channels: int | None = None,
                 estimated: bool = False, dynamics_strength: float = 1.0) -> InversionResult:
    """Undo ``chain`` on ``y`` (channels, samples) or (batch, channels, samples), last stage
    first. ``input_channels``: channels of the chain's input when a pan made mono stereo
    (default: inferred as 1 when the chain pans and ``y`` is stereo). ``estimated``: the
    parameters are estimates (blind or matched), so those an effect's audio contradicts are
    first made consistent with it (:data:`CONSISTENT`: the clipper's drive), with a note.
    ``dynamics_strength``: the fraction (in dB) of the gain reduction of compressors and
    limiters that is added back, 1 for the exact inverse; blind pipelines use
    :data:`BLIND_DYNAMICS_STRENGTH`, since a partial inverse errs less with noisy estimates."""
    y3, was_2d = as_batch(np.asarray(y), allow_empty=False)
    sr = check_sample_rate(sample_rate)
    check_dynamics_strength(dynamics_strength)
    if not isinstance(chain, Chain):
        raise DrywetError("invert_chain needs a drywet Chain (Chain.load('preset.yaml'))")
    pans = [s for s in chain.stages if s.effect.name == "pan" and not s.bypass]
    if input_channels is None:
        input_channels = 1 if pans and y3.shape[1] == 2 else y3.shape[1]
    stages = []
    current = y3
    for stage in reversed(chain.stages):
        result = invert_stage(current, stage, sr, channels_before=input_channels, estimated=estimated,
                              dynamics_strength=dynamics_strength)
        stages.append(result)
        current = result.audio
    return InversionResult(unbatch(current, was_2d), [replace_audio(s, was_2d) for s in reversed(stages)])


def replace_audio(stage: StageInversion, was_2d: bool) -> StageInversion:
    return StageInversion(stage.key, stage.effect, unbatch(stage.audio, was_2d), stage.notes)
