"""Random effect chains for augmentation, returning the audio AND the exact chain used.

An :class:`Augment` holds one :class:`EffectDraw` per candidate effect: the probability that
it is applied, how each parameter is drawn and the options. Parameters are drawn uniformly
in the spec's normalized space by default (so log-scaled parameters are log-uniform); a
parameter may instead be fixed (a number), drawn uniformly in normalized space between two
physical values (``[lo, hi]``), drawn from a list (``{"choices": [...]}``), or, for parameters
that accept curves, drawn as a trajectory (``{"curve": [lo, hi], "points": K}``: K values
drawn like ``[lo, hi]``, spread evenly over the clip and linearly interpolated). Options may be
fixed or drawn from a list the same way. Effects with a ``seed`` option get a fresh seed from
the call's generator, so the returned chain reproduces the output exactly.

A YAML/JSON augmentation preset looks like::

    drywet_augment: 1
    random_order: false
    effects:
      - effect: parametric_eq
        p: 0.8
      - effect: colored_noise
        p: 0.5
        params: {snr_db: [10, 40]}
        options: {color: {choices: [white, pink, brown]}}
      - effect: mp3
        p: 0.3

A plain chain preset (``drywet_preset``) is accepted too: every stage applied, values fixed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..chain import Chain, Stage
from ..errors import DrywetError, ParameterError
from ..preset_files import read_preset, write_preset
from ..registry import get_effect

AUGMENT_VERSION = 1
SEED_OPTION = "seed"
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class EffectDraw:
    """One candidate effect of an augmentation.

    Attributes:
        effect: effect name or alias.
        p: probability that the effect is applied, in [0, 1].
        params: per parameter: a number (fixed), ``[lo, hi]`` (uniform in normalized space
            between these physical values), ``{"choices": [...]}``, or for curve parameters
            ``{"curve": [lo, hi], "points": K}`` (K >= 2 values drawn like ``[lo, hi]``: a
            time-varying parameter). Missing: whole range.
        options: per option: a value, or ``{"choices": [...]}``.
    """

    effect: str
    p: float = 1.0
    params: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        spec = get_effect(self.effect).spec
        if not (isinstance(self.p, (int, float)) and 0.0 <= self.p <= 1.0):
            raise ParameterError(f"{self.effect}: p must be a probability in [0, 1], got {self.p!r}")
        for name, rule in self.params.items():
            param = spec.param(name)
            values = _rule_values(rule, f"{self.effect}.{name}")
            if (_is_curve_rule(rule) or any(np.ndim(v) for v in values)) and not param.curve:
                accepting = list(spec.curve_param_names)
                raise ParameterError(f"{spec.name}.{name} takes no curve; {accepting or 'none of its parameters'} do")
            for v in values:
                param.validate(v, spec.name)
        for name, rule in self.options.items():
            if name not in spec.option_names:
                raise ParameterError(f"{spec.name} has no option {name!r}; its options are {list(spec.option_names)}")
            option = next(o for o in spec.options if o.name == name)
            for v in rule["choices"] if isinstance(rule, Mapping) else [rule]:
                option.validate(v, spec.name)

    def draw(self, rng: np.random.Generator) -> Stage:
        """Draw parameters and options (physical values) and return the stage."""
        spec = get_effect(self.effect).spec
        params = {}
        for param in spec.params:
            rule = self.params.get(param.name)
            if rule is None:
                value = param.denormalize(rng.uniform())
            elif _is_curve_rule(rule):
                lo, hi = (param.normalize(float(v)) for v in rule["curve"])
                value = param.denormalize(rng.uniform(lo, hi, size=int(rule.get("points", 2))))
            elif isinstance(rule, Mapping):
                choices = rule["choices"]
                value = choices[rng.integers(len(choices))]
            elif isinstance(rule, (list, tuple)):
                lo, hi = (param.normalize(float(v)) for v in rule)
                value = param.denormalize(rng.uniform(lo, hi))
            else:
                value = rule
            value = np.asarray(value, dtype=np.float64)  # a number, or a curve's points
            params[param.name] = np.round(value) if param.integer else value
        options = {}
        for name, rule in self.options.items():
            options[name] = rule["choices"][rng.integers(len(rule["choices"]))] if isinstance(rule, Mapping) else rule
        if SEED_OPTION in spec.option_names and SEED_OPTION not in self.options:
            options[SEED_OPTION] = int(rng.integers(MAX_SEED))
        return Stage.create(spec.name, params, options)

    def to_dict(self) -> dict:
        return {"effect": self.effect, "p": self.p, "params": dict(self.params), "options": dict(self.options)}


def _is_curve_rule(rule: Any) -> bool:
    return isinstance(rule, Mapping) and "curve" in rule


def _rule_values(rule: Any, where: str) -> list:
    if _is_curve_rule(rule):
        points = rule.get("points", 2)
        if set(rule) - {"curve", "points"} or not isinstance(rule["curve"], (list, tuple)) or len(rule["curve"]) != 2:
            raise ParameterError(f"{where}: a drawn curve is written {{curve: [lo, hi], points: K}}")
        if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
            raise ParameterError(f"{where}: a curve needs points >= 2 (an integer), got {points!r}")
        return list(rule["curve"])
    if isinstance(rule, Mapping):
        if set(rule) != {"choices"} or not rule["choices"]:
            raise ParameterError(f"{where}: a drawn value is written {{choices: [a, b, ...]}}")
        return list(rule["choices"])
    if isinstance(rule, (list, tuple)):
        if len(rule) != 2:
            raise ParameterError(f"{where}: a range is written [lo, hi], got {rule!r}")
        return list(rule)
    return [rule]


@dataclass(frozen=True)
class AugmentResult:
    """What one augmentation call produced: the audio and the chain that made it (labels)."""

    audio: Any
    chain: Chain
    sample_rate: int

    @property
    def labels(self) -> dict:
        """The applied effects with their physical parameters (JSON-ready)."""
        return self.chain.to_dict()


class Augment:
    """A random chain: each call draws which effects apply and with what parameters.

    Args:
        effects: EffectDraw objects, effect names, or dicts with EffectDraw's fields.
        random_order: shuffle the applied effects on every call.
        max_effects: keep at most this many of the drawn effects (chosen at random).
    """

    def __init__(self, effects: Sequence[EffectDraw | str | Mapping], *, random_order: bool = False, max_effects: int | None = None):
        draws = []
        for e in effects:
            if isinstance(e, EffectDraw):
                draws.append(e)
            elif isinstance(e, str):
                draws.append(EffectDraw(e))
            elif isinstance(e, Mapping):
                unknown = set(e) - {"effect", "p", "params", "options"}
                if unknown or "effect" not in e:
                    raise DrywetError(f"augmentation entry {dict(e)} needs 'effect' and may have p, params, options (not {sorted(unknown)})")
                draws.append(EffectDraw(e["effect"], e.get("p", 1.0), e.get("params") or {}, e.get("options") or {}))
            else:
                raise DrywetError(f"cannot read augmentation entry {e!r}")
        if not draws:
            raise ParameterError("an augmentation needs at least one effect")
        if max_effects is not None and max_effects < 1:
            raise ParameterError(f"max_effects must be at least 1, got {max_effects}")
        self.draws = tuple(draws)
        self.random_order = bool(random_order)
        self.max_effects = max_effects

    @classmethod
    def from_chain(cls, chain: Chain) -> Augment:
        """Every stage applied with its stored values (seeds still drawn per call)."""
        draws = []
        for s in chain.stages:
            if s.bypass:
                continue
            options = {k: v for k, v in s.options.items() if k != SEED_OPTION}
            # a stored curve is fixed: the only choice (a bare list would read as a range)
            params = {k: {"choices": [list(v)]} if isinstance(v, tuple) else v for k, v in s.params.items()}
            draws.append(EffectDraw(s.effect.name, 1.0, params, options))
        return cls(draws)

    def sample(self, rng: np.random.Generator) -> Chain:
        """Draw one chain (the same draws are made whatever the audio)."""
        if not isinstance(rng, np.random.Generator):
            raise ParameterError("sample() needs a numpy.random.Generator, e.g. np.random.default_rng(0)")
        # every draw consumes the generator identically whether or not the effect applies,
        # so changing one probability does not reshuffle the other effects' values
        stages = [(d.draw(rng), rng.uniform() < d.p) for d in self.draws]
        chosen = [s for s, keep in stages if keep]
        order = rng.permutation(len(chosen)) if self.random_order else np.arange(len(chosen))
        chosen = [chosen[i] for i in order]
        if self.max_effects is not None and len(chosen) > self.max_effects:
            keep = np.sort(rng.choice(len(chosen), self.max_effects, replace=False))
            chosen = [chosen[i] for i in keep]
        return Chain(chosen)

    def __call__(self, x: np.ndarray, *, sample_rate: int, rng: np.random.Generator | int | None = None) -> AugmentResult:
        """Augment ``x`` (channels, samples) and return the audio with its chain.

        Args:
            rng: a numpy Generator or an int seed (required for reproducibility; None draws
                fresh entropy).
        """
        chain = self.sample(as_generator(rng))
        return AugmentResult(chain(x, sample_rate=sample_rate), chain, sample_rate)

    def paired(self, x: np.ndarray, target: np.ndarray, *, sample_rate: int, rng=None) -> tuple[np.ndarray, np.ndarray, Chain]:
        """Apply the same drawn chain to an input and its target (e.g. two microphones)."""
        chain = self.sample(as_generator(rng))
        return chain(x, sample_rate=sample_rate), chain(target, sample_rate=sample_rate), chain

    # -- presets ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "drywet_augment": AUGMENT_VERSION,
            "random_order": self.random_order,
            "max_effects": self.max_effects,
            "effects": [d.to_dict() for d in self.draws],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Augment:
        if isinstance(data, Mapping) and "drywet_preset" in data:
            return cls.from_chain(Chain.from_dict(data))
        if not isinstance(data, Mapping) or "effects" not in data:
            raise DrywetError("not an augmentation preset: expected a mapping with an 'effects' list (or a chain preset)")
        version = data.get("drywet_augment", AUGMENT_VERSION)
        if version != AUGMENT_VERSION:
            raise DrywetError(f"augmentation preset version {version} is not supported (this drywet reads {AUGMENT_VERSION})")
        return cls(data["effects"], random_order=bool(data.get("random_order", False)), max_effects=data.get("max_effects"))

    @classmethod
    def load(cls, path: Any) -> Augment:
        """Read a preset file, or a bundled preset by name (see :func:`bundled_presets`)."""
        path = Path(path)
        if not path.is_file() and str(path) in bundled_presets():
            path = bundled_presets()[str(path)]
        if not path.is_file():
            raise DrywetError(f"augmentation preset not found: {path}; bundled presets: {', '.join(bundled_presets())}")
        return cls.from_dict(read_preset(path, "augmentation preset"))

    def save(self, path: Any, *, overwrite: bool = False) -> Path:
        return write_preset(path, self.to_dict(), overwrite=overwrite)

    def __repr__(self) -> str:
        inner = ", ".join(f"{d.effect}(p={d.p:g})" for d in self.draws)
        return f"Augment([{inner}], random_order={self.random_order})"


def as_generator(rng: Any) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer, list, tuple)):
        return np.random.default_rng(rng)
    raise ParameterError(f"rng must be a numpy Generator or an int seed, got {type(rng).__name__}")


def bundled_presets() -> dict[str, Path]:
    """Augmentation presets shipped with drywet, by name (``default``, ``telephone``, ``media``)."""
    folder = Path(__file__).resolve().parents[1] / "presets"
    return {p.stem.removeprefix("augment_"): p for p in sorted(folder.glob("augment_*.yaml"))}
