"""Random crops of real recordings, loaded once: what every training run of drywet draws from."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import io
from ..errors import DrywetError

SILENT_RMS = 10 ** (-50 / 20)


class MusicCrops:
    """Random mono crops of a set of recordings, loaded once at ``sample_rate``.

    ``mix``: probability that a crop is instead the sum of 2 or 3 crops of different
    recordings at random gains (0 to -12 dB each): a few recordings and instrument samples
    then give many arrangements and spectra, as a mix is a sum of parts."""

    def __init__(self, files: Sequence[Path], *, sample_rate: int, crop_samples: int, mix: float = 0.0):
        signals = []
        for f in files:
            try:
                x, _ = io.read_audio(f, sample_rate=sample_rate, channels=1)
            except DrywetError:
                continue
            signals.append(x[0])
        self._setup(signals, sample_rate, crop_samples, f"among {len(files)} files", mix)

    @classmethod
    def from_signals(cls, signals: Sequence[np.ndarray], *, sample_rate: int, crop_samples: int, mix: float = 0.0) -> MusicCrops:
        """Crops of 1-D signals already in memory at ``sample_rate``."""
        self = cls.__new__(cls)
        self._setup([np.asarray(s, dtype=np.float32) for s in signals], sample_rate, crop_samples, "in memory", mix)
        return self

    def _setup(self, signals, sample_rate: int, crop_samples: int, where: str, mix: float) -> None:
        if not 0.0 <= mix <= 1.0:
            raise DrywetError(f"mix is a probability in [0, 1], not {mix}")
        self.sample_rate = sample_rate
        self.crop = crop_samples
        self.mix = mix
        self.signals = [s for s in signals if s.shape[-1] >= crop_samples]
        if not self.signals:
            raise DrywetError(f"no readable recording of at least {crop_samples / sample_rate:.1f} s {where}")
        lengths = np.array([s.size - crop_samples + 1 for s in self.signals], dtype=np.float64)
        self.weights = lengths / lengths.sum()  # every crop position equally likely

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One non-silent crop (1, T), peak-normalized to 1."""
        parts = 1
        if self.mix > 0.0 and len(self.signals) > 1 and rng.random() < self.mix:
            parts = int(rng.integers(2, min(3, len(self.signals)) + 1))
        for _ in range(50):
            if parts == 1:  # (the draws of the evaluation tables: keep their order)
                chosen = [rng.choice(len(self.signals), p=self.weights)]
            else:
                chosen = rng.choice(len(self.signals), size=parts, replace=False, p=self.weights)
            crop = np.zeros(self.crop, np.float64)
            for i in chosen:
                s = self.signals[i]
                start = int(rng.integers(s.size - self.crop + 1))
                gain = 10 ** (-rng.uniform(0.0, 12.0) / 20) if parts > 1 else 1.0
                crop += gain * s[start : start + self.crop]
            if np.sqrt(np.mean(crop**2)) > SILENT_RMS:
                return (crop / np.abs(crop).max())[None].astype(np.float32)
        raise DrywetError("could not find a non-silent crop in 50 draws; the recordings are (nearly) silent")
