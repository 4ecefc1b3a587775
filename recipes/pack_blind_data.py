"""Pack the blind estimators' training music small enough to travel to a GPU machine (whose
calls carry at most 64 MiB with the repository): the train and valid splits of ../shared/data
copied as they are, and extra music re-encoded to mono Ogg Opus (libsndfile compression
level 0.94, about 22 kbps: the script prints the minutes and MiB it packed),
tracks drawn at random (seed 0) until a minute budget is spent.

    python recipes/pack_blind_data.py .gpudata --train-dir .blinddata/extra --train-dir .blinddata/rest_train \\
        --valid-dir .blinddata/rest_valid --train-minutes 190 --valid-minutes 20
    # then, on the GPU machine
    python recipes/train_blind.py --shared .gpudata/shared_data --extra-train .gpudata/train \\
        --extra-valid .gpudata/valid --device cuda --workers 3 ...

Or, with --chunks MIB, nothing is re-encoded: the same files are split into numbered folders
out/c1, out/c2, ... of at most MIB each (links where the file system allows, else copies), to
carry one per call to a machine kept warm between calls, each call copying its chunk under one
folder there (shared_data/, train/, valid/ as above):

    python recipes/pack_blind_data.py .gpu --chunks 44 --train-dir .blinddata/extra ...

Opus runs at 48 kHz; MusicCrops resamples to the training rate on load. Measured (README,
Blind estimation): estimators trained on this 22 kbps music were worse on the test recordings
than the shipped ones trained on 78 kbps Vorbis; pack fewer minutes at a lower --level
(higher bitrate) rather than more at this one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_blind import SHARED  # noqa: E402

from drywet.datasets import SPLITS, music_files  # noqa: E402

OPUS_RATE = 48000


def copy_splits(shared: Path, out: Path) -> None:
    for rel in SPLITS["train"] + SPLITS["valid"]:
        for f in music_files(shared / rel):
            target = out / f.relative_to(shared)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, target)


def pack(folders: list[Path], out: Path, minutes: float, level: float) -> float:
    """Re-encode tracks of ``folders`` (random order, seed 0) to Opus under ``out``; returns the minutes packed."""
    files = [(d, f) for d in folders for f in music_files(d)]
    order = np.random.default_rng(0).permutation(len(files))
    done = 0.0
    for i in order:
        if done >= minutes:
            break
        folder, f = files[i]
        target = out / folder.name / f.relative_to(folder).with_suffix(".opus")
        info = sf.info(f)
        done += info.duration / 60
        if target.exists():
            continue
        x, sr = sf.read(f, dtype="float32", always_2d=True)
        x = soxr.resample(x.mean(axis=1), sr, OPUS_RATE)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        with sf.SoundFile(tmp, "w", OPUS_RATE, 1, format="OGG", subtype="OPUS", compression_level=level) as g:
            for j in range(0, len(x), OPUS_RATE):  # one second at a time (one long write crashes libvorbis/opus)
                g.write(x[j : j + OPUS_RATE])
        tmp.rename(target)
    return done


def chunk(shared: Path, train_dirs: list[Path], valid_dirs: list[Path], out: Path, mib: float) -> list[Path]:
    """Split the splits and the extra music, as they are, into out/c1, out/c2, ... of at most ``mib`` MiB each."""
    files = [(f, Path("shared_data") / f.relative_to(shared)) for rel in SPLITS["train"] + SPLITS["valid"] for f in music_files(shared / rel)]
    files += [(f, Path("valid") / d.name / f.relative_to(d)) for d in valid_dirs for f in music_files(d)]
    files += [(f, Path("train") / d.name / f.relative_to(d)) for d in train_dirs for f in music_files(d)]
    chunks, used = [], np.inf
    for f, rel in files:
        size = f.stat().st_size
        if size > mib * 2**20:
            raise SystemExit(f"{f} is larger than a chunk ({mib} MiB): raise --chunks")
        if used + size > mib * 2**20:
            chunks.append(out / f"c{len(chunks) + 1}")
            used = 0
        target = chunks[-1] / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            try:
                os.link(f, target)
            except OSError:  # another file system
                shutil.copy2(f, target)
        used += size
    return chunks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--shared", default=str(SHARED))
    parser.add_argument("--train-dir", action="append", default=[])
    parser.add_argument("--valid-dir", action="append", default=[])
    parser.add_argument("--train-minutes", type=float, default=190)
    parser.add_argument("--valid-minutes", type=float, default=20)
    parser.add_argument("--level", type=float, default=0.94, help="libsndfile compression level of Opus (0.94: about 22 kbps)")
    parser.add_argument("--chunks", type=float, metavar="MIB", help="copy without re-encoding, split into folders of at most MIB")
    args = parser.parse_args()
    out = Path(args.out)
    if args.chunks:
        made = chunk(Path(args.shared), [Path(d) for d in args.train_dir], [Path(d) for d in args.valid_dir], out, args.chunks)
        for c in made:
            print(f"{c}: {sum(f.stat().st_size for f in c.rglob('*') if f.is_file()) / 2**20:.1f} MiB")
        return
    copy_splits(Path(args.shared), out / "shared_data")
    t = pack([Path(d) for d in args.train_dir], out / "train", args.train_minutes, args.level)
    v = pack([Path(d) for d in args.valid_dir], out / "valid", args.valid_minutes, args.level)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
    print(f"packed {t:.0f} min of training and {v:.0f} min of validation music; {out} holds {size:.1f} MiB")


if __name__ == "__main__":
    main()
