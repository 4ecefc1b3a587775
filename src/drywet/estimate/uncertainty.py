"""How well a dry signal determines each parameter of a chain: which settings would sound the
same to the log-mel loss that ``match`` minimizes.

With f(q) the log-mel features of the chain's output (N values, RMS-normalized as in
:func:`drywet.metrics.losses.logmel_features`) and J = df/dq at the chain's q0, a change dq
moves the output by an RMS feature difference sqrt(|J dq|^2 / N). The changes that stay
within ``tolerance`` form an ellipsoid (Gauss-Newton, the Fisher information of a Gaussian
feature error); its extent along parameter i, all other parameters free to compensate, is

    w_i = tolerance * sqrt(N [(J^T J + N tolerance^2 I)^-1]_ii)

The ridge term is a prior that keeps q in its unit range (w_i <= 1: a parameter the output
does not depend on gets w_i = 1). A parameter is *identifiable* when w_i <= 0.1: no setting
further than 0.1 in normalized units sounds the same, even with compensation by the others
(a threshold traded against a makeup gain, overlapping EQ bands). J comes from central
differences of the numpy effects, so black-box effects work too. The linearization is local:
it says nothing about distant settings that happen to sound alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..audio import all_finite, as_batch, check_sample_rate
from ..chain import Chain
from ..errors import AudioError, ParameterError
from .pairs import loudest_excerpt

# RMS difference of natural-log mel power (0.02 = 10 log10(e) 0.02 = 0.087 dB) treated as
# "sounds the same"
TOLERANCE = 0.02
IDENTIFIABLE_WIDTH = 0.1  # normalized units
STEP = 0.01  # central-difference step in q


@dataclass
class Uncertainty:
    """Per-parameter half-widths (normalized units) of the settings that sound the same.

    Attributes:
        chain: the chain the widths were computed at.
        half_width: (P,) array in [0, 1], one per entry of ``chain.to_q()``.
        tolerance: the RMS log-mel difference used.
    """

    chain: Chain
    half_width: np.ndarray
    tolerance: float

    def identifiable(self, width: float = IDENTIFIABLE_WIDTH) -> np.ndarray:
        """Boolean mask over q: parameters pinned down to +- ``width`` (normalized)."""
        return self.half_width <= width

    def intervals(self) -> list[dict]:
        """Rows of :meth:`Chain.describe` with the physical ``low`` and ``high`` ends of the
        region, ``half_width_q`` and ``identifiable`` (at :data:`IDENTIFIABLE_WIDTH`) added."""
        q0 = self.chain.to_q()
        rows = self.chain.describe()
        for i, row in enumerate(rows):
            for key, sign in (("low", -1.0), ("high", 1.0)):
                q = q0.copy()
                q[i] = np.clip(q0[i] + sign * self.half_width[i], 0.0, 1.0)
                row[key] = self.chain.with_q(q).describe()[i]["value"]
            if row["high"] < row["low"]:  # reversed scales (e.g. a strength axis)
                row["low"], row["high"] = row["high"], row["low"]
            row["half_width_q"] = float(self.half_width[i])
            row["identifiable"] = bool(self.half_width[i] <= IDENTIFIABLE_WIDTH)
        return rows


def parameter_uncertainty(chain: Chain, dry: np.ndarray, *, sample_rate: int, tolerance: float = TOLERANCE,
                          excerpt_s: float | None = 4.0, step: float = STEP) -> Uncertainty:
    """Half-widths of the region of q around ``chain``'s setting that sounds the same on ``dry``.

    Args:
        chain: the chain and the setting to examine (e.g. an estimate from ``match_chain``).
        dry: (channels, samples) input of the chain.
        sample_rate: Hz.
        tolerance: RMS difference of natural-log mel power that counts as the same sound.
        excerpt_s: use the loudest excerpt of this length (as ``match_chain``); None: all.
        step: central-difference step in normalized units.
    """
    import torch

    from ..metrics.losses import logmel_features

    sr = check_sample_rate(sample_rate)
    d3, is_single = as_batch(np.asarray(dry), name="dry", allow_empty=False)
    if not is_single or d3.shape[0] != 1:
        raise AudioError(f"dry must be one (channels, samples) signal, got shape {np.shape(dry)}")
    if not all_finite(d3):
        raise AudioError("dry contains NaN or Inf; clean it before estimating")
    if float(np.abs(d3).max()) == 0.0:
        raise AudioError("the dry signal is silent: no parameter changes its output")
    if not (tolerance > 0 and 0 < step <= 0.5):
        raise ParameterError(f"need tolerance > 0 and 0 < step <= 0.5, got {tolerance} and {step}")
    start, stop = loudest_excerpt(d3[0], sr, excerpt_s)
    x = d3[0, :, start:stop]
    q0 = chain.to_q()
    outputs, spans = [], []
    for i in range(q0.size):
        lo, hi = q0.copy(), q0.copy()
        lo[i], hi[i] = max(q0[i] - step, 0.0), min(q0[i] + step, 1.0)
        outputs += [chain.with_q(hi)(x, sample_rate=sr), chain.with_q(lo)(x, sample_rate=sr)]
        spans.append(hi[i] - lo[i])
    if not outputs:
        return Uncertainty(chain, np.zeros(0), tolerance)
    with torch.no_grad():
        feats = logmel_features(torch.from_numpy(np.stack(outputs).astype(np.float64)), sample_rate=sr)
    feats = feats.reshape(q0.size, 2, -1).numpy()
    jac = ((feats[:, 0] - feats[:, 1]) / np.array(spans)[:, None]).T  # (N, P)
    n = jac.shape[0]
    fisher = jac.T @ jac + n * tolerance**2 * np.eye(q0.size)
    width = tolerance * np.sqrt(n * np.diag(np.linalg.inv(fisher)))
    return Uncertainty(chain, np.minimum(width, 1.0), tolerance)
