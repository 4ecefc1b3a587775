"""Declipping methods on real music: SDR gain of S-SPADE (drywet.dsp.declip) over the
consistent iterative hard thresholding drywet used before (kept below for the comparison).

    python evaluations/compare_declipping.py test     # the 3 songs (.ogg) of ../shared/data/music (README table)
    python evaluations/compare_declipping.py valid    # 6 held-out game tracks of .blinddata/rest_valid
    python evaluations/compare_declipping.py valid --variants   # frame and DFT settings (chosen on valid)
    python evaluations/compare_declipping.py valid --per-recording   # each track, and how far peaks overshoot
    python evaluations/compare_declipping.py valid --ceilings   # declip(..., ceiling_db) at 1.5-4x the level, down to -20 dB
    python evaluations/compare_declipping.py bundled  # drywet declip on the bundled clip clipped 8 dB, as 16-bit WAV
    python evaluations/compare_declipping.py scan     # which files of ../shared/data find_clipped marks

Each recording: 10 s from 30 s, first channel, hard clipped at 1, 3, 6 and 10 dB below its
peak; SDR of the restored signal to the original, median over recordings, and seconds per
10 s clip on this machine.
"""

from __future__ import annotations

import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
from eval_invert import SONGS, excerpt, sdr

from drywet import EFFECTS
from drywet.datasets import music_files
from drywet.effects.distortion_inverse import invert_hard_clip
from drywet.dsp.declip import declip

REPO = Path(__file__).resolve().parents[1]
LEVELS_DB = (-1.0, -3.0, -6.0, -10.0)


