"""The effect node (``Stage``): one registered effect with its values, options, key and bypass.

A value is a float, or for a parameter that accepts curves (``Param.curve``) a tuple of floats:
a trajectory spread evenly over the signal (:mod:`drywet.dsp.curves`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..effects.base import Effect
from ..errors import DrywetError, ParameterError
from ..registry import get_effect
from ..spec import Param
from .node import Node, node_type


@node_type("effect")
@dataclass(frozen=True, eq=False)
class Stage(Node):
    """One effect in a graph with its physical parameter values and options."""

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

    @classmethod
    def from_node_dict(cls, d: Mapping, where: str) -> Stage:
        if "effect" not in d:
            raise DrywetError(f"preset {where} needs an 'effect' name")
        try:
            return cls.create(d["effect"], d.get("params"), d.get("options"), d.get("bypass", False), d.get("key", ""))
        except ParameterError as exc:
            raise ParameterError(f"preset {where}: {exc}") from None

    @property
    def curves(self) -> tuple[str, ...]:
        """Names of the parameters that hold a curve rather than one number."""
        return tuple(k for k, v in self.params.items() if isinstance(v, tuple))

    # -- node protocol ---------------------------------------------------------------------
    def local_params(self) -> tuple[Param, ...]:
        return self.effect.spec.params

    def local_values(self) -> Mapping[str, Any]:
        return self.params

    def rebuild(self, values: Mapping[str, Any], children: Sequence[Node], bypass: bool | None = None) -> Stage:
        checked, _ = self.effect.spec.resolve(dict(values))
        stored = {k: _stored_value(self.effect, k, v) for k, v in checked.items()}
        return replace(self, params=stored, bypass=self.bypass if bypass is None else bypass)

    def with_key(self, key: str) -> Stage:
        return replace(self, key=key)

    def output_channels(self, channels: int) -> int:
        return channels if self.bypass else self.effect.output_channels(channels)

    def _numpy(self, x: Any, sample_rate: int) -> Any:
        return self.effect(x, sample_rate=sample_rate, **self.params, **self.options)

    def _torch(self, x, sample_rate, values, child_q, automation):
        return self.effect.torch(x, sample_rate=sample_rate, **values, **self.options)

    def node_dict(self) -> dict:
        for name, value in self.options.items():
            if not (value is None or isinstance(value, (str, int, float, bool))):
                raise ParameterError(
                    f"{self.key}.{name} holds an array; presets store file paths: pass impulse_response='room.wav'"
                )
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()}
        return {"type": "effect", "effect": self.effect.name, "key": self.key, "bypass": self.bypass,
                "params": params, "options": dict(self.options)}

    def __repr__(self) -> str:
        vals = ", ".join(f"{k}={format_value(v)}" for k, v in self.params.items())
        return f"{self.key}{' (bypassed)' if self.bypass else ''}: {vals}"


def _stored_value(effect: Effect, name: str, value: Any) -> float | tuple[float, ...]:
    """A number as a float; a 1-D curve, for parameters that accept one, as a tuple of floats."""
    if isinstance(value, tuple) or np.ndim(value) > 0:
        param = effect.spec.param(name)
        if not param.curve or np.ndim(value) != 1:
            accepting = list(effect.spec.curve_param_names)
            hint = f"; {accepting} accept a 1-D curve" if accepting else ""
            raise ParameterError(f"{effect.name}.{name} takes one number{hint}")
        values = tuple(float(v) for v in np.asarray(value, dtype=np.float64))
        return values[0] if len(values) == 1 else values
    return float(value)


def format_value(value: float | tuple[float, ...]) -> str:
    """A number as 4 significant digits; a curve as its points, or its extent when long."""
    if not isinstance(value, tuple):
        return f"{value:.4g}"
    if len(value) <= 4:
        return "curve " + " -> ".join(f"{v:.4g}" for v in value)
    return f"curve of {len(value)} points in [{min(value):.4g}, {max(value):.4g}]"
