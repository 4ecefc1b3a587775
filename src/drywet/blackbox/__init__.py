"""Black-box effects: any callable or audio plugin with a parameter spec.

A black box runs on numpy audio only; to train through it use a gradient approximation
(:mod:`drywet.gradients`) or a neural proxy (:mod:`drywet.neural`).
"""

from .callable import black_box
from .plugins import plugin_effect

__all__ = ["black_box", "plugin_effect"]
