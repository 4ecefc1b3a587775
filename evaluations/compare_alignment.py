"""Why drywet.dsp.align uses GCC-PHAT: the latency it finds against plain cross-correlation
(the peak of |xcorr| within 50 ms, what `drywet model fit` used before), on

1. the real pairs of ../shared/data/drywet at 22.05 kHz mono (as `drywet model fit` reads
   them), next to where the measured impulse responses put the direct sound;
2. the pair of tests/test_estimate_informed.py's alignment test (2 s of the bundled clip,
   mono, a random EQ, the wet 300 samples late);
3. the time find_lag takes on a 10 min stereo pair at 48 kHz (it reads the loudest 30 s).

    python evaluations/compare_alignment.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from scipy.signal import correlate

from drywet import io
from drywet.chain import Chain
from drywet.dsp.align import MAX_LAG_S, find_lag

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "drywet"
SR = 22050


def plain_lag(dry: np.ndarray, wet: np.ndarray, sample_rate: int) -> int:
    corr = correlate(wet, dry, mode="full", method="fft")
    lags = np.arange(-dry.size + 1, wet.size)
    window = np.abs(lags) <= int(MAX_LAG_S * sample_rate)
    return int(lags[window][np.argmax(np.abs(corr[window]))])


def mono(path: Path, sample_rate: int) -> np.ndarray:
    return io.read_audio(path, sample_rate=sample_rate, channels=1)[0][0]


def main() -> None:
    print(f"1. real pairs at {SR} Hz: latency in samples")
    space, rooms = SHARED / "spatialaudio", SHARED / "reverb_pairs"
    pairs = [(space / "xmas.flac", space / f"xmas_{w}.flac") for w in ("blackbox", "blackbox_nonlinear", "clap")]
    pairs += [(rooms / "dry" / f"{s}.flac", rooms / "wet" / f"{s}_arthur_s1r4_ch1.flac") for s in ("drums", "speech")]
    print(f"   {'pair':48s} {'plain':>6s} {'GCC-PHAT':>9s}")
    for d, w in pairs:
        dry, wet = mono(d, SR), mono(w, SR)
        print(f"   {d.stem + ' -> ' + w.stem:48s} {plain_lag(dry, wet, SR):6d} {find_lag(dry, wet, SR):9d}")
    for ir in (space / "rir_clap.flac", rooms / "irs" / "ir_arthur_s1r4_ch1.flac"):
        h = np.abs(mono(ir, SR))
        print(f"   impulse response {ir.stem}: first sample above half the peak {int(np.argmax(h > 0.5 * h.max()))}, "
              f"peak {int(np.argmax(h))}")

    x, sr = io.bundled_example()
    x = x[:, 4 * sr : 6 * sr].mean(axis=0, keepdims=True)
    y = Chain.from_names("eq").sample(np.random.default_rng(4))(x, sample_rate=sr)
    late = np.concatenate([np.zeros((1, 300), np.float32), y, np.zeros((1, 2000), np.float32)], axis=-1)
    print(f"2. EQ'd test pair, true latency 300: plain {plain_lag(x[0], late[0], sr)}, GCC-PHAT {find_lag(x, late, sr)}")

    rng = np.random.default_rng(0)
    long = rng.standard_normal((2, 48000 * 600)).astype(np.float32)
    t0 = time.perf_counter()
    lag = find_lag(long, np.concatenate([np.zeros((2, 100), np.float32), long], axis=-1), 48000)
    print(f"3. 10 min stereo at 48 kHz, true latency 100: {lag} in {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
