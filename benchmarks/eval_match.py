"""Informed estimation (``drywet match``) on real music with random chains.

    python benchmarks/eval_match.py [--cases 6] [--seconds 10] [--steps 150] [--restarts 4] [--candidates 16]

For each case: a 10 s mono excerpt of a song from ../shared/data/music, a random chain
EQ > compressor > clipper (q ~ U(0, 1), seeded), then match_chain on the dry/wet pair.
Prints the log-mel loss ratio (estimate / dry, vs wet), MSE_q over all parameters, MSE_q over
the identifiable ones, and the CPU time.

Identifiability rule (parameters that cannot change the output are left out):
- an EQ band's frequency and Q when its true gain is within +-1 dB (the band is nearly flat);
- every compressor parameter but the threshold when the compressor's input (the true EQ
  output) stays below threshold - knee/2 for more than 99 % of the samples (no gain
  reduction to measure);
- the compressor's makeup gain always: it only changes the level, which the log-mel loss
  (RMS-normalized) cannot see.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from drywet import io
from drywet.chain import Chain
from drywet.dsp.dynamics import linked_level_db
from drywet.estimate import match_chain

MUSIC = Path(__file__).resolve().parents[2] / "shared" / "data" / "music"
SONGS = ("hobbs_lets_go_fishin.ogg", "macleod_sugar_plum_fairy.ogg", "brahms_hungarian_dance_5.ogg")


def identifiable(true: Chain, x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Boolean mask over the chain's q vector (see the module docstring for the rule)."""
    mask = []
    signal = x
    for stage in true.stages:
        p = stage.params
        for name in stage.effect.spec.param_names:
            keep = True
            if stage.effect.name == "parametric_eq" and name.endswith(("_freq_hz", "_q")):
                band = name.rsplit("_", 2)[0] if name.endswith("_freq_hz") else name[: -len("_q")]
                keep = abs(p[f"{band}_gain_db"]) >= 1.0
            if stage.effect.name == "compressor":
                over = linked_level_db(signal[None])[0] > p["threshold_db"] - p["knee_db"] / 2
                if name == "makeup_db" or (name != "threshold_db" and over.mean() < 0.01):
                    keep = False
            mask.append(keep)
        signal = stage.effect(signal, sample_rate=sample_rate, **stage.params)
    return np.array(mask)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--restarts", type=int, default=4)
    parser.add_argument("--candidates", type=int, default=16)
    args = parser.parse_args()
    rows = []
    for case in range(args.cases):
        song = SONGS[case % len(SONGS)]
        x, sr = io.read_audio(MUSIC / song, channels="mono")
        start = int((20 + 7 * case) * sr) % max(1, x.shape[1] - int(args.seconds * sr))
        x = x[:, start : start + int(args.seconds * sr)]
        true = Chain.from_names("eq,compressor,clipper").sample(np.random.default_rng(case))
        y = true(x, sample_rate=sr)
        r = match_chain(x, y, sample_rate=sr, steps=args.steps, restarts=args.restarts, candidates=args.candidates, seed=case)
        sq = (r.chain.to_q() - true.to_q()) ** 2
        mask = identifiable(true, x, sr)
        rows.append((song, case, r.loss_ratio, float(sq.mean()), float(sq[mask].mean()), r.seconds))
        print(f"| {song:30s} | {case} | {r.loss_ratio:.3f} | {sq.mean():.4f} | {sq[mask].mean():.4f} ({mask.sum()}/{mask.size}) "
              f"| {r.seconds:5.1f} |", flush=True)
    med = [np.median([row[i] for row in rows]) for i in (2, 3, 4, 5)]
    print(f"| median | | {med[0]:.3f} | {med[1]:.4f} | {med[2]:.4f} | {med[3]:5.1f} |")


if __name__ == "__main__":
    main()
