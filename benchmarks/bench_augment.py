"""Augmentation throughput of drywet vs audiomentations on an equivalent chain, in one run.

    python benchmarks/bench_augment.py          # needs: pip install -e ".[bench]"

Data: the three songs of ../shared/data/music cut into 10 s stereo 44.1 kHz clips (real
music). Chain, every effect applied to every clip with parameters drawn per clip:
parametric EQ, limiter, tanh distortion, white noise at an SNR, MP3 (LAME), band-pass,
convolution with a real room impulse response from ../shared/data/irs.

    drywet:          parametric_eq, limiter, tanh_overdrive, colored_noise, mp3, band_limit, room_ir
    audiomentations: SevenBandParametricEQ, Limiter, TanhDistortion, AddGaussianSNR,
                     Mp3Compression (fast-mp3-augment), BandPassFilter, ApplyImpulseResponse

Both MP3 encoders run LAME at quality 7 (audiomentations' default).

Per-stage times of both (each effect alone on one clip) come first. Each library processes
the same clips with 1 and 2 worker processes (a process pool, clips
spread over the workers); the time is the wall time of the whole pass after a warm-up pass
(numba compilation, codec calibration, IR cache). Prints x real-time and files per second.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SR = 44100
CLIP_S = 10.0

_state: dict = {}


def clips() -> list[np.ndarray]:
    from drywet import io

    out = []
    for path in sorted((SHARED / "music").glob("*.ogg")):
        x, _ = io.read_audio(path, sample_rate=SR, channels=2)
        n = int(CLIP_S * SR)
        out += [np.ascontiguousarray(x[:, i : i + n]) for i in range(0, x.shape[-1] - n + 1, n)]
    return out


def _drywet_setup():
    from drywet.augment import Augment, EffectDraw

    return Augment(
        [
            EffectDraw("parametric_eq"),
            EffectDraw("limiter", params={"threshold_db": [-12.0, -2.0]}),
            EffectDraw("tanh_overdrive", params={"drive_db": [0.0, 20.0]}),
            EffectDraw("colored_noise", params={"snr_db": [10.0, 40.0]}),
            EffectDraw("mp3", params={"bitrate_kbps": [32, 128]}, options={"encoder_quality": 7}),
            EffectDraw("band_limit", params={"low_cut_hz": [20.0, 300.0], "high_cut_hz": [3000.0, 16000.0]}),
            EffectDraw("room_ir", params={"mix": [0.2, 0.6]}, options={"ir_dir": str(SHARED / "irs")}),
        ]
    )


def _audiomentations_setup():
    import audiomentations as A

    return A.Compose(
        [
            A.SevenBandParametricEQ(p=1.0),
            A.Limiter(min_threshold_db=-12.0, max_threshold_db=-2.0, p=1.0),
            A.TanhDistortion(p=1.0),
            A.AddGaussianSNR(min_snr_db=10.0, max_snr_db=40.0, p=1.0),
            A.Mp3Compression(min_bitrate=32, max_bitrate=128, backend="fast-mp3-augment", p=1.0),
            A.BandPassFilter(p=1.0),
            A.ApplyImpulseResponse(ir_path=str(SHARED / "irs"), p=1.0),
        ]
    )


def _run(args):
    library, index, x = args
    if library not in _state:
        _state[library] = _drywet_setup() if library == "drywet" else _audiomentations_setup()
    aug = _state[library]
    if library == "drywet":
        y = aug(x, sample_rate=SR, rng=index).audio
    else:
        y = aug(samples=x, sample_rate=SR)
    return float(np.abs(y).max())


def timed_pass(library: str, data: list[np.ndarray], workers: int) -> float:
    jobs = [(library, i, x) for i, x in enumerate(data)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_run, jobs[: 2 * workers], chunksize=1))  # warm-up in every worker
        t0 = time.perf_counter()
        peaks = list(pool.map(_run, jobs, chunksize=1))
        elapsed = time.perf_counter() - t0
    assert all(np.isfinite(peaks))
    return elapsed


def drywet_breakdown(x: np.ndarray) -> None:
    """Where drywet's time goes: each stage of one drawn chain alone on one clip (best of 5)."""
    from timing import best_time

    from drywet.chain import Chain

    aug = _drywet_setup()
    chain = aug(x, sample_rate=SR, rng=0).chain
    print(f"drywet, one {CLIP_S:g} s stereo clip, ms per stage (best of 5):")
    for stage in chain.stages:
        single = Chain([stage])
        print(f"  {stage.effect.spec.name:16s} {1e3 * best_time(lambda single=single: single(x, sample_rate=SR), 5):7.1f}")
    print(f"  {'whole chain':16s} {1e3 * best_time(lambda: aug(x, sample_rate=SR, rng=0), 5):7.1f}")


def audiomentations_breakdown(x: np.ndarray) -> None:
    """The same for audiomentations: each transform of the chain alone on the clip (best of 5)."""
    from timing import best_time

    print(f"audiomentations, one {CLIP_S:g} s stereo clip, ms per transform (best of 5):")
    compose = _audiomentations_setup()
    for transform in compose.transforms:
        seconds = best_time(lambda transform=transform: transform(samples=x, sample_rate=SR), 5)
        print(f"  {type(transform).__name__:22s} {1e3 * seconds:7.1f}")
    print(f"  {'whole chain':22s} {1e3 * best_time(lambda: compose(samples=x, sample_rate=SR), 5):7.1f}")


def main() -> None:
    data = clips()
    drywet_breakdown(data[0])
    audiomentations_breakdown(data[0])
    audio_s = len(data) * CLIP_S
    print(f"{len(data)} clips x {CLIP_S:g} s stereo {SR} Hz of real music ({audio_s:g} s)")
    print(f"{'library':16s} {'workers':>7s} {'wall s':>7s} {'x real-time':>11s} {'files/s':>8s}")
    results = {}
    for workers in (1, 2):
        for library in ("drywet", "audiomentations"):
            elapsed = timed_pass(library, data, workers)
            results[library, workers] = elapsed
            print(f"{library:16s} {workers:7d} {elapsed:7.2f} {audio_s / elapsed:11.1f} {len(data) / elapsed:8.2f}")
    for workers in (1, 2):
        print(f"drywet / audiomentations speed, {workers} worker(s): {results['audiomentations', workers] / results['drywet', workers]:.2f}x")


if __name__ == "__main__":
    main()
