"""Parameter specs: the single source of truth for every effect parameter.

Each effect declares its parameters once (name with unit suffix, unit, range, default,
scale, doc). Validation, normalization to q in [0, 1], random sampling, CLI flags, presets,
docs and ``repr`` all read the spec.

Normalization follows Peladeau & Peeters, "Blind estimation of audio effects using an
auto-encoder approach and differentiable digital signal processing" (ICASSP 2024), eq. 8-9:
``lin``: p = (max - min) q + min; ``log``: p = min * exp((log max - log min) q).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ParameterError

# Relative slack accepted at the range ends, so that values produced by float32
# round trips (q -> p -> q) are not rejected.
_RANGE_SLACK = 1e-5


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch")


@dataclass(frozen=True)
class Param:
    """One continuous (or integer-valued) effect parameter.

    Attributes:
        name: identifier with its unit suffix (``_db``, ``_hz``, ``_ms``, ``_s``).
        unit: unit shown to people ("dB", "Hz", "ms", "s", "" for ratios).
        min: smallest allowed value.
        max: largest allowed value.
        default: value used when the caller gives none.
        scale: ``"lin"`` or ``"log"`` (log needs ``min > 0``).
        doc: one-line description.
        integer: the physical value is rounded to an integer when sampled or parsed.
        curve: the numpy path also accepts a 1-D trajectory (per sample, or per block and
            linearly interpolated over the signal) instead of one number.
    """

    name: str
    unit: str
    min: float
    max: float
    default: float
    scale: str = "lin"
    doc: str = ""
    integer: bool = False
    curve: bool = False

    def __post_init__(self) -> None:
        if self.scale not in ("lin", "log"):
            raise ValueError(f"{self.name}: scale must be 'lin' or 'log', not {self.scale!r}")
        if not self.min < self.max:
            raise ValueError(f"{self.name}: min {self.min} must be below max {self.max}")
        if self.scale == "log" and self.min <= 0:
            raise ValueError(f"{self.name}: a log-scaled parameter needs min > 0")
        if not self.min <= self.default <= self.max:
            raise ValueError(f"{self.name}: default {self.default} outside [{self.min}, {self.max}]")

    # -- normalization (works on floats, numpy arrays and torch tensors alike) --
    def denormalize(self, q: Any) -> Any:
        """Map normalized ``q`` in [0, 1] to the physical value (eq. 8-9)."""
        if self.scale == "lin":
            return (self.max - self.min) * q + self.min
        log_span = math.log(self.max) - math.log(self.min)
        exp = _exp_of(q)
        return self.min * exp(log_span * q)

    def normalize(self, value: Any) -> Any:
        """Map a physical value to ``q`` in [0, 1] (inverse of :meth:`denormalize`)."""
        if self.scale == "lin":
            return (value - self.min) / (self.max - self.min)
        log_span = math.log(self.max) - math.log(self.min)
        log = _log_of(value)
        return (log(value) - math.log(self.min)) / log_span

    def sample(self, rng: np.random.Generator) -> float:
        """Draw one value uniformly in normalized space with an explicit generator."""
        value = float(self.denormalize(rng.uniform(0.0, 1.0)))
        return float(round(value)) if self.integer else value

    def validate(self, value: Any, effect: str = "") -> Any:
        """Return ``value`` if finite and inside [min, max]; raise ParameterError otherwise."""
        where = f"{effect}.{self.name}" if effect else self.name
        allowed = f"allowed range is [{self.min:g}, {self.max:g}] {self.unit}".rstrip()
        slack = _RANGE_SLACK * max(abs(self.min), abs(self.max), 1.0)
        if _is_tensor(value):
            import torch

            if value.numel() == 0:
                raise ParameterError(f"{where} is an empty tensor; give one value per batch item")
            v = value.detach()
            if not bool(torch.isfinite(v).all()):
                raise ParameterError(f"{where} is not finite; {allowed}")
            lo, hi = float(v.min()), float(v.max())
        else:
            try:
                arr = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise ParameterError(f"{where}={value!r} is not a number; {allowed}") from None
            if arr.size == 0:
                raise ParameterError(f"{where} is empty; give a number")
            if not np.all(np.isfinite(arr)):
                raise ParameterError(f"{where}={value!r} is not finite; {allowed}")
            lo, hi = float(arr.min()), float(arr.max())
        if lo < self.min - slack or hi > self.max + slack:
            bad = lo if lo < self.min - slack else hi
            raise ParameterError(f"{where}={bad:g} is out of range; {allowed}")
        return value

    def describe(self) -> dict:
        """A JSON-ready description (used by ``drywet effects --json`` and docs)."""
        return {
            "name": self.name,
            "unit": self.unit,
            "min": self.min,
            "max": self.max,
            "default": self.default,
            "scale": self.scale,
            "integer": self.integer,
            "curve": self.curve,
            "doc": self.doc,
        }


def _exp_of(value: Any):
    if _is_tensor(value):
        import torch

        return torch.exp
    return np.exp


def _log_of(value: Any):
    if _is_tensor(value):
        import torch

        return torch.log
    return np.log


@dataclass(frozen=True)
class Option:
    """A setting that is not a continuous parameter (a seed, a mode, an impulse response).

    Options are not part of the normalized vector ``q``; presets store them as given.
    ``choices`` restricts the value to a fixed set when not empty.
    """

    name: str
    default: Any
    doc: str = ""
    choices: tuple = ()

    def validate(self, value: Any, effect: str = "") -> Any:
        if self.choices and value not in self.choices:
            where = f"{effect}.{self.name}" if effect else self.name
            raise ParameterError(f"{where}={value!r} is not allowed; choose one of {list(self.choices)}")
        return value


@dataclass(frozen=True)
class Strength:
    """How to turn the effect up along one parameter: ``mild`` (none or barely audible) to
    ``strong`` (the range's extreme); used by invariance analysis and strength-based draws."""

    param: str
    mild: float
    strong: float


@dataclass(frozen=True)
class EffectSpec:
    """Everything drywet knows about one effect's interface.

    Attributes:
        name: registry key (snake_case).
        doc: one-line description.
        params: continuous parameters, in the order of the normalized vector.
        options: non-normalized settings.
        category: family used by the CLI table ("gain", "eq", "dynamics", ...).
        differentiable: a torch twin with gradients for every parameter exists.
        strength: the parameter that sets how strong the effect is, if one does.
    """

    name: str
    doc: str
    params: tuple[Param, ...]
    options: tuple[Option, ...] = field(default_factory=tuple)
    category: str = ""
    differentiable: bool = True
    strength: Strength | None = None

    def __post_init__(self) -> None:
        if self.strength is not None:
            param = self.param(self.strength.param)
            for v in (self.strength.mild, self.strength.strong):
                param.validate(v, self.name)

    def at_strength(self, level: float) -> dict[str, float]:
        """{param: value} at ``level`` in [0, 1] from mild to strong (normalized-space line)."""
        if self.strength is None:
            raise ParameterError(f"{self.name} has no strength parameter")
        if not 0.0 <= level <= 1.0:
            raise ParameterError(f"strength level must be in [0, 1], got {level}")
        p = self.param(self.strength.param)
        q0, q1 = p.normalize(self.strength.mild), p.normalize(self.strength.strong)
        value = float(p.denormalize(q0 + level * (q1 - q0)))
        return {p.name: float(round(value)) if p.integer else value}

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def option_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.options)

    @property
    def curve_param_names(self) -> tuple[str, ...]:
        """The parameters whose numpy path also accepts a curve (``Param.curve``)."""
        return tuple(p.name for p in self.params if p.curve)

    @property
    def num_params(self) -> int:
        return len(self.params)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise ParameterError(
            f"{self.name} has no parameter {name!r}; its parameters are {list(self.param_names)}"
        )

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    def resolve(self, given: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Split ``given`` into validated (params, options), filling in defaults.

        Raises:
            ParameterError: unknown name, non-finite or out-of-range value.
        """
        known = set(self.param_names) | set(self.option_names)
        unknown = [k for k in given if k not in known]
        if unknown:
            raise ParameterError(
                f"{self.name} got unknown setting(s) {unknown}; parameters are "
                f"{list(self.param_names)}, options are {list(self.option_names)}"
            )
        params = {p.name: p.validate(given.get(p.name, p.default), self.name) for p in self.params}
        options = {o.name: o.validate(given.get(o.name, o.default), self.name) for o in self.options}
        return params, options

    # -- vectors -----------------------------------------------------------------
    def normalize(self, params: Mapping[str, Any]) -> np.ndarray:
        """Physical values (missing ones take defaults) -> q vector, shape (P,)."""
        full, _ = self.resolve({k: v for k, v in params.items() if k in self.param_names})
        return np.array([p.normalize(float(full[p.name])) for p in self.params], dtype=np.float64)

    def denormalize(self, q: Any) -> dict[str, Any]:
        """q of shape (P,) or (batch, P) (numpy or torch) -> dict of physical values."""
        if q.shape[-1] != self.num_params:
            raise ParameterError(
                f"{self.name} expects {self.num_params} normalized values, got {q.shape[-1]}"
            )
        return {p.name: p.denormalize(q[..., i]) for i, p in enumerate(self.params)}

    def sample(self, rng: np.random.Generator) -> dict[str, float]:
        """Draw every parameter uniformly in normalized space."""
        if not isinstance(rng, np.random.Generator):
            raise ParameterError("sample() needs a numpy.random.Generator, e.g. np.random.default_rng(0)")
        return {p.name: p.sample(rng) for p in self.params}

    def describe(self) -> dict:
        return {
            "name": self.name,
            "doc": self.doc,
            "category": self.category,
            "differentiable": self.differentiable,
            "strength": None if self.strength is None else vars(self.strength),
            "params": [p.describe() for p in self.params],
            "options": [
                {"name": o.name, "default": _jsonable(o.default), "doc": o.doc, "choices": list(o.choices)}
                for o in self.options
            ],
        }

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{p.name}={p.default:g} [{p.min:g}..{p.max:g}{' ' + p.unit if p.unit else ''}, {p.scale}]"
            for p in self.params
        )
        return f"EffectSpec({self.name}: {inner})"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)
