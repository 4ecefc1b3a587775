"""Informed estimation for chains that cannot be differentiated (codecs, degradations,
plugins): CMA-ES (Hansen's ``cma`` package) on the normalized parameters, with the same
objective as :func:`drywet.estimate.match_chain` (log-mel L1 or MR-STFT between chain(dry) and
wet on the loudest excerpt), evaluated with the numpy kernels.
"""

from __future__ import annotations

import time

import numpy as np

from ..audio import check_sample_rate
from ..chain import Chain
from ..errors import DependencyError, ParameterError
from .informed import MatchResult
from .pairs import check_pair, excerpt_bounds, per_item_loss


def match_chain_blackbox(
    dry: np.ndarray,
    wet: np.ndarray,
    *,
    sample_rate: int,
    effects: str,
    loss: str = "logmel",
    budget: int = 600,
    sigma0: float = 0.25,
    seed: int = 0,
    excerpt_s: float | None = 4.0,
) -> MatchResult:
    """Estimate the parameters of ``effects`` (any effects) that turn ``dry`` into ``wet``.

    Args:
        budget: chain evaluations (CMA-ES function evaluations).
        sigma0: initial step size in normalized units.
        Others as :func:`drywet.estimate.match_chain`.
    """
    try:
        import cma
    except ImportError:
        raise DependencyError("black-box estimation needs cma: pip install 'drywet[blackbox]'") from None
    import torch

    t0 = time.perf_counter()
    sr = check_sample_rate(sample_rate)
    d3, w3 = check_pair(dry, wet, loss)
    if budget < 10:
        raise ParameterError(f"budget must be at least 10 evaluations, got {budget}")
    template = Chain.from_names(effects)
    start, stop, warm = excerpt_bounds(d3[0], sr, excerpt_s)
    x = d3[0][:, start - warm : stop].astype(np.float32)
    y = torch.tensor(w3[0][:, start:stop], dtype=torch.float32)[None]
    history: list[float] = []

    def objective(q) -> float:
        est = template.with_q(np.clip(q, 0.0, 1.0))(x, sample_rate=sr)
        if est.shape != x.shape:  # a length-changing effect: compare what overlaps
            est = np.pad(est, ((0, 0), (0, max(0, x.shape[-1] - est.shape[-1]))))[:, : x.shape[-1]]
        est = est[:, warm:]
        with torch.no_grad():
            value = float(per_item_loss(loss, y, torch.tensor(est, dtype=torch.float32)[None], sr)[0])
        history.append(min(value, history[-1]) if history else value)
        return value

    q0 = template.to_q()
    if template.num_params == 1:  # cma needs at least 2 dimensions: optimize a dummy one too
        wrap = lambda q: objective(q[:1])  # noqa: E731
        q0 = np.array([q0[0], 0.5])
    else:
        wrap = objective
    options = {"bounds": [0.0, 1.0], "maxfevals": budget, "seed": seed + 1, "verbose": -9}
    es = cma.CMAEvolutionStrategy(q0, sigma0, options)
    while not es.stop():
        candidates = es.ask()
        es.tell(candidates, [wrap(np.asarray(c)) for c in candidates])
    q_best = np.clip(np.asarray(es.result.xbest)[: template.num_params], 0.0, 1.0)
    estimated = template.with_q(q_best)
    full = estimated(d3[0].astype(np.float32), sample_rate=sr)
    full = np.pad(full, ((0, 0), (0, max(0, d3.shape[-1] - full.shape[-1]))))[:, : d3.shape[-1]]
    y_full = torch.tensor(w3, dtype=torch.float32)
    with torch.no_grad():
        final_loss = float(per_item_loss(loss, y_full, torch.tensor(full, dtype=torch.float32)[None], sr)[0])
        dry_loss = float(per_item_loss(loss, y_full, torch.tensor(d3, dtype=torch.float32), sr)[0])
    return MatchResult(estimated, final_loss, dry_loss, history, time.perf_counter() - t0)
