"""Pipelines that combine tasks, called by the demo and the CLI alike: restoration with a known
chain or a blindly estimated one, scored against the dry signal when it is known."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import DrywetError
from .graph.chain import Chain
from .invert import BLIND_DYNAMICS_STRENGTH, InversionResult, invert_chain
from .invert.chain import check_dynamics_strength, uses_dynamics_strength


def si_sdr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """SI-SDR (dB) of two (channels, samples) numpy signals."""
    import torch

    from .metrics import si_sdr

    return float(si_sdr(torch.as_tensor(np.asarray(reference, np.float64)), torch.as_tensor(np.asarray(estimate, np.float64))))


def logmel_distance(reference: np.ndarray, estimate: np.ndarray, *, sample_rate: int) -> float:
    """Log-mel L1 distance of two (channels, samples) numpy signals."""
    import torch

    from .metrics import logmel_l1

    ref, est = (torch.as_tensor(np.asarray(a, np.float32)) for a in (reference, estimate))
    return float(logmel_l1(ref, est, sample_rate=sample_rate))


def estimate_for_inversion(wet: np.ndarray, *, sample_rate: int, setting: str = "chain") -> Chain:
    """The chain a blind restoration undoes: the bundled estimator's weights tuned for inversion."""
    from .estimate.blind import bundled_estimator

    return bundled_estimator(setting, for_inversion=True).estimate(wet, sample_rate=sample_rate)


@dataclass
class StageReport:
    key: str
    notes: list[str]
    si_sdr_db: float | None = None  # against the true signal before this stage, when the dry is known


@dataclass
class Restoration:
    """What :func:`restore` did: the chain undone, the inversion, and per-stage notes and scores."""

    chain: Chain
    result: InversionResult
    dynamics_strength: float
    stages: list[StageReport] = field(default_factory=list)  # last stage first, as undone
    summary: dict[str, float] = field(default_factory=dict)  # against the dry, when given

    @property
    def audio(self) -> Any:
        return self.result.audio


def restore(wet: np.ndarray, *, sample_rate: int, chain: Chain | None = None, estimate: str | None = None,
            estimated: bool = False, dynamics_strength: float | None = None, dry: np.ndarray | None = None) -> Restoration:
    """Undo a known ``chain``, or one estimated blindly first (``estimate``: a bundled setting).

    Args:
        wet: (channels, samples) processed audio.
        sample_rate: Hz.
        chain: the chain that was applied; exclusive with ``estimate``.
        estimate: estimate the chain from ``wet`` with this bundled setting (``"chain"``, ...).
        estimated: ``chain`` holds estimates (implied by ``estimate``).
        dynamics_strength: fraction of the dynamics' gain reduction undone; default 1, or
            ``BLIND_DYNAMICS_STRENGTH`` with ``estimate``.
        dry: the original, to score each stage and the whole restoration.
    """
    if (chain is None) == (estimate is None):
        raise DrywetError("give either a chain (known parameters) or estimate=SETTING (blind estimation first)")
    if dynamics_strength is not None:
        check_dynamics_strength(dynamics_strength)
    if not np.any(wet):
        raise DrywetError("the wet audio is silent: there is nothing to invert")
    if estimate is not None:
        chain = estimate_for_inversion(wet, sample_rate=sample_rate, setting=estimate)
    strength = dynamics_strength if dynamics_strength is not None else (BLIND_DYNAMICS_STRENGTH if estimate else 1.0)
    result = invert_chain(wet, chain, sample_rate=sample_rate, input_channels=dry.shape[0] if dry is not None else None,
                          estimated=bool(estimate or estimated), dynamics_strength=strength)
    out = Restoration(chain, result, strength)
    serial = [s for _, s in chain.effect_stages()]
    for i, stage in reversed(list(enumerate(result.stages))):
        notes = list(stage.notes)
        if uses_dynamics_strength(serial[i].effect) and strength < 1.0:
            notes.insert(0, f"model inverse undoing {strength:g} of the gain reduction in dB")
        score = None
        if dry is not None:  # compare with the true signal at that point of the chain
            truth = Chain(serial[:i])(dry, sample_rate=sample_rate) if i else dry
            if truth.shape == stage.audio.shape:
                score = si_sdr_db(truth, stage.audio)
        out.stages.append(StageReport(stage.key, notes, score))
    if dry is not None:
        same = wet.shape == dry.shape
        out.summary = {
            "si_sdr_wet_db": si_sdr_db(dry, wet) if same else float("nan"),
            "si_sdr_restored_db": si_sdr_db(dry, result.audio),
            "logmel_wet": logmel_distance(dry, wet, sample_rate=sample_rate) if same else float("nan"),
            "logmel_restored": logmel_distance(dry, result.audio, sample_rate=sample_rate),
        }
    return out
