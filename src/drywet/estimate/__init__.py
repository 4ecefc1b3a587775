"""Estimation of effect chains and their parameters (informed: from a dry/wet pair)."""

from .informed import MatchResult, match_chain

__all__ = ["MatchResult", "match_chain"]
