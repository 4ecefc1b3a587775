"""Training through effects without exact gradients: SPSA and finite differences around a
black box, and chains that mix autodiff, approximated gradients and neural proxies."""

from .approx import ApproxGradEffect, approximate_gradient
from .through import METHODS, ThroughChain

__all__ = ["METHODS", "ApproxGradEffect", "ThroughChain", "approximate_gradient"]
