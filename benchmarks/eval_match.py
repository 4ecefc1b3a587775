"""Informed estimation (``drywet match``) on real music with random chains.

    python benchmarks/eval_match.py [--cases 6] [--seconds 10] [--steps 150]

For each case: a 10 s mono excerpt of a song from ../shared/data/music, a random chain
EQ > compressor > clipper (q ~ U(0, 1), seeded), then match_chain on the dry/wet pair.
Prints the log-mel loss ratio (estimate / dry, vs wet), MSE_q over all parameters, and the
CPU time. MSE_q counts every parameter, identifiable or not (e.g. an EQ band's Q at 0 dB gain
changes nothing), so it overstates the error on what can be recovered.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from drywet import io
from drywet.chain import Chain
from drywet.estimate import match_chain

MUSIC = Path(__file__).resolve().parents[2] / "shared" / "data" / "music"
SONGS = ("hobbs_lets_go_fishin.ogg", "macleod_sugar_plum_fairy.ogg", "brahms_hungarian_dance_5.ogg")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--steps", type=int, default=150)
    args = parser.parse_args()
    rows = []
    for case in range(args.cases):
        song = SONGS[case % len(SONGS)]
        x, sr = io.read_audio(MUSIC / song, channels="mono")
        start = int((20 + 7 * case) * sr) % max(1, x.shape[1] - int(args.seconds * sr))
        x = x[:, start : start + int(args.seconds * sr)]
        true = Chain.from_names("eq,compressor,clipper").sample(np.random.default_rng(case))
        y = true(x, sample_rate=sr)
        r = match_chain(x, y, sample_rate=sr, steps=args.steps, seed=case)
        mse_q = float(np.mean((r.chain.to_q() - true.to_q()) ** 2))
        rows.append((song, case, r.loss_ratio, mse_q, r.seconds))
        print(f"| {song:30s} | {case} | {r.loss_ratio:.3f} | {mse_q:.4f} | {r.seconds:5.1f} |", flush=True)
    ratios, mses, secs = (np.array([row[i] for row in rows]) for i in (2, 3, 4))
    print(f"| median | | {np.median(ratios):.3f} | {np.median(mses):.4f} | {np.median(secs):5.1f} |")


if __name__ == "__main__":
    main()
