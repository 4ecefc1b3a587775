"""Every effect drywet knows, by name and alias."""

from __future__ import annotations

from .effects import (
    bandwidth,
    codecs,
    coloration,
    delay,
    distortion,
    dynamics,
    filters,
    gain,
    media,
    modulation,
    noise,
    reverb,
    timescale,
)
from .effects.base import Effect
from .errors import ParameterError

_MODULES = (gain, filters, dynamics, distortion, reverb, delay, modulation, noise, bandwidth, codecs, media, coloration, timescale)

EFFECTS: dict[str, Effect] = {e.name: e for m in _MODULES for e in m.EFFECTS}
ALIASES: dict[str, str] = {a: e.name for e in EFFECTS.values() for a in e.aliases}


def get_effect(name: str) -> Effect:
    """Look an effect up by name or alias; the error lists what exists."""
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in EFFECTS:
        raise ParameterError(
            f"unknown effect {name!r}; known effects: {', '.join(sorted(EFFECTS))} "
            f"(aliases: {', '.join(sorted(ALIASES))}); `drywet effects` lists them"
        )
    return EFFECTS[key]


def effect_names() -> list[str]:
    return list(EFFECTS)


def register_effect(effect: Effect, *, replace: bool = False) -> Effect:
    """Make ``effect`` (e.g. a black box) known by name, so chains and presets can use it.

    Raises:
        ParameterError: the name is taken by another effect and ``replace`` is False.
    """
    if not isinstance(effect, Effect):
        raise ParameterError(f"register_effect takes an Effect, got {type(effect).__name__}; build one with drywet.blackbox.black_box")
    taken = effect.name in EFFECTS or effect.name in ALIASES
    if taken and not replace and EFFECTS.get(effect.name) is not effect:
        raise ParameterError(f"an effect named {effect.name!r} exists; choose another name or pass replace=True")
    EFFECTS[effect.name] = effect
    for a in effect.aliases:
        ALIASES[a] = effect.name
    return effect
