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

from ..audio import check_sample_rate
from ..chain import Chain, Stage
from ..errors import ParameterError
from .pairs import LOSSES, check_pair, excerpt_bounds, per_item_loss  # noqa: F401 (LOSSES: public here too)
from .transfer import transfer_candidates

INITS = ("transfer", "random")


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


def fir_analysis_chain(chain: Chain) -> Chain:
    """The analysis chain: EQ-type stages in their fast FIR mode."""
    stages = []
    for s in chain.stages:
        options = dict(s.options)
        if "mode" in options:
            options["mode"] = "fir"
        stages.append(Stage(s.effect, s.params, options, s.bypass, s.key))
    return Chain(stages)


def _excerpt_objective(analysis: Chain, x_full, y_full, sample_rate: int, excerpt_s: float | None, loss: str):
    """q (B, P) -> per-item loss of ``analysis`` on the loudest excerpt of the pair, after
    the warm-up of :func:`excerpt_bounds`."""
    start, stop, warm = excerpt_bounds(x_full[0].numpy(), sample_rate, excerpt_s)
    x, y = x_full[..., start - warm : stop], y_full[..., start:stop]

    def objective(q):
        est = analysis.apply_torch(x.expand(q.shape[0], -1, -1), sample_rate=sample_rate, q=q)[..., warm:]
        return per_item_loss(loss, y.expand(q.shape[0], -1, -1), est, sample_rate)

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
    d3, w3 = check_pair(dry, wet, loss)
    if init not in INITS:
        raise ParameterError(f"init must be one of {INITS}, got {init!r}")
    if restarts < 1 or candidates < restarts or steps < 0:
        raise ParameterError("need restarts >= 1, candidates >= restarts and steps >= 0")
    template = Chain.from_names(effects)
    for s in template.stages:
        if s.effect.torch_kernel is None:
            raise ParameterError(f"{s.effect.name} has no torch twin; informed estimation needs differentiable effects")
    analysis = fir_analysis_chain(template)
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
        final_loss = float(per_item_loss(loss, y_full, y_hat, sr)[0])
        dry_loss = float(per_item_loss(loss, y_full, x_full, sr)[0])
    return MatchResult(estimated, final_loss, dry_loss, history, time.perf_counter() - t0)
