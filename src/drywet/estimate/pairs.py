"""What the matchers (gradient and black-box) and the uncertainty analysis share about a
dry/wet pair: input checks, the loudest excerpt they score, and the objective per item."""

from __future__ import annotations

import numpy as np

from ..audio import as_batch
from ..errors import AudioError, ParameterError

LOSSES = ("logmel", "mrstft")
# Processing a cut excerpt from silence gives a compressor's detector a start-up transient the
# wet signal did not have (log-mel loss up to 0.09 at the TRUE parameters on 4 s excerpts of
# the eval_match cases, enough to move the optimum; at most 0.0008 with 1 s of warm-up:
# python evaluations/eval_match.py --truth-objective)
WARMUP_S = 1.0


def per_item_loss(kind: str, target, estimate, sample_rate: int):
    """Objective per batch item, shape (B,)."""
    from ..metrics import losses

    if kind == "logmel":
        return losses.logmel_per_item(target, estimate, sample_rate=sample_rate)
    return losses.mrstft_per_item(target, estimate)


def loudest_excerpt(dry: np.ndarray, sample_rate: int, seconds: float | None) -> tuple[int, int]:
    """(start, stop) of the loudest ``seconds`` of dry (channels, samples), on 0.5 s hops."""
    length = dry.shape[-1]
    if seconds is None or seconds * sample_rate >= length:
        return 0, length
    win, hop = int(seconds * sample_rate), int(0.5 * sample_rate)
    energy = np.concatenate([[0.0], np.cumsum((dry.astype(np.float64) ** 2).sum(axis=0))])
    starts = np.arange(0, length - win + 1, hop)
    best = int(starts[np.argmax(energy[starts + win] - energy[starts])])
    return best, best + win


def check_pair(dry, wet, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """Both matchers' input checks; returns dry and wet as (1, channels, samples)."""
    d3, d2 = as_batch(np.asarray(dry), name="dry", allow_empty=False)
    w3, w2 = as_batch(np.asarray(wet), name="wet", allow_empty=False)
    if not (d2 and w2) or d3.shape != w3.shape:
        raise AudioError(f"dry and wet must be aligned (channels, samples) arrays of one shape, got {d3.shape} and {w3.shape} "
                         "(drywet.dsp.align.align_to_wet puts a dry on its wet's timeline)")
    if loss not in LOSSES:
        raise ParameterError(f"loss must be one of {LOSSES}, got {loss!r}")
    if float(np.abs(d3).max()) == 0.0:
        raise AudioError("the dry signal is silent; nothing can be estimated from it")
    if float(np.abs(w3).max()) == 0.0:
        raise AudioError("the wet signal is silent: no chain of these effects explains it; check the file and its alignment")
    return d3, w3


def excerpt_bounds(dry: np.ndarray, sample_rate: int, excerpt_s: float | None) -> tuple[int, int, int]:
    """(start, stop, warm) of the scored excerpt: the chain runs from ``start - warm`` (up to
    WARMUP_S earlier) so that detectors and filter states have settled as they had in the wet
    signal; only [start, stop) is scored."""
    start, stop = loudest_excerpt(dry, sample_rate, excerpt_s)
    return start, stop, min(start, int(WARMUP_S * sample_rate))
