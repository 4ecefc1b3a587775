"""Why parameter curves on filters run as trapezoidal SVFs (drywet.dsp.svf), on real music.

1. Stability: a resonant low-pass (Q 8) whose cutoff jumps between 100 Hz and 10 kHz every
   32 samples, on 1 s of white noise (as tests/test_filters.py) and on 10 s of real music:
   the peak output of drywet's SVF, of a transposed direct-form II biquad whose RBJ
   coefficients are recomputed every sample (the textbook way to "automate" a biquad), and of
   the two static filters.
2. Agreement: a slow sweep 200 Hz -> 8 kHz (Q 4) over 10 s of music, where every method is
   stable: the SVF against what users do without a time-varying filter (scipy's sosfilt block
   by block, 64 samples, the state carried across coefficient changes) and against the
   per-sample direct form. Energy of the difference, in dB below the SVF's output.
3. Speed (best of 5, 10 s stereo at 44.1 kHz): the SVF with a per-sample sweep, the
   64-sample-block sosfilt, and a constant filter through scipy's sosfilt (what a constant
   parameter uses).

    python benchmarks/compare_time_varying_filters.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import njit
from scipy.signal import sosfilt
from timing import best_time

from drywet import io
from drywet.dsp import biquad
from drywet.dsp.svf import svf_filter

SR = 44100
MUSIC = Path(__file__).resolve().parents[2] / "shared" / "data" / "music" / "hobbs_lets_go_fishin.ogg"
BLOCK = 64


@njit(cache=True)
def df2t_swept(x, sos):  # pragma: no cover - compiled
    """One biquad in transposed direct form II whose coefficients change every sample."""
    rows, n = x.shape
    y = np.empty_like(x)
    for r in range(rows):
        z1 = 0.0
        z2 = 0.0
        for t in range(n):
            b0, b1, b2, a1, a2 = sos[t, 0], sos[t, 1], sos[t, 2], sos[t, 4], sos[t, 5]
            out = b0 * x[r, t] + z1
            z1 = b1 * x[r, t] - a1 * out + z2
            z2 = b2 * x[r, t] - a2 * out
            y[r, t] = out
    return y


def blockwise_sosfilt(x, freqs, q):
    """scipy's sosfilt on 64-sample blocks, the cutoff of each block's first sample, state kept."""
    zi = np.zeros((1, x.shape[0], 2))
    out = np.empty_like(x)
    for start in range(0, x.shape[-1], BLOCK):
        sos = biquad.design("lowpass", np.float64(freqs[start]), q, 0.0, SR)[None]
        out[:, start : start + BLOCK], zi = sosfilt(sos, x[:, start : start + BLOCK], zi=zi)
    return out


def relative_db(difference, reference):
    return 10 * np.log10(np.sum(difference**2) / np.sum(reference**2))


def main() -> None:
    music, _ = io.read_audio(MUSIC, sample_rate=SR)
    music = np.ascontiguousarray(music[:, 30 * SR : 40 * SR], dtype=np.float64)
    noise = 0.5 * np.random.default_rng(0).standard_normal((1, SR))

    print("1. cutoff jumping 100 Hz <-> 10 kHz every 32 samples, Q 8: peak |output|")
    for label, x in (("white noise, 1 s", noise), ("music, 10 s", music)):
        jumps = np.where((np.arange(x.shape[-1]) // 32) % 2 == 0, 100.0, 10000.0)
        sos = np.stack([biquad.design("lowpass", np.float64(f), 8.0, 0.0, SR) for f in (100.0, 10000.0)])
        swept = df2t_swept(x, sos[(jumps == 10000.0).astype(int)])
        static = max(np.abs(sosfilt(s[None], x)).max() for s in sos)
        svf = svf_filter(x, "lowpass", jumps, 8.0, 0.0, SR)
        print(f"   {label:18s} SVF {np.abs(svf).max():8.3f}   swept DF-II-T {np.abs(swept).max():10.4g}   "
              f"static filters {static:.3f}")

    print("2. sweep 200 Hz -> 8 kHz over 10 s of music, Q 4: energy of the difference to the SVF")
    freqs = np.geomspace(200.0, 8000.0, music.shape[-1])
    svf = svf_filter(music, "lowpass", freqs, 4.0, 0.0, SR)
    sos = np.stack([biquad.design("lowpass", np.float64(f), 4.0, 0.0, SR) for f in freqs])
    print(f"   sosfilt in {BLOCK}-sample blocks:      {relative_db(blockwise_sosfilt(music, freqs, 4.0) - svf, svf):6.1f} dB")
    print(f"   DF-II-T, per-sample coefficients: {relative_db(df2t_swept(music, sos) - svf, svf):6.1f} dB")

    print("3. time for 10 s of stereo (best of 5)")
    constant = biquad.design("lowpass", np.float64(1000.0), 4.0, 0.0, SR)[None]
    print(f"   SVF, per-sample sweep        {best_time(lambda: svf_filter(music, 'lowpass', freqs, 4.0, 0.0, SR)) * 1e3:6.1f} ms")
    print(f"   sosfilt in {BLOCK}-sample blocks   {best_time(lambda: blockwise_sosfilt(music, freqs, 4.0)) * 1e3:6.1f} ms")
    print(f"   sosfilt, constant cutoff     {best_time(lambda: sosfilt(constant, music)) * 1e3:6.1f} ms")


if __name__ == "__main__":
    main()
