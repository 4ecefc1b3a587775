"""Estimation of effect chains and their parameters: informed (from a dry/wet pair, by
gradients or, for black boxes, CMA-ES) and blind (from the wet audio, ``estimate.blind``)."""

from .blackbox import match_chain_blackbox
from .informed import MatchResult, match_chain

__all__ = ["MatchResult", "match_chain", "match_chain_blackbox"]
