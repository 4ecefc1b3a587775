"""Analyses of models and features under effects (invariance)."""
