"""Presets of any graph (version 2), and the version-1 chain presets drywet wrote before graphs.

Version 2::

    drywet_preset: 2
    graph: {type: chain, key: chain, bypass: false, nodes: [{type: effect, effect: eq, ...}, ...]}

Node types: ``effect``, ``chain``, ``parallel``, ``send``, ``per_track``, ``bus``, ``mixdown``
(the ``node_dict`` of each class). Version 1 (``{drywet_preset: 1, chain: [stages]}``) is read
as a chain; drywet writes version 2 only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import DrywetError, ParameterError
from ..preset_files import read_preset
from .chain import Chain
from .effect_node import Stage
from .node import Node
from .parallel import Parallel, SendReturn
from .tracks import Bus, MixDown, PerTrack

PRESET_VERSION = 2
READS = (1, 2)


def graph_to_preset(node: Node) -> dict:
    return {"drywet_preset": PRESET_VERSION, "graph": node.node_dict()}


def graph_from_preset(data: Any) -> Node:
    """The node a preset mapping describes (version 1 or 2)."""
    if not isinstance(data, Mapping) or ("chain" not in data and "graph" not in data):
        raise DrywetError("not a drywet preset: expected a mapping with a 'graph' (version 2) or 'chain' (version 1)")
    _check_tree(data, "preset", ())
    version = data.get("drywet_preset", 1 if "chain" in data else PRESET_VERSION)
    if version not in READS:
        raise DrywetError(f"preset version {version} is not supported (this drywet reads versions {list(READS)}); "
                          "upgrade drywet to read it")
    if version == 1:
        if not isinstance(data.get("chain"), list):
            raise DrywetError("a version-1 preset needs a 'chain' list of stages")
        return Chain([_effect(entry, f"stage {i}") for i, entry in enumerate(data["chain"])])
    return node_from_dict(data["graph"], "graph")


def _check_tree(d: Any, where: str, stack: tuple) -> None:
    """Refuse a preset that contains itself (YAML anchors can write one): a graph is a tree."""
    if isinstance(d, (Mapping, list)):
        if id(d) in stack:
            raise DrywetError(f"{where} contains itself (a cycle, e.g. a YAML alias inside its own anchor); "
                              "a graph must be a tree: write the repeated node out again instead of aliasing it")
        items = d.items() if isinstance(d, Mapping) else enumerate(d)
        for k, v in items:
            _check_tree(v, f"{where}.{k}", stack + (id(d),))


def node_from_dict(d: Any, where: str) -> Node:
    if not isinstance(d, Mapping) or "type" not in d:
        raise DrywetError(f"preset {where} needs a mapping with a 'type' (one of {sorted(_BUILDERS)})")
    kind = d["type"]
    if kind not in _BUILDERS:
        raise DrywetError(f"preset {where} has unknown node type {kind!r}; use one of {sorted(_BUILDERS)}")
    try:
        return _BUILDERS[kind](d, where)
    except KeyError as exc:
        raise DrywetError(f"preset {where} ({kind}) lacks the entry {exc}; write it as drywet saves it") from None


def _effect(d: Any, where: str) -> Stage:
    if not isinstance(d, Mapping) or "effect" not in d:
        raise DrywetError(f"preset {where} needs an 'effect' name")
    try:
        return Stage.create(d["effect"], d.get("params"), d.get("options"), d.get("bypass", False), d.get("key", ""))
    except ParameterError as exc:
        raise ParameterError(f"preset {where}: {exc}") from None


def _chain(d, where):
    nodes = [node_from_dict(n, f"{where}.{i}") for i, n in enumerate(d.get("nodes", []))]
    return Chain(nodes, key=d.get("key", "chain"), bypass=d.get("bypass", False))


def _parallel(d, where):
    branches = [node_from_dict(n, f"{where}.{i}") for i, n in enumerate(d["branches"])]
    return Parallel(branches, key=d.get("key", "parallel"), bypass=d.get("bypass", False))


def _send(d, where):
    return SendReturn(node_from_dict(d["return"], f"{where}.return"), send_db=d.get("params", {}).get("send_db", -12.0),
                      key=d.get("key", "send"), bypass=d.get("bypass", False))


def _per_track(d, where):
    template = node_from_dict(d["template"], f"{where}.template")
    tracks = d["tracks"]
    if not isinstance(tracks, Mapping):
        raise DrywetError(f"preset {where}: 'tracks' maps each track name to its node")
    nodes = [node_from_dict(n, f"{where}.{name}") for name, n in tracks.items()]
    return PerTrack(template, list(tracks), nodes=nodes, key=d.get("key", "tracks"), bypass=d.get("bypass", False))


def _bus(d, where):
    names = list(d["tracks"])
    params = d.get("params", {})
    sends = {t: params[f"{t}_send_db"] for t in names if f"{t}_send_db" in params}
    return Bus(node_from_dict(d["return"], f"{where}.return"), names, sends_db=sends, key=d.get("key", "bus"),
               bypass=d.get("bypass", False))


def _mixdown(d, where):
    tracks = node_from_dict(d["tracks"], f"{where}.tracks")
    buses = [node_from_dict(b, f"{where}.buses.{i}") for i, b in enumerate(d.get("buses", []))]
    master = node_from_dict(d["master"], f"{where}.master") if d.get("master") else None
    return MixDown(tracks, buses, master, key=d.get("key", "mix"), bypass=d.get("bypass", False))


_BUILDERS = {"effect": _effect, "chain": _chain, "parallel": _parallel, "send": _send, "per_track": _per_track,
             "bus": _bus, "mixdown": _mixdown}


def load(path: Any) -> Node:
    """The graph saved in a preset file (YAML or JSON, version 1 or 2)."""
    return graph_from_preset(read_preset(Path(path)))
