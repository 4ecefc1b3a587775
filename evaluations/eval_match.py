"""Informed estimation (``drywet match``) on real music with random chains.

    python evaluations/eval_match.py [--cases 12] [--seconds 10] [--steps 150] [--restarts 4] [--candidates 32] [--init transfer|random] [--truth-objective]

For each case: a 10 s mono excerpt of a song from ../shared/data/music, a random chain
EQ > compressor > clipper (q ~ U(0, 1), seeded), then match_chain on the dry/wet pair.
Prints the log-mel loss ratio (estimate / dry, vs wet), MSE_q over all parameters, MSE_q over
the identifiable ones, and the CPU time.

Identifiability rule: drywet.estimate.uncertainty at the TRUE parameters on the dry excerpt
(the linearized region of settings whose log-mel features stay within --tolerance RMS,
uncertainty.TOLERANCE = 0.02 (natural-log mel power, 0.087 dB) by default, of the true output, all other parameters free
to compensate); a parameter is identifiable when that region spans at most +-0.1
(uncertainty.IDENTIFIABLE_WIDTH) in normalized units.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from drywet import io
from drywet.chain import Chain
from drywet.estimate import informed, match_chain
from drywet.estimate.uncertainty import TOLERANCE, parameter_uncertainty

MUSIC = Path(__file__).resolve().parents[2] / "shared" / "data" / "music"
SONGS = ("hobbs_lets_go_fishin.ogg", "macleod_sugar_plum_fairy.ogg", "brahms_hungarian_dance_5.ogg")


def truth_objective(true, x, y, sr, warmup_s):
    """match_chain's excerpt objective (analysis chain, log-mel) at the true parameters."""
    import torch

    saved, informed.WARMUP_S = informed.WARMUP_S, warmup_s
    try:
        objective = informed._excerpt_objective(informed.fir_analysis_chain(true), torch.tensor(x[None]), torch.tensor(y[None]), sr, 4.0, "logmel")
        with torch.no_grad():
            return float(objective(torch.tensor(true.to_q()[None], dtype=torch.float32))[0])
    finally:
        informed.WARMUP_S = saved


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--restarts", type=int, default=4)
    parser.add_argument("--candidates", type=int, default=32)
    parser.add_argument("--init", default="transfer", choices=("transfer", "random"))
    parser.add_argument("--tolerance", type=float, default=TOLERANCE, help="RMS log-mel difference of the identifiability rule")
    parser.add_argument("--truth-objective", action="store_true",
                        help="only print match's objective at the TRUE parameters, with and without the excerpt warm-up")
    args = parser.parse_args()
    rows = []
    for case in range(args.cases):
        song = SONGS[case % len(SONGS)]
        x, sr = io.read_audio(MUSIC / song, channels="mono")
        start = int((20 + 7 * case) * sr) % max(1, x.shape[1] - int(args.seconds * sr))
        x = x[:, start : start + int(args.seconds * sr)]
        true = Chain.from_names("eq,compressor,clipper").sample(np.random.default_rng(case))
        y = true(x, sample_rate=sr)
        if args.truth_objective:
            print(f"case {case}: objective at the true parameters, warm-up {informed.WARMUP_S} s: "
                  f"{truth_objective(true, x, y, sr, informed.WARMUP_S):.4f}, none: {truth_objective(true, x, y, sr, 0.0):.4f}")
            continue
        r = match_chain(x, y, sample_rate=sr, steps=args.steps, restarts=args.restarts, candidates=args.candidates, seed=case, init=args.init)
        sq = (r.chain.to_q() - true.to_q()) ** 2
        mask = parameter_uncertainty(true, x, sample_rate=sr, tolerance=args.tolerance).identifiable()
        rows.append((song, case, r.loss_ratio, float(sq.mean()), float(sq[mask].mean()) if mask.any() else np.nan, r.seconds))
        print(f"| {song:30s} | {case} | {r.loss_ratio:.3f} | {sq.mean():.4f} | {rows[-1][4]:.4f} ({mask.sum()}/{mask.size}) "
              f"| {r.seconds:5.1f} |", flush=True)
    if args.truth_objective:
        return
    med = [np.nanmedian([row[i] for row in rows]) for i in (2, 3, 4, 5)]
    print(f"| median | | {med[0]:.3f} | {med[1]:.4f} | {med[2]:.4f} | {med[3]:5.1f} |")


if __name__ == "__main__":
    main()
