"""drywet: audio quality simulation and inversion.

Effects share one parameter spec each (``drywet.spec``), a fast numpy implementation and a
differentiable torch twin. See README.md for the tour.
"""

from .errors import AudioError, DependencyError, DrywetError, ParameterError
from .registry import EFFECTS, get_effect

__version__ = "0.1.0"

__all__ = ["EFFECTS", "AudioError", "DependencyError", "DrywetError", "ParameterError", "__version__", "get_effect"]
