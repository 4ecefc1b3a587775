"""Inversion and restoration: undo effects whose parameters are known or estimated (each
effect's ``inverse`` hook, or a shipped learned restorer), declip, dereverberate."""

from ..dsp.deconvolve import wpe_dereverb
from ..dsp.declip import declip, find_clipped
from .chain import (
    BLIND_DYNAMICS_STRENGTH,
    InversionResult,
    InversionWarning,
    invert_chain,
    invertible_effects,
)

__all__ = ["BLIND_DYNAMICS_STRENGTH", "InversionResult", "InversionWarning", "declip", "find_clipped", "invert_chain",
           "invertible_effects", "wpe_dereverb"]
