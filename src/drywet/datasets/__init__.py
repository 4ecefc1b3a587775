"""Data sources in one place: audio folders, random crops of recordings, splits by recording.
One suffix list (:data:`drywet.io.READ_FORMATS`) decides what counts as audio everywhere."""

from .crops import SILENT_RMS, MusicCrops
from .folder import AudioFolder
from .splits import SPLITS, music_files, split_files

__all__ = ["AudioFolder", "MusicCrops", "SILENT_RMS", "SPLITS", "music_files", "split_files"]
