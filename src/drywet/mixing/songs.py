"""Multitrack songs with their real mix, for evaluation and training, in the layouts users have:

- drywet's own: ``SONG/stems/*.wav`` beside ``SONG/mix.wav``;
- MUSDB18-HQ: ``SONG/mixture.wav`` beside ``SONG/{bass,drums,other,vocals}.wav``;
- DSD100: ``Mixtures/<split>/SONG/mixture.wav`` and ``Sources/<split>/SONG/*.wav``;
- MedleyDB: ``SONG/SONG_MIX.wav`` and ``SONG/SONG_STEMS/*.wav``;
- ENST-drums: ``drummer_N/audio/<mic>/TAKE.wav`` with ``drummer_N/audio/wet_mix/TAKE.wav`` as the mix.

:func:`find_songs` finds every song of any of them under a folder. A song's stems are a list of
files (a folder may hold more than one song's, as ENST-drums' microphones do)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import io
from ..errors import DrywetError

LAYOUTS = ("drywet", "musdb", "dsd100", "medleydb", "enst")


@dataclass(frozen=True)
class Song:
    name: str
    stems: tuple[Path, ...]  # the stem files
    mix: Path  # the engineer's mix
    layout: str = "drywet"


def _audio(folder: Path) -> list[Path]:
    return io.audio_files(folder) if folder.is_dir() else []


def _first(folder: Path, stem: str) -> Path | None:
    found = [p for p in folder.glob(f"{stem}.*") if p.suffix.lower() in io.READ_FORMATS]
    return found[0] if found else None


def find_songs(root: Any) -> list[Song]:
    """Every song under ``root`` in any of :data:`LAYOUTS` (sorted by layout, then name)."""
    root = Path(root)
    if not root.is_dir():
        raise DrywetError(f"{root} is not a folder of songs (see drywet.mixing.songs for the layouts read)")
    songs = []
    for stems in sorted(p for p in root.rglob("stems") if p.is_dir()):
        mix = _first(stems.parent, "mix")
        if mix and _audio(stems):
            songs.append(Song(stems.parent.name, tuple(_audio(stems)), mix, "drywet"))
    for mixture in sorted(root.rglob("mixture.*")):
        if mixture.suffix.lower() not in io.READ_FORMATS:
            continue
        if "Mixtures" in mixture.parts:  # DSD100: the sources sit in the parallel Sources tree
            i = len(mixture.parts) - 1 - mixture.parts[::-1].index("Mixtures")
            sources = Path(*mixture.parts[:i], "Sources", *mixture.parts[i + 1 : -1])
            stems = _audio(sources)
            layout = "dsd100"
        else:
            stems = [p for p in _audio(mixture.parent) if p.stem != "mixture" and p.parent == mixture.parent]
            layout = "musdb"
        if stems:
            songs.append(Song(mixture.parent.name, tuple(stems), mixture, layout))
    for stems in sorted(p for p in root.rglob("*_STEMS") if p.is_dir()):
        song = stems.name[: -len("_STEMS")]
        mix = _first(stems.parent, f"{song}_MIX")
        if mix and _audio(stems):
            songs.append(Song(song, tuple(_audio(stems)), mix, "medleydb"))
    for wet in sorted(p for p in root.rglob("wet_mix") if p.is_dir() and p.parent.name == "audio"):
        mics = [d for d in sorted(wet.parent.iterdir()) if d.is_dir() and d.name not in ("wet_mix", "dry_mix")]
        for mix in _audio(wet):
            stems = [f for d in mics for f in [_first(d, mix.stem)] if f is not None]
            if stems:
                songs.append(Song(f"{wet.parent.parent.name}/{mix.stem}", tuple(stems), mix, "enst"))
    if not songs:
        raise DrywetError(f"{root} holds no multitrack song in a layout drywet reads ({', '.join(LAYOUTS)}; "
                          "e.g. SONG/stems/*.wav with SONG/mix.wav)")
    return songs