def consistent_iht(x, unreliable, *, sample_rate, iterations=60, frame_ms=46.0):
    """Kitic et al., ICASSP 2013, as drywet ran it until 2026-11-23: one sparsity k for all
    frames of a sqrt-Hann STFT (hop 1/4), growing by 1/200 of the bins per iteration, and the
    projection on the consistent set after each hard thresholding."""
    size = 1 << int(round(np.log2(frame_ms * 1e-3 * sample_rate)))
    hop, n = size // 4, x.shape[-1]
    out = x.astype(np.float64).copy()
    for row in range(x.shape[0]):
        obs, mask = out[row].copy(), unreliable[row]
        total = n + 2 * size
        count = 1 + -(-(total - size) // hop)
        index = np.arange(count)[:, None] * hop + np.arange(size)
        total = index[-1, -1] + 1
        window = np.sqrt(np.hanning(size + 1)[:-1])
        norm = np.maximum(np.bincount(index.ravel(), np.broadcast_to(window**2, index.shape).ravel(), total), 1e-12)
        lower = np.where(mask & (obs > 0), obs, -np.inf)
        upper = np.where(mask & (obs < 0), obs, np.inf)
        estimate = obs.copy()
        bins = size // 2 + 1
        step = max(1, bins // 200)
        for it in range(iterations):
            padded = np.zeros(total)
            padded[size : size + n] = estimate
            spec = np.fft.rfft(padded[index] * window, axis=-1)
            k = min(bins, step * (1 + it))
            if k < bins:
                cut = np.partition(np.abs(spec), bins - k, axis=-1)[:, bins - k : bins - k + 1]
                spec = np.where(np.abs(spec) >= cut, spec, 0.0)
            frames = np.fft.irfft(spec, size, axis=-1) * window
            sparse = (np.bincount(index.ravel(), frames.ravel(), total) / norm)[size : size + n]
            estimate = np.where(mask, np.clip(sparse, lower, upper), obs)
        out[row] = estimate
    return out


def recordings(split: str):
    if split == "test":
        return [excerpt(p) for p in SONGS]
    files = music_files(REPO / ".blinddata" / "rest_valid")[:6]
    if not files:
        raise SystemExit("valid needs .blinddata/rest_valid: python recipes/blind_extra_music.py --rest")
    return [excerpt(f) for f in files]


def per_recording(split: str) -> None:
    """SDR of each recording at -1 and -3 dB, and the largest restored peak over the clipping
    level (the truth's ratio first): where S-SPADE overshoots."""
    names = [p.name for p in SONGS] if split == "test" else [p.name for p in music_files(REPO / ".blinddata" / "rest_valid")[:6]]
    print("| recording | clipped at | clipped SDR | IHT | S-SPADE | peak / level: true, IHT, S-SPADE |")
    print("|---|---|---|---|---|---|")
    for name, (x, sr) in zip(names, recordings(split)):
        x = x[:1].astype(np.float64)
        for level_db in (-1.0, -3.0):
            threshold = 20 * np.log10(np.abs(x).max()) + level_db
            level = 10 ** (threshold / 20)
            y = EFFECTS["hard_clip"](x, sample_rate=sr, threshold_db=threshold)
            x0, unreliable = invert_hard_clip(y, threshold_db=threshold)
            a, b = consistent_iht(x0, unreliable, sample_rate=sr), declip(x0, unreliable, sample_rate=sr)
            peaks = ", ".join(f"{np.abs(v).max() / level:.2f}" for v in (x, a, b))
            print(f"| {name} | {level_db:g} dB | {sdr(x, y):.2f} | {sdr(x, a):.2f} | {sdr(x, b):.2f} | {peaks} |", flush=True)


def bundled() -> None:
    """The README's drywet declip example, through the command line."""
    import tempfile

    import soundfile as sf

    from drywet import io
    from drywet.cli import main as cli

    x, sr = io.bundled_example()
    level = 10 ** (-8 / 20) * np.abs(x).max()
    with tempfile.TemporaryDirectory() as tmp:
        sf.write(f"{tmp}/clipped.wav", np.clip(x, -level, level).T, sr, subtype="PCM_16")
        start = time.perf_counter()
        cli(["declip", f"{tmp}/clipped.wav", "-o", f"{tmp}/restored.wav"])
        seconds = time.perf_counter() - start
        clipped, restored = io.read_audio(f"{tmp}/clipped.wav")[0], io.read_audio(f"{tmp}/restored.wav")[0]
    from eval_invert import si_sdr

    print(f"SI-SDR to the original: clipped {si_sdr(x, clipped):.2f} dB, restored {si_sdr(x, restored):.2f} dB "
          f"({seconds:.1f} s for {x.shape[-1] / sr:.0f} s of {x.shape[0]}-channel audio)")


def scan() -> None:
    """Which audio files of ../shared/data hold a plateau at a channel's extreme."""
    from drywet import io
    from drywet.errors import AudioError
    from drywet.dsp.declip import find_clipped

    shared = REPO.parent / "shared" / "data"
    files = sorted(f for f in shared.rglob("*") if f.suffix.lower() in (".wav", ".flac", ".ogg"))
    read = 0
    for f in files:
        try:
            y, _ = io.read_audio(f)
        except AudioError:
            continue
        read += 1
        found = find_clipped(y)
        if found.any():
            print(f"{f.relative_to(shared)}: {found.sum()} samples ({100 * found.mean():.4f} %)")
    print(f"{read} audio files read")


def run(split: str, methods: dict, levels=LEVELS_DB) -> None:
    clips = [(x[:1].astype(np.float64), sr) for x, sr in recordings(split)]
    print(f"{split}: {len(clips)} recordings; SDR (dB) median, and seconds per 10 s clip")
    print("| clipped at | samples clipped | clipped SDR | " + " | ".join(methods) + " |")
    print("|---|---|---|" + "---|" * len(methods))
    for level_db in levels:
        fraction, before, after, seconds = [], [], {m: [] for m in methods}, {m: 0.0 for m in methods}
        for x, sr in clips:
            threshold = 20 * np.log10(np.abs(x).max()) + level_db
            y = EFFECTS["hard_clip"](x, sample_rate=sr, threshold_db=threshold)
            x0, unreliable = invert_hard_clip(y, threshold_db=threshold)
            fraction.append(unreliable.mean())
            before.append(sdr(x, y))
            for name, method in methods.items():
                start = time.perf_counter()
                restored = method(x0, unreliable, sample_rate=sr)
                seconds[name] += time.perf_counter() - start
                after[name].append(sdr(x, restored))
        cells = " | ".join(f"{np.median(after[m]):.2f} ({seconds[m] / len(clips):.1f} s)" for m in methods)
        print(f"| {level_db:g} dB | {100 * np.median(fraction):.2f} % | {np.median(before):.2f} | {cells} |", flush=True)


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] in ("bundled", "scan"):
        return bundled() if args[0] == "bundled" else scan()
    if not args or args[0] not in ("test", "valid"):
        raise SystemExit(__doc__)
    if "--per-recording" in args:
        return per_recording(args[0])
    declip(np.ones((1, 4096)), np.arange(4096)[None] % 7 == 0, sample_rate=44100)  # compile before timing
    methods = {"consistent IHT (before)": consistent_iht, "S-SPADE": declip}
    if "--variants" in args:
        methods = {
            "consistent IHT (before)": consistent_iht,
            "S-SPADE 46 ms": declip,
            "46 ms, DFT x2": lambda x, m, sample_rate: declip(x, m, sample_rate=sample_rate, redundancy=2),
            "23 ms": lambda x, m, sample_rate: declip(x, m, sample_rate=sample_rate, frame_ms=23.0),
            "93 ms": lambda x, m, sample_rate: declip(x, m, sample_rate=sample_rate, frame_ms=93.0),
        }
    if "--ceilings" in args:
        levels = (-1.0, -3.0, -6.0, -10.0, -15.0, -20.0)
        methods = {"S-SPADE": declip} | {
            f"ceiling {c:g}x": partial(declip, ceiling_db=20 * np.log10(c)) for c in (1.5, 2.0, 3.0, 4.0)
        }
        return run(args[0], methods, levels)
    run(args[0], methods)


if __name__ == "__main__":
    main()
