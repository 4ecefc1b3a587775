"""Build the extra training music of the shipped blind estimators (compressor, clipper,
chain): 64 min of game soundtracks from three Debian packages, mono, Ogg Vorbis
(libsndfile compression level 0.5, about 78 kbps), small enough to travel to a GPU machine.

    mkdir debs && (cd debs && apt-get download hedgewars-data supertux-data wesnoth-1.16-music)
    for d in debs/*.deb; do dpkg -x $d pkgs; done
    python recipes/blind_extra_music.py pkgs .blinddata/extra [--rest .blinddata/rest_train .blinddata/rest_valid]
    python recipes/train_blind.py --settings compressor,clipper,chain --steps 8000 --device cuda \\
        --workers 3 --extra-train .blinddata/extra

and, for more genres (orchestral, celtic, ambient, electronic: 124 tracks, about 500 min more):

    (cd debs && apt-get download widelands-data megaglest-data naev-data warzone2100-music)
    for d in debs/*.deb; do dpkg -x $d pkgs; done
    python recipes/blind_extra_music.py pkgs .blinddata/extra --more .blinddata/more_train .blinddata/more_valid

Licenses (see each package's /usr/share/doc/*/copyright): Hedgewars and SuperTux music
GPL-2+ / CC-BY-SA, Wesnoth music GPL-2+; the --more packages' music is under GPL, CC-BY-SA
or CC-BY licenses, file by file. The audio is used for training only and is not
shipped; none of it is in the test split (Brahms, the Bach chorale mix).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import soundfile as sf

GAMES = "usr/share/games"
TRACKS = {  # the tracks drawn (at random, seed 0, ~11 MB per game) for the shipped weights
    "hedgewars": ("hedgewars/Data/Music", ["Brick", "City", "Golf", "Halloween", "main_theme", "underwater"]),
    "supertux": ("supertux2/music", ["forest/beneath_the_rabbit_hole", "antarctic/cave", "castle/darkforestkeep",
                                     "forest/forest-cave", "forest/ghostforest", "retro/ice_music", "antarctic/jewels",
                                     "forest/new_forest_map", "antarctic/salcon", "misc/theme", "forest/wisphunt"]),
    "wesnoth": ("wesnoth/1.16/data/core/music", ["knolls", "nunc_dimittis", "silvan_sanctuary", "traveling_minstrels",
                                                 "underground"]),
}

MORE = {  # --more: every music track of these packages (folders under the extraction root)
    "widelands": "usr/share/games/widelands/data/music",
    "megaglest": "usr/share/games/megaglest",  # only files in a music/ folder (the rest are sound effects)
    "naev": "usr/share/naev/dat/snd/music",
    "warzone2100": "usr/share/games/warzone2100/music",
}

VALID_EVERY = 5  # --rest: every 5th remaining track (sorted by path) goes to the validation folder


def extract(source: Path, out: Path) -> None:
    if out.exists():
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    x, sr = sf.read(source, dtype="float32", always_2d=True)
    tmp = out.with_suffix(".part")
    # written one second at a time: libsndfile's Vorbis encoder crashes on one long write
    with sf.SoundFile(tmp, "w", sr, 1, format="OGG", subtype="VORBIS", compression_level=0.5) as f:
        for i in range(0, len(x), sr):
            f.write(x[i : i + sr].mean(axis=1))
    tmp.rename(out)
    print(out, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("packages", help="folder where the .deb files were extracted (dpkg -x)")
    parser.add_argument("out")
    parser.add_argument("--rest", nargs=2, metavar=("TRAIN_DIR", "VALID_DIR"),
                        help="also extract every other track of the three games (about 250 min): every "
                             f"{VALID_EVERY}th, sorted by path, to VALID_DIR (a second validation set), the rest to TRAIN_DIR")
    parser.add_argument("--more", nargs=2, metavar=("TRAIN_DIR", "VALID_DIR"),
                        help="also extract every track of the packages in MORE, split as --rest")
    args = parser.parse_args()
    chosen = set()
    for game, (folder, names) in TRACKS.items():
        for name in names:
            source = Path(args.packages) / GAMES / folder / (name + ".ogg")
            chosen.add(source)
            extract(source, Path(args.out) / game / (Path(name).name + ".ogg"))
    if args.rest:
        rest = sorted(p for game, (folder, _) in TRACKS.items() for p in (Path(args.packages) / GAMES / folder).rglob("*.ogg")
                      if p not in chosen)
        for i, source in enumerate(rest):
            game = next(g for g, (folder, _) in TRACKS.items() if (GAMES + "/" + folder) in source.as_posix())
            target = args.rest[1] if i % VALID_EVERY == VALID_EVERY - 1 else args.rest[0]
            extract(source, Path(target) / game / source.name)
    if args.more:
        for game, folder in MORE.items():
            tracks = sorted(p for p in (Path(args.packages) / folder).rglob("*")
                            if p.suffix in (".ogg", ".opus") and "music" in p.parts)
            for i, source in enumerate(tracks):
                target = args.more[1] if i % VALID_EVERY == VALID_EVERY - 1 else args.more[0]
                name = "_".join(source.relative_to(Path(args.packages) / folder).with_suffix(".ogg").parts)
                extract(source, Path(target) / game / name)


if __name__ == "__main__":
    main()
