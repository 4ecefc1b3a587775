"""Presets of any graph (version 2), and the version-1 chain presets drywet wrote before graphs.

Version 2::

    drywet_preset: 2
    graph: {type: chain, key: chain, bypass: false, nodes: [{type: effect, effect: eq, ...}, ...]}

Node types: ``effect``, ``chain``, ``parallel``, ``send``, ``per_track``, ``bus``, ``mixdown``
(the ``node_dict`` of each class). Version 1 (``{drywet_preset: 1, chain: [stages]}``) is read
as a chain; drywet writes version 2 only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..preset_files import read_preset
from .node import PRESET_VERSION, READS, graph_from_preset, node_from_dict
from .node import Node

__all__ = ["PRESET_VERSION", "READS", "graph_from_preset", "load", "node_from_dict"]


def load(path: Any) -> Node:
    """The graph saved in a preset file (YAML or JSON, version 1 or 2)."""
    return graph_from_preset(read_preset(Path(path)))
