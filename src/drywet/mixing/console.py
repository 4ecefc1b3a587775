"""The mixing console: a channel strip per track, effect buses fed by sends, a master chain,
built as a drywet graph (:class:`drywet.graph.MixDown`), so the same object renders with the
numpy kernels and learns through the torch twins, automation included.

Channel strips are serial chains of registered effects (the thesis' DMC-basic is
``["gain", "pan"]``); every track has the same processors and its own values. Mono stems in a
session with stereo stems are placed as dual mono, and ``pan`` then works as the balance law
of drywet's pan (unity at the centre)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import ParameterError
from ..graph import Bus, Chain, MixDown, PerTrack, Stage
from ..registry import get_effect

DEFAULT_STRIP = ("gain", "polarity", "parametric_eq", "compressor", "pan", "stereo_width")
MAX_TRACKS = 128


def strip(processors: Sequence[str]) -> Chain:
    """A channel strip: the effects in order, at their defaults (keys are the effect names)."""
    if not processors:
        raise ParameterError("a channel strip needs at least one processor, e.g. ['gain', 'pan']")
    names = [get_effect(p).name for p in processors]
    if len(set(names)) != len(names):
        raise ParameterError(f"a strip holds each processor once, got {list(processors)}")
    return Chain([Stage.create(n) for n in names], key="strip")


def console(track_names: Sequence[str], *, processors: Sequence[str] = DEFAULT_STRIP,
            settings: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
            buses: Mapping[str, Chain] | None = None, sends_db: Mapping[str, Mapping[str, float]] | None = None,
            master: Chain | None = None) -> MixDown:
    """A console for ``track_names``.

    Args:
        track_names: one name per track (the keys of the parameters: ``"vocals.gain.gain_db"``).
        processors: the strip's effects, in order.
        settings: {track: {processor: {param: value}}} in physical units; missing ones take defaults.
        buses: {bus name: its chain} (a reverb, a delay).
        sends_db: {bus name: {track: send level in dB}}; tracks not named send nothing.
        master: the master chain.
    Returns:
        A :class:`~drywet.graph.MixDown` taking (batch, tracks, channels, samples).
    """
    if not 1 <= len(track_names) <= MAX_TRACKS:
        raise ParameterError(f"a console takes 1 to {MAX_TRACKS} tracks, got {len(track_names)}")
    template = strip(processors)
    per_track = PerTrack(template, list(track_names), key="tracks")
    values = {}
    for track, by_processor in (settings or {}).items():
        if track not in per_track.names:
            raise ParameterError(f"settings for an unknown track {track!r}; tracks are {list(per_track.names)}")
        for processor, params in by_processor.items():
            key = get_effect(processor).name
            if key not in {s.key for s in template.stages}:
                raise ParameterError(f"{track}: the strip has no {processor!r}; its processors are {[s.key for s in template.stages]}")
            values.update({f"{track}.{key}.{name}": v for name, v in params.items()})
    per_track = per_track.with_params(values) if values else per_track
    bus_nodes = []
    for name, chain in (buses or {}).items():
        bus_nodes.append(Bus(chain, per_track.names, sends_db=dict((sends_db or {}).get(name, {})), key=name))
    unknown = sorted(set(sends_db or {}) - set(buses or {}))
    if unknown:
        raise ParameterError(f"sends to unknown buses {unknown}; buses are {sorted(buses or {})}")
    return MixDown(per_track, bus_nodes, master if master is not None else Chain([], key="master"))
