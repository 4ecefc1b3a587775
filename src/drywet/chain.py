"""Chains of effects (``from drywet.chain import Chain`` keeps working): see :mod:`drywet.graph`."""

from .graph.chain import Chain
from .graph.effect_node import Stage, format_value
from .graph.node import PRESET_VERSION

__all__ = ["Chain", "PRESET_VERSION", "Stage", "format_value"]
