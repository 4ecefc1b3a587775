"""The ``Effect`` object: a spec plus its numpy kernel and (optional) torch twin.

Kernels are plain functions ``kernel(x, *, sample_rate, <params in spec order>, <options>)``
working on 3-D (batch, channels, samples) audio. ``Effect`` adds everything that is the same
for all effects: audio and sample-rate checks, defaults and range validation from the spec,
2-D/3-D layout, empty input, exact bypass, and dispatch between numpy and torch.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..audio import as_batch, check_sample_rate, is_tensor, unbatch
from ..dsp.curves import curve_to_samples, curve_to_samples_torch
from ..errors import ParameterError
from ..spec import EffectSpec


@dataclass(frozen=True)
class InverseContext:
    """What an inverse may need beyond the effect's values.

    Attributes:
        channels_before: channels of the effect's input (pan made mono stereo), or None.
        estimated: the values are estimates (blind or matched), not the true ones.
        dynamics_strength: the fraction (in dB) of a dynamics processor's gain reduction to
            add back, 1 for the exact inverse.
        effect: the effect being undone.
    """

    channels_before: int | None = None
    estimated: bool = False
    dynamics_strength: float = 1.0
    effect: Any = None  # the Effect being undone (LTI inverses measure its impulse response)


@dataclass(frozen=True)
class StaticCurve:
    """A memoryless input -> output curve of an effect.

    Attributes:
        function: ``f(params, u) -> v`` on numpy arrays.
        domain: ``"level_db"`` (a steady input level in dBFS -> the output level: dynamics) or
            ``"amplitude"`` (a sample value -> the output sample: waveshapers).
    """

    function: Callable[[Mapping[str, float], np.ndarray], np.ndarray]
    domain: str

    def __post_init__(self) -> None:
        if self.domain not in ("level_db", "amplitude"):
            raise ValueError(f"StaticCurve domain must be 'level_db' or 'amplitude', not {self.domain!r}")


@dataclass(frozen=True)
class Plot:
    """One report panel: lines over a shared x axis (drawn by :mod:`drywet.report`)."""

    title: str
    xlabel: str
    ylabel: str
    x: np.ndarray
    lines: tuple[tuple[str, np.ndarray], ...]
    log_x: bool = False
    identity: bool = False  # draw y = x for reference
    min_span: float = 0.0  # the y axis spans at least this much (a flat response is not drawn as noise)


@dataclass(frozen=True)
class Effect:
    """One registered effect.

    Attributes:
        spec: the parameter spec (single source of truth).
        numpy_kernel: fast implementation for simulation.
        torch_kernel: differentiable twin, or None for black boxes (numpy only).
        output_channels: maps input channels to output channels (pan: mono -> stereo).
        aliases: extra names accepted by the registry and the CLI.
        torch_curves: parameters whose torch twin also takes a curve, (batch, points) spread
            over the signal like the numpy path's (automation that gradients can fit).

    Optional hooks (what inversion and reports dispatch on; tests/test_hooks.py checks each
    declared hook against the effect itself):
        inverse: ``f(y3, sample_rate, params, options, context) -> (x3, notes)`` undoes the
            effect on (batch, channels, samples) audio given its values (:class:`InverseContext`).
        inverse_takes_curves: the inverse takes parameter curves (one value per sample).
        consistent: ``f(y3, params, spec) -> (params or None, notes)`` makes *estimated* values
            consistent with the audio before inverting (None: leave the stage as it is).
        frequency_response: ``f(params, freqs_hz, sample_rate) -> complex response`` of an LTI effect.
        static_curve: a :class:`StaticCurve` (compressor level curve, clipper transfer curve).
        report_plots: ``f(params, options, sample_rate) -> list[Plot]`` for effects whose
            report panels are not a response or a curve.
    """

    spec: EffectSpec
    numpy_kernel: Callable
    torch_kernel: Callable | None = None
    output_channels: Callable[[int], int] = field(default=lambda c: c)
    aliases: tuple[str, ...] = ()
    torch_curves: tuple[str, ...] = ()
    inverse: Callable | None = None
    inverse_takes_curves: bool = False
    consistent: Callable | None = None
    frequency_response: Callable | None = None
    static_curve: StaticCurve | None = None
    report_plots: Callable | None = None

    def __post_init__(self) -> None:
        wrong = [n for n in self.torch_curves if n not in self.spec.curve_param_names]
        if wrong:
            raise ValueError(f"{self.name}: torch_curves {wrong} must be curve parameters of the spec")

    @property
    def name(self) -> str:
        return self.spec.name

    def __call__(self, x: Any, *, sample_rate: int, bypass: bool = False, **settings: Any) -> Any:
        """Apply the effect to numpy audio (numpy kernel) or a torch tensor (torch twin).

        Args:
            x: (channels, samples) or (batch, channels, samples) float audio.
            sample_rate: Hz (required).
            bypass: return an exact copy of ``x`` (after validation).
            **settings: parameters and options of the spec; missing ones take defaults.
        Returns:
            Processed audio, same layout and dtype as ``x`` (channels may change for pan).
        """
        if is_tensor(x):
            return self.torch(x, sample_rate=sample_rate, bypass=bypass, **settings)
        return self.numpy(x, sample_rate=sample_rate, bypass=bypass, **settings)

    def numpy(self, x: np.ndarray, *, sample_rate: int, bypass: bool = False, **settings: Any) -> np.ndarray:
        """Numpy path; every parameter is one number for the whole batch."""
        x3, was_2d = as_batch(x)
        sr = check_sample_rate(sample_rate)
        params, options = self.spec.resolve(settings)
        values = {}
        for name, value in params.items():
            if np.ndim(value) == 0:
                values[name] = float(value)
            elif np.ndim(value) == 1 and self.spec.param(name).curve:
                values[name] = curve_to_samples(np.asarray(value, dtype=np.float64), x3.shape[-1])
            else:
                curves = list(self.spec.curve_param_names)
                hint = f"; {curves} accept a 1-D curve" if curves else ""
                raise ParameterError(
                    f"{self.name}.{name}: the numpy path takes one number per parameter{hint}; "
                    "loop over the batch or use the torch twin for per-item values"
                )
        if bypass:
            return x.copy()
        if x3.shape[-1] == 0:
            return unbatch(np.zeros(self._empty_shape(x3), dtype=x3.dtype), was_2d)
        y = self.numpy_kernel(x3, sample_rate=sr, **values, **options)
        return unbatch(y.astype(x3.dtype, copy=False), was_2d)

    def torch(self, x: Any, *, sample_rate: int, bypass: bool = False, **settings: Any) -> Any:
        """Torch twin; parameters may be floats or tensors of shape (batch,)."""
        import torch

        if self.torch_kernel is None:
            raise ParameterError(
                f"{self.name} has no differentiable torch twin (it is a black box); "
                "run it on numpy arrays, or train through it with a proxy or gradient approximation"
            )
        x3, was_2d = as_batch(x)
        sr = check_sample_rate(sample_rate)
        params, options = self.spec.resolve(settings)
        if bypass:
            return x.clone()
        batch = x3.shape[0]
        tensors = {}
        for name, value in params.items():
            t = torch.as_tensor(value, dtype=x3.dtype, device=x3.device)
            if t.ndim == 0:
                t = t.expand(batch)
            elif t.ndim == 2 and t.shape[0] == batch and name in self.torch_curves:
                t = curve_to_samples_torch(t, x3.shape[-1]) if x3.shape[-1] else t[:, :0]
            elif t.shape != (batch,):
                curves = f"; {list(self.torch_curves)} also take a curve of shape ({batch}, points)" if self.torch_curves else ""
                raise ParameterError(
                    f"{self.name}.{name} must be a number or a tensor of shape ({batch},) "
                    f"(one value per batch item), got shape {tuple(t.shape)}{curves}"
                )
            tensors[name] = t
        if x3.shape[-1] == 0:
            return unbatch(x3.new_zeros(self._empty_shape(x3)), was_2d)
        y = self.torch_kernel(x3, sample_rate=sr, **tensors, **options)
        return unbatch(y, was_2d)

    def _empty_shape(self, x3: Any) -> tuple[int, int, int]:
        return (x3.shape[0], self.output_channels(x3.shape[1]), 0)

    def plots(self, params: Mapping[str, float], options: Mapping[str, Any], sample_rate: int) -> list[Plot]:
        """The report panels of this effect at these values: its own ``report_plots``, else
        the magnitude response and the static curve it declares."""
        if self.report_plots is not None:
            return list(self.report_plots(params, options, sample_rate))
        out = []
        if self.frequency_response is not None:
            freqs = np.geomspace(20.0, min(20000.0, sample_rate / 2 * 0.999), 512)
            db = 20 * np.log10(np.abs(self.frequency_response(params, freqs, sample_rate)) + 1e-12)
            out.append(Plot("magnitude response", "frequency (Hz)", "magnitude (dB)", freqs, (("", db),), log_x=True,
                            min_span=12.0))
        if self.static_curve is not None:
            if self.static_curve.domain == "level_db":
                u = np.linspace(-60.0, 0.0, 241)
                out.append(Plot("static curve", "input level (dBFS)", "output level (dBFS)", u,
                                (("static curve", self.static_curve.function(params, u)),), identity=True))
            else:
                u = np.linspace(-1.5, 1.5, 601)
                out.append(Plot("transfer curve", "input", "output", u, (("", self.static_curve.function(params, u)),),
                                identity=True))
        return out

    def kernel_names(self, which: str) -> tuple[str, ...]:
        """Keyword names of a kernel after ``sample_rate`` (for the registry test)."""
        kernel = self.numpy_kernel if which == "numpy" else self.torch_kernel
        names = [
            p.name
            for p in inspect.signature(kernel).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]
        return tuple(n for n in names if n != "sample_rate")

    def __repr__(self) -> str:
        return f"Effect({self.spec!r})"


def batch_param(value: Any) -> Any:
    """A (B,) tensor parameter as (B, 1, 1), or a (B, T) curve as (B, 1, T), to broadcast
    against (B, C, T) audio."""
    return value[:, None, None] if value.ndim == 1 else value[:, None, :]


def sample_param(value: Any) -> Any:
    """A (B,) tensor parameter as (B, 1), or a (B, T) curve as it is, against (B, T) signals."""
    return value[:, None] if value.ndim == 1 else value


def keyword_signature(kernel: Callable, names: tuple[str, ...], options: tuple[str, ...] = ("mode",)) -> Callable:
    """Give a ``**params`` kernel an explicit keyword signature (spec params, then options),
    so introspection and the registry test see the same names as the spec."""
    kw = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("x", inspect.Parameter.POSITIONAL_ONLY), inspect.Parameter("sample_rate", kw)]
    params += [inspect.Parameter(n, kw) for n in (*names, *options)]
    kernel.__signature__ = inspect.Signature(params)
    return kernel
