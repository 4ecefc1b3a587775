"""Wrap a user callable ``f(x, sample_rate, params) -> y`` as an :class:`Effect`.

The callable sees one signal at a time, ``x`` of shape (channels, samples) float32/float64,
and the physical parameter values as a dict (names from the spec). Its output is checked:
a numpy array of the same number of samples, the expected channels, finite values. A failing
check raises :class:`BlackBoxError` naming the effect and what was wrong, so a training loop can
skip the step and report it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..effects.base import Effect
from ..errors import BlackBoxError, ParameterError
from ..spec import EffectSpec, Option, Param


def check_output(y: Any, x: np.ndarray, channels: int, name: str) -> np.ndarray:
    """Return ``y`` as an array shaped like ``x`` (channels may differ) or raise BlackBoxError."""
    if not isinstance(y, np.ndarray):
        raise BlackBoxError(f"black box {name!r} returned {type(y).__name__}, not a numpy array")
    if y.ndim == 1 and channels == 1:
        y = y[None]
    if y.shape != (channels, x.shape[-1]):
        raise BlackBoxError(
            f"black box {name!r} returned shape {y.shape} for input {x.shape}; it must return "
            f"({channels}, {x.shape[-1]}) (same length as its input; compensate latency inside it)"
        )
    if not np.all(np.isfinite(y)):
        raise BlackBoxError(f"black box {name!r} returned NaN or Inf for parameters it was given")
    return y.astype(x.dtype, copy=False)


def black_box(
    fn: Callable[[np.ndarray, int, dict], np.ndarray],
    spec: EffectSpec | Sequence[Param],
    *,
    name: str | None = None,
    doc: str = "",
    options: Sequence[Option] = (),
    output_channels: Callable[[int], int] | None = None,
    register: bool = False,
) -> Effect:
    """Make an effect of a plain function.

    Args:
        fn: ``fn(x, sample_rate, params) -> y`` with x, y of shape (channels, samples) and
            ``params`` a dict {name: physical value} (options included).
        spec: an :class:`EffectSpec`, or its parameters (then ``name`` is required).
        name: registry name (defaults to the spec's).
        doc: one-line description when ``spec`` is a list of parameters.
        options: non-normalized settings passed to ``fn`` with the parameters.
        output_channels: maps input to output channel count (default: unchanged).
        register: also make it known by name to chains, presets and the CLI's Python API.

    Returns:
        An :class:`Effect` with no torch twin (``spec.differentiable`` is False).
    """
    if not callable(fn):
        raise ParameterError(f"black_box needs a callable f(x, sample_rate, params), got {type(fn).__name__}")
    if isinstance(spec, EffectSpec):
        effect_spec = EffectSpec(
            name=name or spec.name, doc=spec.doc, params=spec.params, options=spec.options or tuple(options),
            category=spec.category or "black box", differentiable=False, strength=spec.strength,
        )
    else:
        if not name:
            raise ParameterError("black_box needs name= when given a list of parameters")
        params = tuple(spec)
        if not all(isinstance(p, Param) for p in params):
            raise ParameterError("black_box's spec must be an EffectSpec or a sequence of drywet.spec.Param")
        effect_spec = EffectSpec(name=name, doc=doc or f"black box {name}", params=params, options=tuple(options),
                                 category="black box", differentiable=False)
    channels_of = output_channels or (lambda c: c)
    label = effect_spec.name

    def kernel(x3: np.ndarray, *, sample_rate: int, **settings: Any) -> np.ndarray:
        out = []
        for item in x3:
            try:
                y = fn(item.copy(), sample_rate, dict(settings))
            except BlackBoxError:
                raise
            except Exception as exc:  # the user's code: report which effect and why
                raise BlackBoxError(f"black box {label!r} failed: {type(exc).__name__}: {exc}") from exc
            out.append(check_output(y, item, channels_of(item.shape[0]), label))
        return np.stack(out)

    from ..effects.base import keyword_signature

    keyword_signature(kernel, effect_spec.param_names, effect_spec.option_names)
    effect = Effect(effect_spec, kernel, None, output_channels=channels_of)
    if register:
        from ..registry import register_effect

        register_effect(effect)
    return effect
