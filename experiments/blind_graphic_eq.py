"""An idea for #6 measured and not kept: a chain estimator whose EQ output is the 10-band
graphic EQ (fixed octave bands) instead of the 5-band parametric EQ the chains are rendered
with, on the hypothesis that fixed-frequency gains are easier to learn than (freq, Q, gain)
triplets whose freq and Q stay near chance. The numbers are in the team's note on #6.

    python experiments/blind_graphic_eq.py fit                    # can a graphic EQ express random parametric EQs?
    python experiments/blind_graphic_eq.py train OUT [--steps 3000 --lr 3e-4 --head graphic|parametric]
    python experiments/blind_graphic_eq.py eval OUT test|valid    # chain row inverted as drywet invert --estimate does

train starts from the bundled weights for inversion (encoder and hidden layers; the compressor
and clipper rows of the last layer; the graphic EQ rows start at 0 dB) and minimizes the L1
error of the EQ's dB response on a 96-point mel grid (medians removed) against the true
parametric EQ's, which is what an EQ inverse depends on whatever the music, plus 5 x MSE on
the compressor's and clipper's q. Needs the game music of recipes/blind_extra_music.py in
.blinddata (extra, rest_train, rest_valid). 0.27 s per step on the 2-core CPU.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from blind_inversion_ideas import (
    MEL_GRID_HZ,
    SR,
    _chain_row_clips,
    invert,
    log_mel,
    summary,
)

from drywet.chain import Chain
from drywet.effects.filters import geq_sos, peq_sos
from drywet.estimate.blind import BlindEstimator, bundled_estimator
from drywet.datasets import MusicCrops, music_files, split_files
from drywet.nn import AnalysisNetwork
from drywet.invert import BLIND_DYNAMICS_STRENGTH, InversionWarning

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
SYNTHESIS = Chain.from_names("parametric_eq,compressor,clipper")
PEQ_PARAMS = SYNTHESIS.stages[0].effect.spec.num_params
BATCH = 32


def response_db(sos, freqs_hz=MEL_GRID_HZ):
    """dB magnitude of a cascade of sections (..., S, 6) at ``freqs_hz`` (numpy or torch)."""
    if isinstance(sos, np.ndarray):
        z1 = np.exp(-2j * np.pi * freqs_hz / SR)
        log10, magnitude = np.log10, np.abs
    else:
        z1 = torch.exp(-2j * np.pi * torch.tensor(freqs_hz) / SR)
        log10, magnitude = torch.log10, torch.abs
    b0, b1, b2, a0, a1, a2 = (sos[..., k, None] for k in range(6))
    h = (b0 + b1 * z1 + b2 * z1 * z1) / (a0 + a1 * z1 + a2 * z1 * z1)
    return (20 * log10(magnitude(h))).sum(-2)


def graphic_db(gains):
    """Response of the graphic EQ for gains (B, 10) in dB."""
    return response_db(geq_sos({f"band{i}_gain_db": gains[:, i] for i in range(10)}, SR, torch))


def parametric_db(q):
    """Response of the parametric EQ for normalized q (B, 15)."""
    return response_db(peq_sos(Chain([SYNTHESIS.stages[0]]).split_q(q)[0], SR, torch))


def fit() -> None:
    """Least-squares (L1) fits to 300 random parametric EQs on a mel grid 30 Hz-20 kHz."""
    freqs = 700 * (10 ** (np.linspace(2595 * np.log10(1 + 30 / 700), 2595 * np.log10(1 + 20000 / 700), 128) / 2595) - 1)
    rng = np.random.default_rng(0)
    eq = Chain.from_names("parametric_eq")
    targets = torch.stack([
        response_db(peq_sos({k: torch.tensor([float(v)], dtype=torch.float64) for k, v in eq.sample(rng).stages[0].params.items()}, SR, torch), freqs)[0]
        for _ in range(300)])
    print(f"no EQ: mean |dB| {targets.abs().mean().item():.2f}")
    spec = eq.stages[0].effect.spec
    bands = [p.name[: -len("_gain_db")] for p in spec.params if p.name.endswith("_gain_db")]

    def graphic(g):
        return response_db(geq_sos({f"band{i}_gain_db": g[:, i] for i in range(10)}, SR, torch), freqs)

    def gains_only(g):  # the parametric EQ with its frequencies and Qs at their defaults
        fixed = {f"{b}_{p}": torch.full((len(g),), spec.param(f"{b}_{p}").default, dtype=torch.float64)
                 for b in bands for p in ("freq_hz", "q")}
        return response_db(peq_sos({**fixed, **{f"{b}_gain_db": g[:, j] for j, b in enumerate(bands)}}, SR, torch), freqs)

    for name, curve, n in (("graphic EQ", graphic, 10), ("parametric EQ, gains only", gains_only, len(bands))):
        z = torch.zeros(len(targets), n, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.Adam([z], lr=0.3)
        for _ in range(1500):
            loss = (curve(15 * torch.tanh(z / 15)) - targets).abs().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"{name} fit: mean |dB| {loss.item():.2f}")


# -- training ---------------------------------------------------------------------------------
_CROPS: MusicCrops | None = None


def render(seed: int):
    """y (B, 1, T), q of the synthesis chain (B, 24), true EQ response (B, 96)."""
    rng = np.random.default_rng(seed)
    ys, qs, curves = [], [], []
    for _ in range(BATCH):
        x, q = _CROPS.sample(rng), rng.uniform(0, 1, SYNTHESIS.num_params)
        chain = SYNTHESIS.with_q(q)
        ys.append(chain(x, sample_rate=SR))
        qs.append(q)
        curves.append(response_db(peq_sos({k: np.float64(v) for k, v in chain.stages[0].params.items()}, SR)))
    return np.stack(ys).astype(np.float32), np.stack(qs).astype(np.float32), np.stack(curves).astype(np.float32)


def prefetched(pool, steps: int, ahead: int = 3):
    pending = collections.deque(pool.apply_async(render, (s,)) for s in range(1, min(ahead, steps) + 1))
    following = len(pending) + 1
    while pending:
        batch = pending.popleft().get()
        if following <= steps:
            pending.append(pool.apply_async(render, (following,)))
            following += 1
        yield batch


def initial_network(head: str, old: BlindEstimator):
    eq_outputs = 10 if head == "graphic" else PEQ_PARAMS
    net = AnalysisNetwork("compact", eq_outputs + SYNTHESIS.num_params - PEQ_PARAMS, SR, (512, 256)).eval()
    with torch.no_grad():
        net(torch.zeros(1, 1, old.window))
    state = net.state_dict()
    last = "head.mlp.6."  # the head's output layer
    for key, value in old.network.state_dict().items():
        if key.startswith(last) and head == "graphic":
            state[key][eq_outputs:] = value[PEQ_PARAMS:]
            state[key][:eq_outputs] = 0.0  # sigmoid(0) = 0.5: every band at 0 dB
        else:
            state[key] = value
    net.load_state_dict(state)
    return net, eq_outputs


def losses(net, head: str, eq_outputs: int, y, q, curve):
    q_hat = net(torch.from_numpy(y))
    estimate = graphic_db((-15 + 30 * q_hat[:, :10]).double()) if head == "graphic" else parametric_db(q_hat[:, :PEQ_PARAMS].double())
    error = estimate - torch.from_numpy(curve).double()
    error = error - error.median(-1, keepdim=True).values
    return error.abs().mean(), ((q_hat[:, eq_outputs:] - torch.from_numpy(q[:, PEQ_PARAMS:])) ** 2).mean()


def train(out: Path, steps: int, lr: float, head: str) -> None:
    global _CROPS
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    old = bundled_estimator("chain", for_inversion=True)
    net, eq_outputs = initial_network(head, old)
    blind = REPO / ".blinddata"
    _CROPS = MusicCrops(split_files(SHARED, "valid") + music_files(blind / "rest_valid"), sample_rate=SR, crop_samples=old.window)
    valid = [render(10**6 + i) for i in range(8)]  # 256 fixed validation crops
    _CROPS = MusicCrops(split_files(SHARED, "train") + music_files(blind / "extra") + music_files(blind / "rest_train"),
                        sample_rate=SR, crop_samples=old.window)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)

    def validate():
        net.eval()
        with torch.no_grad():
            scores = [losses(net, head, eq_outputs, *batch) for batch in valid]
        net.train()
        return float(np.mean([c for c, _ in scores])), float(np.mean([m for _, m in scores]))

    def total(curve, mse):
        return curve / 5 + 5 * mse

    best = validate()
    print("start: valid response error (dB), MSE_q", best, flush=True)
    torch.save(net.state_dict(), out / "net.pt")
    start = time.time()
    net.train()
    with multiprocessing.get_context("fork").Pool(1) as pool:
        for step, batch in enumerate(prefetched(pool, steps), start=1):
            curve, mse = losses(net, head, eq_outputs, *batch)
            optimizer.zero_grad()
            total(curve, mse).backward()
            optimizer.step()
            if step % 100 == 0:
                score = validate()
                print(step, f"{time.time() - start:.0f}s train {curve.item():.3f} {mse.item():.4f} valid {score[0]:.3f} {score[1]:.4f}", flush=True)
                if total(*score) < total(*best):
                    best = score
                    torch.save(net.state_dict(), out / "net.pt")
    json.dump({"best": best, "head": head, "steps": steps, "lr": lr}, open(out / "info.json", "w"))


# -- evaluation -------------------------------------------------------------------------------
def evaluate(folder: Path, split: str) -> None:
    """The chain row (blind_inversion_ideas' chain-weights draws), inverted with the trained EQ and
    the bundled compressor and clipper, and with all of the trained network's estimates."""
    warnings.simplefilter("ignore", InversionWarning)
    warnings.simplefilter("ignore", UserWarning)
    old = bundled_estimator("chain", for_inversion=True)
    head = json.loads((folder / "info.json").read_text())["head"]
    analysis = Chain.from_names(("graphic_eq" if head == "graphic" else "parametric_eq") + ",compressor,clipper")
    net = AnalysisNetwork("compact", analysis.num_params, SR, (512, 256)).eval()
    with torch.no_grad():
        net(torch.zeros(1, 1, old.window))
    net.load_state_dict(torch.load(folder / "net.pt"))
    new = BlindEstimator(net.eval(), analysis, sample_rate=SR, window_samples=old.window)
    xs, per, rng = _chain_row_clips(split)
    ratios = {"bundled": [], "trained EQ, bundled rest": [], "all trained": []}
    for x in xs:
        for _ in range(per):
            y = SYNTHESIS.sample(rng)(x, sample_rate=SR)
            before = log_mel(x, y)
            bundled, trained = old.estimate(y, sample_rate=SR).stages, new.estimate(y, sample_rate=SR).stages
            for name, stages in zip(ratios, (bundled, [trained[0], *bundled[1:]], trained)):
                ratios[name].append(log_mel(x, invert(y, stages, BLIND_DYNAMICS_STRENGTH)) / before)
    print(f"chain row, {len(ratios['bundled'])} draws, {split}")
    reference = np.array(ratios["bundled"])
    for name, r in ratios.items():
        summary(name, r)
        print(f"      lower than bundled on {np.mean(np.array(r) < reference):.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fit")
    t = sub.add_parser("train")
    t.add_argument("out", type=Path)
    t.add_argument("--steps", type=int, default=3000)
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--head", choices=("graphic", "parametric"), default="graphic")
    e = sub.add_parser("eval")
    e.add_argument("folder", type=Path)
    e.add_argument("split", choices=("test", "valid"))
    args = parser.parse_args()
    if args.command == "fit":
        fit()
    elif args.command == "train":
        train(args.out, args.steps, args.lr, args.head)
    else:
        evaluate(args.folder, args.split)


if __name__ == "__main__":
    main()
