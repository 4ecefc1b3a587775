"""Model-based inversion: undo effects whose parameters are known or estimated."""

from .chain import (
    BLIND_DYNAMICS_STRENGTH,
    InversionResult,
    InversionWarning,
    invert_chain,
    invertible_effects,
)

__all__ = ["BLIND_DYNAMICS_STRENGTH", "InversionResult", "InversionWarning", "invert_chain", "invertible_effects"]
