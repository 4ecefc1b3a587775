"""Splits by recording, never by crop, of ../shared/data for drywet's own training runs:
  train: Hobbs, MacLeod, the Sonic Pi loops and instruments, the Salamander piano
  valid: the Bearlin Roads engineer's mix (research only, never shipped)
  test:  Brahms and the rendered Bach chorale mix (mixes, as in the paper's tables)
"""

from __future__ import annotations

from pathlib import Path

from ..io import audio_files

SPLITS = {
    "train": ("music/hobbs_lets_go_fishin.ogg", "music/macleod_sugar_plum_fairy.ogg", "instruments/sonic_pi", "instruments/salamander_v10"),
    "valid": ("multitrack/bearlin_roads/dev1__bearlin-roads__snip_85_99__mix.flac",),
    "test": ("music/brahms_hungarian_dance_5.ogg", "multitrack/rendered_bwv66.6/bwv66.6_mix.flac"),
}


def music_files(path: Path) -> list[Path]:
    """The audio files under a folder (recursive, sorted), or the file itself."""
    return audio_files(path)


def split_files(root: Path, split: str) -> list[Path]:
    return [f for rel in SPLITS[split] for f in music_files(root / rel)]
