"""A folder of audio files as a dataset of (channels, samples) float32 arrays at one rate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import io
from ..errors import DrywetError


class AudioFolder:
    """Audio files of a folder (sorted, recursive) as (channels, samples) float32 at one rate."""

    SUFFIXES = io.READ_FORMATS

    def __init__(self, root: Any, *, sample_rate: int, channels: int | str = 1):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DrywetError(f"{self.root} is not a folder of audio files")
        self.files = io.audio_files(self.root)
        if not self.files:
            raise DrywetError(f"{self.root} holds no audio files ({', '.join(self.SUFFIXES)})")
        self.sample_rate = sample_rate
        self.channels = channels

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> np.ndarray:
        x, _ = io.read_audio(self.files[index], sample_rate=self.sample_rate, channels=self.channels)
        return x
