"""Multitrack songs with their real mix, for evaluation: a folder laid out as
``SONG/stems/*.wav`` beside ``SONG/mix.wav`` (any audio suffix drywet reads)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import io
from ..errors import DrywetError


@dataclass(frozen=True)
class Song:
    name: str
    stems: Path  # folder of stems
    mix: Path  # the engineer's mix


def find_songs(root: Any) -> list[Song]:
    """Every ``SONG/stems/`` folder with a ``SONG/mix.*`` beside it under ``root`` (sorted)."""
    root = Path(root)
    if not root.is_dir():
        raise DrywetError(f"{root} is not a folder of songs (SONG/stems/*.wav and SONG/mix.wav)")
    songs = []
    for stems in sorted(p for p in root.rglob("stems") if p.is_dir()):
        mixes = [p for p in stems.parent.glob("mix.*") if p.suffix.lower() in io.READ_FORMATS]
        if mixes and io.audio_files(stems):
            songs.append(Song(stems.parent.name, stems, mixes[0]))
    if not songs:
        raise DrywetError(f"{root} holds no song laid out as SONG/stems/*.wav with SONG/mix.wav")
    return songs
