"""Invert a chain stage by stage, in reverse order, with the parameters it was rendered with
(known from a preset, or estimated).

Each inverse returns the recovered audio and notes; notes about ill-posed settings are also
issued as warnings (``DrywetWarning``) and the best-effort result is returned, never NaN or
Inf. Effects without a model-based inverse raise an error naming those that have one.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..audio import as_batch, check_sample_rate, unbatch
from ..dsp.curves import curve_to_samples
from ..effects.base import InverseContext
from ..errors import DrywetError
from ..graph.chain import Chain
from ..graph.effect_node import Stage
from . import learned

# blind pipelines add back this fraction (in dB) of the gain reduction that an *estimated*
# compressor took: the blind estimates are noisy enough that the full inverse makes 38-47 % of
# compressed clips worse, half of it 6-18 % (docs/results.md, partial compressor inversion)
BLIND_DYNAMICS_STRENGTH = 0.5


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


def invertible_effects() -> list[str]:
    """Effects with a model-based inverse (their ``inverse`` hook), plus those with a shipped
    learned restorer."""
    from ..registry import EFFECTS

    return sorted({*(n for n, e in EFFECTS.items() if e.inverse is not None), *learned.available()})


def invert_stage(y: np.ndarray, stage: Stage, sample_rate: int, channels_before: int | None = None,
                 estimated: bool = False, dynamics_strength: float = 1.0) -> StageInversion:
    """Undo one stage on (B, C, T) numpy audio with its effect's ``inverse`` hook, or its
    learned restorer (``estimated``, ``dynamics_strength``: see :func:`invert_chain`)."""
    effect, name = stage.effect, stage.effect.name
    if stage.bypass:
        return StageInversion(stage.key, name, y.copy())
    if stage.curves and not effect.inverse_takes_curves:
        takes = sorted(n for n, e in _effects().items() if e.inverse_takes_curves)
        raise DrywetError(
            f"{stage.key}: {list(stage.curves)} vary over time; the model-based inverses take constant "
            f"parameters, except {takes} (invert the constant parts of the signal one at a time)"
        )
    if stage.curves:  # one value per sample, as the forward effect used
        stage = dataclasses.replace(stage, params={
            k: curve_to_samples(np.asarray(v), y.shape[-1]) if k in stage.curves else v for k, v in stage.params.items()})
    early_notes = []
    if estimated and effect.consistent is not None:
        params, early_notes = effect.consistent(y, stage.params, effect.spec)
        for note in early_notes:
            warnings.warn(note, InversionWarning, stacklevel=3)
        if params is None:
            return StageInversion(stage.key, name, y.copy(), early_notes)
        stage = dataclasses.replace(stage, params=params)
    if effect.inverse is not None:
        context = InverseContext(channels_before=channels_before, estimated=estimated,
                                 dynamics_strength=dynamics_strength, effect=effect)
        x, notes = effect.inverse(y, sample_rate, dict(stage.params), dict(stage.options), context)
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


def _effects():
    from ..registry import EFFECTS

    return EFFECTS


def _serial_stages(chain: Chain) -> list[Stage]:
    """The effects of a chain (nested chains flattened); parallel paths cannot be undone in series."""
    out = []
    for node in chain.stages:
        if isinstance(node, Stage):
            out.append(node)
        elif isinstance(node, Chain):
            out += [] if node.bypass else _serial_stages(node)
        else:
            raise DrywetError(f"{node.key} is a {type(node).__name__}: invert_chain undoes serial chains of effects only")
    return out


def uses_dynamics_strength(effect) -> bool:
    """Whether ``dynamics_strength`` scales this effect's inverse (compressors and limiters)."""
    return effect.inverse is not None and effect.spec.category == "dynamics"


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
    first made consistent with it (the effect's ``consistent`` hook: the clipper's drive), with a note.
    ``dynamics_strength``: the fraction (in dB) of the gain reduction of compressors and
    limiters that is added back, 1 for the exact inverse; blind pipelines use
    :data:`BLIND_DYNAMICS_STRENGTH`, since a partial inverse errs less with noisy estimates."""
    y3, was_2d = as_batch(np.asarray(y), allow_empty=False)
    sr = check_sample_rate(sample_rate)
    check_dynamics_strength(dynamics_strength)
    if not isinstance(chain, Chain):
        raise DrywetError("invert_chain needs a drywet Chain (Chain.load('preset.yaml'))")
    serial = _serial_stages(chain)
    upmixes = [s for s in serial if not s.bypass and s.effect.output_channels(1) == 2]  # pan
    if input_channels is None:
        input_channels = 1 if upmixes and y3.shape[1] == 2 else y3.shape[1]
    stages = []
    current = y3
    for stage in reversed(serial):
        result = invert_stage(current, stage, sr, channels_before=input_channels, estimated=estimated,
                              dynamics_strength=dynamics_strength)
        stages.append(result)
        current = result.audio
    return InversionResult(unbatch(current, was_2d), [replace_audio(s, was_2d) for s in reversed(stages)])


def replace_audio(stage: StageInversion, was_2d: bool) -> StageInversion:
    return StageInversion(stage.key, stage.effect, unbatch(stage.audio, was_2d), stage.notes)
