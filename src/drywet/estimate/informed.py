"""Informed estimation by analysis-by-synthesis: find the chain parameters q that make
``chain(dry)`` sound like ``wet``.

Method: q = sigmoid(logits); a batch of candidates is scored in one batched forward pass and
the best ``restarts`` start Adam, all restarts optimized together as one batch
through the differentiable chain (EQs in their frequency-sampled FIR mode). The objective is
the log-mel L1 distance after RMS normalization (Peladeau & Peeters, ICASSP 2024) or the
MR-STFT loss. The best restart is kept and evaluated with the numpy chain.

Candidates: the spec defaults and random settings; with ``init="transfer"`` (the default)
the random candidates' leading EQ/filter stages are set, in turn, to fits of the pair's
transfer function (:mod:`drywet.estimate.transfer`), the rest of the chain staying random.
EQ parameters are where random starts most often end in a wrong basin.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..audio import as_batch, check_sample_rate
from ..chain import Chain, Stage
from ..errors import AudioError, ParameterError
from .transfer import transfer_candidates

LOSSES = ("logmel", "mrstft")
INITS = ("transfer", "random")
# Processing a cut excerpt from silence gives a compressor's detector a start-up transient the
# wet signal did not have (log-mel loss up to 0.09 at the TRUE parameters on 4 s excerpts of
# the eval_match cases, enough to move the optimum; at most 0.0008 with 1 s of warm-up:
# python benchmarks/eval_match.py --truth-objective)
WARMUP_S = 1.0


@dataclass
class MatchResult:
    """What :func:`match_chain` found.

    Attributes:
        chain: the estimated chain (physical values).
        loss: objective of chain(dry) against wet.
        loss_dry: objective of dry against wet (the do-nothing baseline).
        history: objective of the best restart after each step.
        seconds: wall time.
    """

    chain: Chain
    loss: float
    loss_dry: float
    history: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def loss_ratio(self) -> float:
        """loss / loss_dry: below 1 means the estimate explains part of the processing."""
        return self.loss / self.loss_dry if self.loss_dry > 0 else 0.0


def _per_item_loss(kind: str, target, estimate, sample_rate: int):
    """Objective per batch item, shape (B,)."""
    from ..metrics import losses

    if kind == "logmel":
        return losses.logmel_per_item(target, estimate, sample_rate=sample_rate)
    return losses.mrstft_per_item(target, estimate)


def _torch_chain(chain: Chain) -> Chain:
    """The analysis chain: EQ-type stages in their fast FIR mode."""
    stages = []
    for s in chain.stages:
        options = dict(s.options)
        if "mode" in options:
            options["mode"] = "fir"
        stages.append(Stage(s.effect, s.params, options, s.bypass, s.key))
    return Chain(stages)


def _loudest_excerpt(dry: np.ndarray, sample_rate: int, seconds: float | None) -> tuple[int, int]:
    """(start, stop) of the loudest ``seconds`` of dry (channels, samples), on 0.5 s hops."""
    length = dry.shape[-1]
    if seconds is None or seconds * sample_rate >= length:
        return 0, length
    win, hop = int(seconds * sample_rate), int(0.5 * sample_rate)
    energy = np.concatenate([[0.0], np.cumsum((dry.astype(np.float64) ** 2).sum(axis=0))])
    starts = np.arange(0, length - win + 1, hop)
    best = int(starts[np.argmax(energy[starts + win] - energy[starts])])
    return best, best + win


def _check_pair(dry, wet, loss: str) -> tuple[np.ndarray, np.ndarray]:
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


def _excerpt_bounds(dry: np.ndarray, sample_rate: int, excerpt_s: float | None) -> tuple[int, int, int]:
    """(start, stop, warm) of the scored excerpt: the chain runs from ``start - warm`` (up to
    WARMUP_S earlier) so that detectors and filter states have settled as they had in the wet
    signal; only [start, stop) is scored."""
    start, stop = _loudest_excerpt(dry, sample_rate, excerpt_s)
    return start, stop, min(start, int(WARMUP_S * sample_rate))


def _excerpt_objective(analysis: Chain, x_full, y_full, sample_rate: int, excerpt_s: float | None, loss: str):
    """q (B, P) -> per-item loss of ``analysis`` on the loudest excerpt of the pair, after
    the warm-up of :func:`_excerpt_bounds`."""
    start, stop, warm = _excerpt_bounds(x_full[0].numpy(), sample_rate, excerpt_s)
    x, y = x_full[..., start - warm : stop], y_full[..., start:stop]

    def objective(q):
        est = analysis.apply_torch(x.expand(q.shape[0], -1, -1), sample_rate=sample_rate, q=q)[..., warm:]
        return _per_item_loss(loss, y.expand(q.shape[0], -1, -1), est, sample_rate)

    return objective


def match_chain(
    dry: np.ndarray,
    wet: np.ndarray,
    *,
    sample_rate: int,
    effects: str = "eq,compressor,clipper",
    loss: str = "logmel",
    restarts: int = 4,
    candidates: int = 32,
    steps: int = 150,
    learning_rate: float = 0.05,
    seed: int = 0,
    excerpt_s: float | None = 4.0,
    init: str = "transfer",
) -> MatchResult:
    """Estimate the parameters of ``effects`` that turn ``dry`` into ``wet``.

    Args:
        dry, wet: aligned (channels, samples) float arrays of equal shape.
        sample_rate: Hz.
        effects: comma-separated effect names (all must have torch twins).
        loss: "logmel" or "mrstft".
        restarts: optimizations run together from the best candidates.
        candidates: q vectors scored to choose the starting points.
        steps: Adam steps.
        learning_rate: Adam step size on the logits of q.
        seed: seeds the candidates.
        excerpt_s: optimize on the loudest excerpt of this length (dry RMS over 0.5 s
            hops), then evaluate on the whole signal; None uses everything. The effects are
            time-invariant, so a few seconds determine them and the cost drops in proportion.
            The chain runs from WARMUP_S before the excerpt (warm-up not scored).
        init: "transfer" sets the candidates' leading EQ/filter stages to fits of the
            pair's transfer function; "random" uses random candidates only.
    Returns:
        MatchResult with the best chain.
    """
    import torch

    t0 = time.perf_counter()
    sr = check_sample_rate(sample_rate)
    d3, w3 = _check_pair(dry, wet, loss)
    if init not in INITS:
        raise ParameterError(f"init must be one of {INITS}, got {init!r}")
    if restarts < 1 or candidates < restarts or steps < 0:
        raise ParameterError("need restarts >= 1, candidates >= restarts and steps >= 0")
    template = Chain.from_names(effects)
    for s in template.stages:
        if s.effect.torch_kernel is None:
            raise ParameterError(f"{s.effect.name} has no torch twin; informed estimation needs differentiable effects")
    analysis = _torch_chain(template)
    x_full = torch.tensor(d3, dtype=torch.float32)
    y_full = torch.tensor(w3, dtype=torch.float32)
    objective = _excerpt_objective(analysis, x_full, y_full, sr, excerpt_s, loss)

    rng = np.random.default_rng(seed)
    q0 = np.vstack([template.to_q()[None], rng.uniform(0.02, 0.98, (candidates - 1, template.num_params))])
    if init == "transfer":
        fits = transfer_candidates(template, d3[0], w3[0], sr, seed=seed)
        for i, row in enumerate(range(1, candidates)):
            if len(fits):
                q0[row, : fits.shape[1]] = fits[i % len(fits)]
    with torch.no_grad():
        scores = objective(torch.tensor(q0, dtype=torch.float32))
    best = np.argsort(scores.numpy())[:restarts]
    start_q = np.clip(q0[best], 1e-3, 1 - 1e-3)
    logits = torch.tensor(np.log(start_q / (1 - start_q)), dtype=torch.float32, requires_grad=True)
    optimizer = torch.optim.Adam([logits], lr=learning_rate)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        per_item = objective(torch.sigmoid(logits))
        per_item.sum().backward()
        optimizer.step()
        history.append(float(per_item.detach().min()))
    with torch.no_grad():
        final = objective(torch.sigmoid(logits))
    q_best = torch.sigmoid(logits[int(final.argmin())]).detach().double().numpy()
    estimated = template.with_q(q_best)
    with torch.no_grad():
        y_hat = torch.tensor(estimated(d3[0].astype(np.float32), sample_rate=sr))[None]
        final_loss = float(_per_item_loss(loss, y_full, y_hat, sr)[0])
        dry_loss = float(_per_item_loss(loss, y_full, x_full, sr)[0])
    return MatchResult(estimated, final_loss, dry_loss, history, time.perf_counter() - t0)
