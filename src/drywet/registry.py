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
