"""Data augmentation: random chains with labels, torch integration, folder jobs."""

from .pipeline import Augment, AugmentResult, EffectDraw

__all__ = ["Augment", "AugmentResult", "EffectDraw"]
