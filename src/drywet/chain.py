"""Chains: ordered effects with a flat normalized parameter vector, presets and sampling.

The flat vector's names are ``<stage key>.<param name>`` in stage order then spec order;
its size is the sum of the specs' sizes. A chain is immutable: ``with_q``, ``sample`` and
friends return new chains.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .effects.base import Effect
from .errors import DrywetError, ParameterError
from .preset_files import read_preset, write_preset
from .registry import get_effect

PRESET_VERSION = 1


@dataclass(frozen=True)
class Stage:
    """One effect in a chain with its physical parameter values and options.

    A value is a float, or for a parameter that accepts curves (``Param.curve``) a tuple of
    floats: a trajectory spread evenly over the signal (:mod:`drywet.dsp.curves`)."""

    effect: Effect
    params: Mapping[str, float | tuple[float, ...]]
    options: Mapping[str, Any] = field(default_factory=dict)
    bypass: bool = False
    key: str = ""

    @classmethod
    def create(cls, name: str, params: Mapping[str, Any] | None = None, options: Mapping[str, Any] | None = None,
               bypass: bool = False, key: str = "") -> Stage:
        effect = get_effect(name)
        given = dict(params or {})
        given.update(options or {})
        p, o = effect.spec.resolve(given)
        return cls(effect, {k: _stored_value(effect, k, v) for k, v in p.items()}, o, bool(bypass), key or effect.name)

    @property
    def curves(self) -> tuple[str, ...]:
        """Names of the parameters that hold a curve rather than one number."""
        return tuple(k for k, v in self.params.items() if isinstance(v, tuple))


def _stored_value(effect: Effect, name: str, value: Any) -> float | tuple[float, ...]:
    """A number as a float; a 1-D curve, for parameters that accept one, as a tuple of floats."""
    if np.ndim(value) == 0:
        return float(value)
    param = effect.spec.param(name)
    if not param.curve or np.ndim(value) != 1:
        accepting = list(effect.spec.curve_param_names)
        hint = f"; {accepting} accept a 1-D curve" if accepting else ""
        raise ParameterError(f"{effect.name}.{name} takes one number{hint}")
    values = tuple(float(v) for v in np.asarray(value, dtype=np.float64))
    return values[0] if len(values) == 1 else values


def format_value(value: float | tuple[float, ...]) -> str:
    """A number as 4 significant digits; a curve as its points, or its extent when long."""
    if not isinstance(value, tuple):
        return f"{value:.4g}"
    if len(value) <= 4:
        return "curve " + " -> ".join(f"{v:.4g}" for v in value)
    return f"curve of {len(value)} points in [{min(value):.4g}, {max(value):.4g}]"


class Chain:
    """An ordered list of stages.

    Args:
        stages: Stage objects, or effect names (defaults for every parameter).
    """

    def __init__(self, stages: Iterable[Stage | str]):
        built = [Stage.create(s) if isinstance(s, str) else s for s in stages]
        seen: dict[str, int] = {}
        unique = []
        for stage in built:  # give repeated effects distinct keys: eq, eq_2, ...
            n = seen.get(stage.key, 0) + 1
            seen[stage.key] = n
            unique.append(stage if n == 1 else replace(stage, key=f"{stage.key}_{n}"))
        self.stages: tuple[Stage, ...] = tuple(unique)

    @classmethod
    def from_names(cls, names: str | Sequence[str]) -> Chain:
        """``"eq,compressor,clipper"`` or a list of names/aliases -> chain with defaults."""
        if isinstance(names, str):
            names = [n for n in names.split(",") if n.strip()]
        if not names:
            raise ParameterError("a chain needs at least one effect, e.g. 'eq,compressor,clipper'")
        return cls(list(names))

    # -- the flat parameter vector ------------------------------------------------------
    @property
    def param_names(self) -> list[str]:
        return [f"{s.key}.{p}" for s in self.stages for p in s.effect.spec.param_names]

    @property
    def num_params(self) -> int:
        return sum(s.effect.spec.num_params for s in self.stages)

    def to_q(self) -> np.ndarray:
        """The normalized vector q in [0, 1]^P of the current values."""
        if not self.stages:
            return np.zeros(0)
        with_curves = [f"{st.key}.{name}" for st in self.stages for name in st.curves]
        if with_curves:
            raise ParameterError(f"{with_curves} hold curves: a normalized vector describes constant parameters only")
        return np.concatenate([s.effect.spec.normalize(s.params) for s in self.stages])

    def with_q(self, q: Any) -> Chain:
        """A copy whose parameters are set from q (numpy, shape (P,))."""
        q = np.asarray(q, dtype=np.float64)
        if q.shape != (self.num_params,):
            raise ParameterError(f"q must have shape ({self.num_params},) for this chain, got {q.shape}")
        if np.any(q < -1e-9) or np.any(q > 1 + 1e-9) or not np.all(np.isfinite(q)):
            raise ParameterError("q values must be finite and in [0, 1]")
        stages, i = [], 0
        for s in self.stages:
            n = s.effect.spec.num_params
            values = s.effect.spec.denormalize(np.clip(q[i : i + n], 0.0, 1.0))
            stages.append(replace(s, params={k: float(v) for k, v in values.items()}))
            i += n
        return Chain(stages)

    def split_q(self, q: Any) -> list[dict[str, Any]]:
        """Split q (..., P) (numpy or torch) into one dict of physical values per stage."""
        out, i = [], 0
        for s in self.stages:
            n = s.effect.spec.num_params
            out.append(s.effect.spec.denormalize(q[..., i : i + n]))
            i += n
        return out

    # -- sampling ------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, *, random_order: bool = False, bypass_prob: float = 0.0) -> Chain:
        """New chain with every parameter drawn uniformly in normalized space.

        Args:
            rng: explicit numpy generator.
            random_order: shuffle the stages.
            bypass_prob: probability that each stage is bypassed.
        """
        if not isinstance(rng, np.random.Generator):
            raise ParameterError("sample() needs a numpy.random.Generator, e.g. np.random.default_rng(0)")
        if not 0.0 <= bypass_prob <= 1.0:
            raise ParameterError(f"bypass_prob must be in [0, 1], got {bypass_prob}")
        stages = [
            replace(s, params=s.effect.spec.sample(rng), bypass=bool(rng.uniform() < bypass_prob)) for s in self.stages
        ]
        if random_order:
            stages = [stages[i] for i in rng.permutation(len(stages))]
        return Chain(stages)

    # -- processing ------------------------------------------------------------------------
    def __call__(self, x: Any, *, sample_rate: int) -> Any:
        """Apply the chain with its stored values (numpy kernels for arrays, twins for tensors)."""
        y = x
        for s in self.stages:
            y = s.effect(y, sample_rate=sample_rate, bypass=s.bypass, **s.params, **s.options)
        return y

    def apply_torch(self, x: Any, *, sample_rate: int, q: Any = None) -> Any:
        """Differentiable application. ``q``: (batch, P) or (P,) tensor; None uses stored values."""

        if q is None:
            return self(x, sample_rate=sample_rate)
        if q.shape[-1] != self.num_params:
            raise ParameterError(f"q must have {self.num_params} values per item for this chain, got {q.shape[-1]}")
        if q.ndim == 1:
            q = q.expand(x.shape[0] if x.ndim == 3 else 1, -1)
        y = x
        for s, params in zip(self.stages, self.split_q(q)):
            if not s.bypass:
                y = s.effect.torch(y, sample_rate=sample_rate, **params, **s.options)
        return y

    # -- presets --------------------------------------------------------------------------
    def to_dict(self) -> dict:
        stages = []
        for s in self.stages:
            for name, value in s.options.items():
                if not (value is None or isinstance(value, (str, int, float, bool))):
                    raise ParameterError(
                        f"{s.key}.{name} holds an array; presets store file paths: pass impulse_response='room.wav'"
                    )
            params = {k: list(v) if isinstance(v, tuple) else v for k, v in s.params.items()}
            stages.append({"effect": s.effect.name, "key": s.key, "bypass": s.bypass, "params": params, "options": dict(s.options)})
        return {"drywet_preset": PRESET_VERSION, "chain": stages}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Chain:
        if not isinstance(data, Mapping) or "chain" not in data:
            raise DrywetError("not a drywet preset: expected a mapping with a 'chain' list")
        version = data.get("drywet_preset", PRESET_VERSION)
        if version != PRESET_VERSION:
            raise DrywetError(f"preset version {version} is not supported (this drywet reads {PRESET_VERSION})")
        stages = []
        for i, entry in enumerate(data["chain"]):
            if not isinstance(entry, Mapping) or "effect" not in entry:
                raise DrywetError(f"preset stage {i} needs an 'effect' name")
            stages.append(
                Stage.create(entry["effect"], entry.get("params"), entry.get("options"), entry.get("bypass", False), entry.get("key", ""))
            )
        return cls(stages)

    def save(self, path: Any, *, overwrite: bool = False) -> Path:
        """Write a YAML (.yaml/.yml) or JSON (.json) preset; floats round-trip exactly."""
        return write_preset(path, self.to_dict(), overwrite=overwrite)

    @classmethod
    def load(cls, path: Any) -> Chain:
        return cls.from_dict(read_preset(Path(path)))

    def describe(self) -> list[dict]:
        """Rows (stage, parameter, value, unit) for tables and reports."""
        rows = []
        for s in self.stages:
            for p in s.effect.spec.params:
                rows.append({"stage": s.key, "param": p.name, "value": s.params[p.name], "unit": p.unit, "bypass": s.bypass})
        return rows

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Chain) and self.to_dict() == other.to_dict()

    def __len__(self) -> int:
        return len(self.stages)

    def __repr__(self) -> str:
        lines = []
        for s in self.stages:
            vals = ", ".join(f"{k}={format_value(v)}" for k, v in s.params.items())
            lines.append(f"  {s.key}{' (bypassed)' if s.bypass else ''}: {vals}")
        return "Chain(\n" + "\n".join(lines) + "\n)"
