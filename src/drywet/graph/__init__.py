"""Processing graphs: the node protocol and every node drywet renders.

An effect (``Stage``), a serial ``Chain``, ``Parallel`` branches, a ``SendReturn``, a
``PerTrack`` node, a ``Bus`` and a ``MixDown`` share one protocol (:mod:`.node`): numpy and
torch rendering, a normalized vector with nested keys, bypass, sampling and presets
(:mod:`.presets`). Multitrack nodes take audio shaped (batch, tracks, channels, samples).
"""

from .chain import Chain, walk_stages
from .effect_node import Stage, format_value
from .node import Node
from .parallel import Parallel, SendReturn
from .presets import PRESET_VERSION, graph_from_preset, load
from .tracks import Bus, MixDown, PerTrack

__all__ = ["Bus", "Chain", "MixDown", "Node", "PRESET_VERSION", "Parallel", "PerTrack", "SendReturn", "Stage",
           "format_value", "graph_from_preset", "load", "walk_stages"]
