"""pedalboard plugins (its built-in effects, VST3 and Audio Unit files) as black-box effects.

The spec is read from the plugin: a VST3/AU exposes each parameter's range, and pedalboard's
built-ins expose their parameters as float properties whose ranges come from the table
below (pedalboard documents the properties but not their ranges). ``ranges=`` overrides or
completes any of them, ``scales=`` picks lin/log per parameter. pedalboard is GPL and an
optional extra: ``pip install "drywet[plugins]"``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BlackBoxError, DependencyError, ParameterError
from ..spec import EffectSpec, Param
from .callable import black_box

# Ranges for pedalboard's built-ins: (min, max, scale). Chosen as the musically useful span
# of each control (JUCE's own limits where it clamps, e.g. Chorus depth 0..1).
BUILTIN_RANGES: dict[str, dict[str, tuple[float, float, str]]] = {
    "Compressor": {"threshold_db": (-60.0, 0.0, "lin"), "ratio": (1.0, 20.0, "log"),
                   "attack_ms": (0.1, 100.0, "log"), "release_ms": (10.0, 1000.0, "log")},
    "Limiter": {"threshold_db": (-40.0, 0.0, "lin"), "release_ms": (1.0, 1000.0, "log")},
    "NoiseGate": {"threshold_db": (-100.0, 0.0, "lin"), "ratio": (1.0, 20.0, "log"),
                  "attack_ms": (0.1, 100.0, "log"), "release_ms": (10.0, 1000.0, "log")},
    "Gain": {"gain_db": (-24.0, 24.0, "lin")},
    "Distortion": {"drive_db": (0.0, 40.0, "lin")},
    "Clipping": {"threshold_db": (-40.0, 0.0, "lin")},
    "Bitcrush": {"bit_depth": (2.0, 16.0, "lin")},
    "Chorus": {"rate_hz": (0.05, 10.0, "log"), "depth": (0.0, 1.0, "lin"), "centre_delay_ms": (1.0, 30.0, "log"),
               "feedback": (0.0, 0.9, "lin"), "mix": (0.0, 1.0, "lin")},
    "Phaser": {"rate_hz": (0.05, 10.0, "log"), "depth": (0.0, 1.0, "lin"), "centre_frequency_hz": (100.0, 5000.0, "log"),
               "feedback": (0.0, 0.9, "lin"), "mix": (0.0, 1.0, "lin")},
    "Delay": {"delay_seconds": (0.01, 2.0, "log"), "feedback": (0.0, 0.9, "lin"), "mix": (0.0, 1.0, "lin")},
    "Reverb": {"room_size": (0.0, 1.0, "lin"), "damping": (0.0, 1.0, "lin"), "wet_level": (0.0, 1.0, "lin"),
               "dry_level": (0.0, 1.0, "lin"), "width": (0.0, 1.0, "lin")},
    "LowpassFilter": {"cutoff_frequency_hz": (20.0, 20000.0, "log")},
    "HighpassFilter": {"cutoff_frequency_hz": (20.0, 20000.0, "log")},
    "LowShelfFilter": {"cutoff_frequency_hz": (20.0, 20000.0, "log"), "gain_db": (-24.0, 24.0, "lin"), "q": (0.1, 10.0, "log")},
    "HighShelfFilter": {"cutoff_frequency_hz": (20.0, 20000.0, "log"), "gain_db": (-24.0, 24.0, "lin"), "q": (0.1, 10.0, "log")},
    "PeakFilter": {"cutoff_frequency_hz": (20.0, 20000.0, "log"), "gain_db": (-24.0, 24.0, "lin"), "q": (0.1, 10.0, "log")},
    "LadderFilter": {"cutoff_hz": (20.0, 20000.0, "log"), "resonance": (0.0, 1.0, "lin"), "drive": (1.0, 10.0, "log")},
    "PitchShift": {"semitones": (-12.0, 12.0, "lin")},
    "MP3Compressor": {"vbr_quality": (0.0, 9.9, "lin")},
}
# Properties that are not continuous controls.
_SKIP = {"is_effect", "is_instrument", "freeze_mode", "mode", "quality", "name", "reported_latency_samples"}
_UNITS = (("_db", "dB"), ("_ms", "ms"), ("_hz", "Hz"), ("_seconds", "s"), ("_s", "s"))


def _pedalboard():
    try:
        import pedalboard
    except ImportError as exc:
        raise DependencyError("plugin effects need pedalboard (GPL): pip install 'drywet[plugins]'") from exc
    return pedalboard


def _unit(name: str) -> str:
    return next((u for suffix, u in _UNITS if name.endswith(suffix)), "")


def _param(name: str, lo: float, hi: float, scale: str, default: float, doc: str) -> Param:
    if scale == "log" and lo <= 0:
        raise ParameterError(f"{name}: a log scale needs a positive minimum, got {lo}; pass scales={{{name!r}: 'lin'}}")
    default = float(min(max(default, lo), hi))
    return Param(name, _unit(name), float(lo), float(hi), default, scale, doc)


def _builtin_params(plugin: Any, ranges: Mapping[str, tuple], scales: Mapping[str, str]) -> tuple[Param, ...]:
    cls = type(plugin).__name__
    table = BUILTIN_RANGES.get(cls, {})
    names = [n for n in dir(type(plugin)) if isinstance(getattr(type(plugin), n, None), property) and not n.startswith("_") and n not in _SKIP]
    names = [n for n in names if isinstance(getattr(plugin, n), (int, float)) and not isinstance(getattr(plugin, n), bool)]
    missing = [n for n in names if n not in table and n not in ranges]
    if missing:
        raise ParameterError(f"pedalboard.{cls}: no known range for {missing}; pass ranges={{name: (min, max)}} for them")
    params = []
    for n in names:
        lo, hi, scale = (*ranges[n], "lin")[:3] if n in ranges else table[n]
        params.append(_param(n, lo, hi, scales.get(n, scale), float(getattr(plugin, n)), f"pedalboard.{cls}.{n}"))
    return tuple(params)


def _external_params(plugin: Any, ranges: Mapping[str, tuple], scales: Mapping[str, str]) -> tuple[Param, ...]:
    params = []
    for n, p in plugin.parameters.items():
        lo, hi = getattr(p, "min_value", None), getattr(p, "max_value", None)
        if n in ranges:
            lo, hi = ranges[n][:2]
        if not isinstance(lo, (int, float)) or isinstance(lo, bool) or not isinstance(hi, (int, float)) or lo >= hi:
            continue  # switches and text choices are not continuous parameters
        scale = scales.get(n, ranges[n][2] if n in ranges and len(ranges[n]) > 2 else "lin")
        params.append(_param(n, lo, hi, scale, float(getattr(plugin, n)), f"{plugin.name}: {getattr(p, 'label', '') or n}"))
    return tuple(params)


def plugin_effect(
    plugin: Any,
    *,
    name: str | None = None,
    ranges: Mapping[str, tuple] | None = None,
    scales: Mapping[str, str] | None = None,
    register: bool = False,
):
    """A pedalboard plugin as a black-box :class:`~drywet.effects.base.Effect`.

    Args:
        plugin: a pedalboard plugin instance (e.g. ``pedalboard.Compressor()``) or the path of
            a VST3/AU file.
        name: registry name (default: ``pedalboard_<class>`` for built-ins, e.g.
            ``pedalboard_compressor``; the plugin's name in snake case for VST3/AU).
        ranges: {param: (min, max) or (min, max, scale)} overriding the read ranges.
        scales: {param: "lin" | "log"}.
        register: make it known by name to chains and presets.

    Raises:
        DependencyError: pedalboard is not installed.
        BlackBoxError: the plugin file does not exist or fails to load.
    """
    pb = _pedalboard()
    ranges, scales = dict(ranges or {}), dict(scales or {})
    external = not isinstance(plugin, pb.Plugin)
    if external:
        path = Path(plugin)
        if not path.exists():
            raise BlackBoxError(f"plugin not found: {path}; give the path of a .vst3 or .component file")
        try:
            plugin = pb.load_plugin(str(path))
        except Exception as exc:  # pedalboard raises ImportError/RuntimeError for broken plugins
            raise BlackBoxError(f"cannot load plugin {path}: {exc}") from exc
    params = _external_params(plugin, ranges, scales) if external or hasattr(plugin, "parameters") else _builtin_params(plugin, ranges, scales)
    unknown = [n for n in list(ranges) + list(scales) if n not in {p.name for p in params}]
    if unknown:
        raise ParameterError(f"{type(plugin).__name__} has no parameter(s) {unknown}; it has {[p.name for p in params]}")
    # built-ins get a "pedalboard_" prefix so they never shadow drywet's own effects
    label = name or (_snake(getattr(plugin, "name", None)) if external else "pedalboard_" + _snake(type(plugin).__name__))
    spec = EffectSpec(label, f"pedalboard {type(plugin).__name__} (black box)", params, category="plugin", differentiable=False)
    lock = threading.Lock()
    # settings that are not continuous parameters (a filter mode, a resampling quality) are kept
    # from the instance the user configured
    fixed = {n: getattr(plugin, n) for n in ("mode", "quality", "freeze_mode") if not external and hasattr(plugin, n)}

    def run(x: np.ndarray, sample_rate: int, values: dict) -> np.ndarray:
        # Built-ins are cheap to build: one instance per call keeps threads independent.
        # An external plugin is loaded once and shared under a lock.
        if not external:
            instance = type(plugin)(**values)
            for k, v in fixed.items():
                setattr(instance, k, v)
            return instance(x.astype(np.float32), sample_rate, reset=True).astype(x.dtype)
        with lock:
            for k, v in values.items():
                setattr(plugin, k, v)
            return plugin(x.astype(np.float32), sample_rate, reset=True).astype(x.dtype)

    return black_box(run, spec, register=register)


def _snake(text: str | None) -> str:
    text = text or "plugin"
    out = "".join("_" + c.lower() if c.isupper() else c for c in text).strip("_")
    return "".join(c if c.isalnum() else "_" for c in out).strip("_") or "plugin"
