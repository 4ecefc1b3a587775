"""Speed of the mixing console against the same console built from pedalboard, in one run.

    python benchmarks/bench_console.py [--tracks 16] [--minutes 3]

Rendering: 16 stereo tracks x 3 min at 44.1 kHz (cut from the real recordings of
../shared/data/music at different offsets) through full strips (gain, polarity, 5-band EQ,
compressor, pan, width), a reverb bus fed by every track and a master (EQ, compressor, limiter,
gain), numpy path, one thread. The pedalboard console uses pedalboard's processors for the
same stages (its Compressor and Limiter, shelves and peaks, and a Convolution with the same
reverb impulse response); pan and width, which pedalboard lacks, are the same numpy arithmetic
in both. Learning: torch forward + backward of the full console on 4 x 16 tracks x 5 s.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402
from timing import best_time  # noqa: E402

from drywet import io  # noqa: E402
from drywet.graph import Chain, Stage  # noqa: E402
from drywet.mixing import console  # noqa: E402

torch.set_num_threads(1)
SR = 44100
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "music"
STRIP = {"gain": {"gain_db": -3.0}, "parametric_eq": {"low_shelf_gain_db": -3.0, "peak2_gain_db": 2.0, "high_shelf_gain_db": 1.5},
         "compressor": {"threshold_db": -24.0, "ratio": 3.0, "attack_ms": 10.0, "release_ms": 120.0, "knee_db": 6.0},
         "pan": {"pan": 0.3}, "stereo_width": {"width": 1.2}}
REVERB = {"mix": 1.0}


def stems(tracks: int, seconds: float) -> np.ndarray:
    sources = [io.read_audio(p, sample_rate=SR)[0] for p in sorted(SHARED.glob("*.ogg"))] or [io.bundled_example()[0]]
    n = int(seconds * SR)
    out = np.zeros((tracks, 2, n), np.float32)
    for t in range(tracks):
        src = sources[t % len(sources)]
        tiled = np.tile(src, (1, int(np.ceil((n + t * SR) / src.shape[1])) + 1))
        out[t] = tiled[:2, t * SR : t * SR + n]
    return out


def drywet_console(names):
    verb = Chain([Stage.create("noise_reverb", REVERB, {"seed": 1})], key="reverb")
    master = Chain([Stage.create("parametric_eq", {"high_shelf_gain_db": 1.0}), Stage.create("compressor", {"threshold_db": -12.0}),
                    Stage.create("limiter", {"threshold_db": -1.0}), Stage.create("gain", {"gain_db": -1.0})], key="master")
    return console(names, settings={n: STRIP for n in names}, buses={"reverb": verb},
                   sends_db={"reverb": {n: -18.0 for n in names}}, master=master)


def pedalboard_console(x: np.ndarray, ir_path: str):
    import pedalboard as pb

    eq = STRIP["parametric_eq"]
    comp = STRIP["compressor"]
    strip = pb.Pedalboard([pb.Gain(STRIP["gain"]["gain_db"]), pb.LowShelfFilter(80.0, eq["low_shelf_gain_db"], 0.707),
                           pb.PeakFilter(500.0, 0.0, 0.707), pb.PeakFilter(1500.0, eq["peak2_gain_db"], 0.707),
                           pb.PeakFilter(5000.0, 0.0, 0.707), pb.HighShelfFilter(10000.0, eq["high_shelf_gain_db"], 0.707),
                           pb.Compressor(comp["threshold_db"], comp["ratio"], comp["attack_ms"], comp["release_ms"])])
    reverb = pb.Pedalboard([pb.Convolution(ir_path, 1.0)])
    master = pb.Pedalboard([pb.HighShelfFilter(10000.0, 1.0, 0.707), pb.Compressor(-12.0), pb.Limiter(-1.0), pb.Gain(-1.0)])
    theta = (STRIP["pan"]["pan"] + 1) * np.pi / 4
    left, right, width = np.sqrt(2) * np.cos(theta), np.sqrt(2) * np.sin(theta), STRIP["stereo_width"]["width"]

    def render():
        mix = np.zeros((2, x.shape[-1]), np.float32)
        for track in x:
            y = strip(track, SR)
            y = np.stack([y[0] * left, y[1] * right])
            mid, side = 0.5 * (y[0] + y[1]), 0.5 * (y[0] - y[1]) * width
            mix += np.stack([mid + side, mid - side])
        mix += reverb(mix * 10 ** (-18 / 20), SR)
        return master(mix, SR)

    return render


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=16)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    x = stems(args.tracks, 60 * args.minutes)
    names = [f"t{i}" for i in range(args.tracks)]
    mix = drywet_console(names)
    dur = x.shape[-1] / SR
    ours = best_time(lambda: mix(x, sample_rate=SR), args.repeats)
    print(f"drywet console, {args.tracks} stereo tracks x {args.minutes:g} min, numpy: {dur / ours:.1f} x real time ({ours:.1f} s)")
    try:
        import pedalboard  # noqa: F401
    except ImportError:
        print("pedalboard console: skipped (pip install pedalboard)")
    else:
        impulse = np.zeros((2, 3 * SR))
        impulse[:, 0] = 1.0
        ir = Stage.create("noise_reverb", REVERB, {"seed": 1})(impulse, sample_rate=SR)
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "ir.wav")
            sf.write(path, ir.T, SR, subtype="FLOAT")
            theirs = best_time(pedalboard_console(x, path), args.repeats)
        print(f"pedalboard console, same stages: {dur / theirs:.1f} x real time ({theirs:.1f} s); drywet/pedalboard speed {theirs / ours:.2f}")
    xt = torch.tensor(stems(args.tracks, 5.0))[None].expand(4, -1, -1, -1).contiguous()
    q = torch.tensor(mix.to_q(), dtype=torch.float32).expand(4, -1).clone().requires_grad_(True)

    def learn():
        mix.torch(xt, sample_rate=SR, q=q).square().mean().backward()

    t = best_time(learn, args.repeats)
    print(f"drywet console, torch forward + backward, 4 x {args.tracks} tracks x 5 s: {4 * 5.0 / t:.2f} x real time ({t:.1f} s)")


if __name__ == "__main__":
    main()
