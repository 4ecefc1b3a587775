"""Mixing by reference (the Diff-MST task): set the console so that the mix of these stems takes
on the production traits of a reference that is another song: spectral balance, stereo width,
loudness and dynamics (a limiter at -1 dBFS ends the master). Analysis by synthesis: gradient descent on a feature loss through the
console's torch graph, on an excerpt at an analysis rate, then the full mix rendered with numpy.

Features (all in dB, from the mid and side signals): octave-band spectral balance of the mid
(shape only), stereo width per octave band (side over mid), the mean level, and the dynamics
(the spread of 100 ms frame levels), which the master compressor moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import io
from ..errors import DrywetError
from ..graph import Chain, Stage
from .console import console
from .session import Session

MATCH_STRIP = ("gain", "parametric_eq", "pan", "stereo_width")
MATCH_MASTER = ("parametric_eq", "compressor", "gain", "limiter")
BANDS = 31.25 * 2.0 ** np.arange(10)  # lower edges of the octave bands
WEIGHTS = {"balance_db": 1.0, "width_db": 0.5, "level_db": 0.2, "dynamics_db": 0.5}
FRAME_S = 0.1
MASTER_START = {"master.compressor.threshold_db": -20.0, "master.compressor.ratio": 2.0, "master.limiter.threshold_db": -1.0}


def features(mix, sample_rate: int) -> dict:
    """The traits a mix is matched on, for torch mixes (batch, 2, T): each (batch, ...) in dB."""
    import torch

    mid, side = 0.5 * (mix[:, 0] + mix[:, 1]), 0.5 * (mix[:, 0] - mix[:, 1])
    n = mid.shape[-1]
    freqs = torch.fft.rfftfreq(n, 1.0 / sample_rate, dtype=mix.dtype)
    pm, ps = torch.fft.rfft(mid).abs().square(), torch.fft.rfft(side).abs().square()
    bm, bs = [], []
    for lo in BANDS:
        band = (freqs >= lo) & (freqs < 2 * lo)
        bm.append(pm[:, band].sum(-1))
        bs.append(ps[:, band].sum(-1))
    bm, bs = torch.stack(bm, -1) + 1e-10, torch.stack(bs, -1) + 1e-10
    frame = int(FRAME_S * sample_rate)
    frames = mid[:, : n // frame * frame].reshape(mid.shape[0], -1, frame).square().mean(-1) + 1e-10
    frame_db = 10 * torch.log10(frames)
    return {"balance_db": 10 * torch.log10(bm / bm.sum(-1, keepdim=True)), "width_db": 10 * torch.log10(bs / bm),
            "level_db": 10 * torch.log10(mix.square().mean((-2, -1)) + 1e-10)[:, None],
            "dynamics_db": frame_db.std(-1, keepdim=True)}


def feature_distance(a: dict, b: dict):
    """Weighted mean absolute difference of two feature sets, in units of 10 dB (batch,)."""
    return sum(w * (a[k] - b[k]).abs().mean(-1) / 10.0 for k, w in WEIGHTS.items())


@dataclass
class MatchResult:
    session: Session
    before: float  # feature distance of the unprocessed sum to the reference
    after: float  # ... and of the matched mix
    history: list


def match_mix(session: Session, reference: np.ndarray, reference_rate: int, *, steps: int = 100, lr: float = 0.05,
              seconds: float = 8.0, analysis_rate: int = 22050, log=None) -> MatchResult:
    """``session`` with a console whose settings move its mix toward ``reference``'s traits.

    Args:
        session: the stems (its strip, buses and master are replaced by the matching console).
        reference: (channels, samples) another song's mix.
        steps: Adam steps on the normalized parameters (kept in [0, 1]).
        lr: Adam's learning rate.
        seconds: the loudest excerpt of the stems' sum that is analysed (and of the reference).
        analysis_rate: Hz of the analysis (the traits lie below its Nyquist frequency).
    """
    import torch

    if reference.shape[0] not in (1, 2) or not np.any(reference):
        raise DrywetError("the reference must be a mono or stereo mix that is not silent")
    stems, sr = session.read_stems(log=log)
    names = [t.name for t in session.tracks]
    master = Chain([Stage.create(n, options={"mode": "fir"} if n == "parametric_eq" else None) for n in MATCH_MASTER],
                   key="master")
    graph = console(names, processors=MATCH_STRIP, master=master)
    graph = graph.with_params(MASTER_START)  # a compressor that already acts, so its gradient is not zero
    x = _excerpt(io.resample(stems.reshape(-1, stems.shape[-1]), sr, analysis_rate).reshape(len(names), stems.shape[1], -1),
                 analysis_rate, seconds)
    ref = io.resample(reference if reference.shape[0] == 2 else np.repeat(reference, 2, 0), reference_rate, analysis_rate)
    ref = _excerpt(ref[None], analysis_rate, seconds)[0]
    xt = torch.tensor(x, dtype=torch.float32)[None]
    target = features(torch.tensor(ref, dtype=torch.float32)[None], analysis_rate)
    q = torch.tensor(graph.to_q(), dtype=torch.float32, requires_grad=True)
    opt = torch.optim.Adam([q], lr=lr)
    history = []
    with torch.no_grad():
        before = float(feature_distance(features(xt.sum(1).expand(-1, 2, -1) if xt.shape[2] == 1 else xt.sum(1),
                                                 analysis_rate), target)[0])
    for step in range(steps):
        opt.zero_grad()
        loss = feature_distance(features(graph.torch(xt, sample_rate=analysis_rate, q=q), analysis_rate), target)[0]
        loss.backward()
        opt.step()
        with torch.no_grad():
            q.clamp_(0.0, 1.0)
        history.append(float(loss.detach()))
    matched = graph.with_q(q.detach().double().numpy())
    with torch.no_grad():
        after = float(feature_distance(features(matched.torch(xt, sample_rate=analysis_rate, q=q.detach()), analysis_rate), target)[0])
    return MatchResult(_as_session(session, matched), before, after, history)


def _excerpt(x: np.ndarray, sample_rate: int, seconds: float) -> np.ndarray:
    """The loudest ``seconds`` of (tracks, channels, T) by the energy of their sum, on 0.5 s hops."""
    length = x.shape[-1]
    win = int(seconds * sample_rate)
    if win >= length:
        return x
    hop = int(0.5 * sample_rate)
    energy = np.concatenate([[0.0], np.cumsum((x.sum(0).astype(np.float64) ** 2).sum(0))])
    starts = np.arange(0, length - win + 1, hop)
    best = int(starts[np.argmax(energy[starts + win] - energy[starts])])
    return x[..., best : best + win]


def _as_session(session: Session, graph) -> Session:
    """The session whose strips and master hold ``graph``'s values (physical units)."""
    values = graph.values()
    out = Session([type(t)(t.name, t.stem) for t in session.tracks], strip=list(MATCH_STRIP), root=session.root,
                  sample_rate=session.sample_rate)
    for t in out.tracks:
        for key, value in values.items():
            track, _, rest = key.partition(".")
            if track == t.name:
                stage, _, param = rest.partition(".")
                t.settings.setdefault(stage, {})[param] = float(value)
    master = {}
    for key, value in values.items():
        if key.startswith("master."):
            _, stage, param = key.split(".", 2)
            master.setdefault(stage, {})[param] = float(value)
    out.master = [{"effect": s, "params": master.get(s, {})} for s in MATCH_MASTER]
    return out
