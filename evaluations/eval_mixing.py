"""Automatic mixing methods against the engineers' mixes of the multitracks in ../shared/data.

    python evaluations/eval_mixing.py [--methods rules,mono,random]

Lays the songs out as SONG/stems + SONG/mix (links in a temporary folder) and runs
``drywet mix eval`` on them. Two songs only (SiSec's Bearlin Roads, the rendered Bach chorale):
a check of the protocol, not a measure that generalizes; the LMMS recipe of issue #33 is what
gives a test set of many songs.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from drywet import io
from drywet.cli import main

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "multitrack"
SONGS = {"bearlin_roads": "__mix.", "rendered_bwv66.6": "_mix."}


def lay_out(root: Path) -> None:
    for song, mix_mark in SONGS.items():
        stems = root / song / "stems"
        stems.mkdir(parents=True)
        for f in io.audio_files(SHARED / song):
            if mix_mark in f.name:
                (root / song / f"mix{f.suffix}").symlink_to(f)
            else:
                (stems / f.name).symlink_to(f)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="rules,mono,random")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lay_out(Path(tmp))
        main(["mix", "eval", "--data", tmp, "--methods", args.methods])
