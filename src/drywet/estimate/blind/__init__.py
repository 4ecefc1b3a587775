"""Blind estimation: an analysis network predicts a chain's normalized parameters from the
wet audio alone (Peladeau & Peeters, ICASSP 2024, the auto-encoder of seed 001)."""

from .model import SETTINGS, BlindEstimator, bundled_estimator

__all__ = ["SETTINGS", "BlindEstimator", "bundled_estimator"]
