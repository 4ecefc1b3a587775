"""Model-based inversion: undo effects whose parameters are known or estimated."""

from .chain import InversionResult, InversionWarning, invert_chain, invertible_effects

__all__ = ["InversionResult", "InversionWarning", "invert_chain", "invertible_effects"]
