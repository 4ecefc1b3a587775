"""Additive noise at a target SNR: colored (white, pink, brown), mains hum with harmonics,
and real noise recordings from a folder. Black boxes (numpy only); each is seeded so a call
is reproducible, and every batch item gets the same noise (batch = stack of single calls).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..dsp.noise import COLOR_EXPONENTS, add_at_snr, colored_noise, rng_for
from ..errors import AudioError, ParameterError
from ..io import READ_FORMATS, audio_files
from ..spec import EffectSpec, Option, Param, Strength
from .base import Effect

SEED = Option("seed", 0, "seed of the noise (integer); the augmentation pipeline draws one per call")


def _snr(default: float) -> Param:
    return Param("snr_db", "dB", -10.0, 60.0, default, curve=True, doc="signal-to-noise ratio re the clip's RMS")


COLORED_NOISE = EffectSpec(
    "colored_noise",
    "Gaussian noise with a 1/f^alpha spectrum (white 0, pink 1, brown 2), independent per channel.",
    (_snr(30.0),),
    (Option("color", "white", "noise color", tuple(COLOR_EXPONENTS)), SEED),
    category="noise",
    differentiable=False,
    strength=Strength("snr_db", 60.0, -10.0),
)

MAINS_HUM = EffectSpec(
    "mains_hum",
    "Mains hum: the mains frequency and its harmonics (amplitude 1/k, odd harmonics favored "
    "as in transformer and ground-loop hum), same on every channel.",
    (
        _snr(30.0),
        Param("harmonics", "", 1.0, 12.0, 5.0, integer=True, doc="number of harmonics including the fundamental"),
    ),
    (Option("mains_hz", 50, "mains frequency", (50, 60)), SEED),
    category="noise",
    differentiable=False,
    strength=Strength("snr_db", 60.0, -10.0),
)

NOISE_FILE = EffectSpec(
    "noise_file",
    "Real noise: a recording drawn (by seed) from a folder, looped from a random offset, "
    "mixed at the target SNR.",
    (_snr(20.0),),
    (Option("noise_dir", None, "folder of noise recordings (wav, flac, ogg, mp3), searched recursively"), SEED),
    category="noise",
    differentiable=False,
    strength=Strength("snr_db", 60.0, -10.0),
)



def colored_noise_numpy(x, *, sample_rate, snr_db, color, seed):
    noise = colored_noise(rng_for(seed), x.shape[1:], sample_rate, color)
    return add_at_snr(x, noise[None], snr_db)


def mains_hum_numpy(x, *, sample_rate, snr_db, harmonics, mains_hz, seed):
    rng = rng_for(seed)
    t = np.arange(x.shape[-1]) / sample_rate
    hum = np.zeros(x.shape[-1])
    for k in range(1, int(round(harmonics)) + 1):
        freq = mains_hz * k
        if freq >= 0.49 * sample_rate:
            break
        weight = (1.0 if k % 2 else 0.5) / k
        hum += weight * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
    hum /= max(np.sqrt(np.mean(hum**2)), 1e-12)
    return add_at_snr(x, hum[None, None], snr_db)


def list_audio_files(folder, what: str) -> list[Path]:
    """Audio files under ``folder`` (sorted, so a seed picks the same file everywhere)."""
    if folder is None:
        raise ParameterError(f"{what}=<folder> is required: a folder of audio files")
    root = Path(folder)
    if not root.is_dir():
        raise ParameterError(f"{what}={str(folder)!r} is not a folder; give a folder of audio files")
    files = audio_files(root)
    if not files:
        raise ParameterError(f"{what}={str(folder)!r} holds no audio files ({', '.join(READ_FORMATS)})")
    return files


def noise_file_numpy(x, *, sample_rate, snr_db, noise_dir, seed):
    from .. import io

    rng = rng_for(seed)
    files = list_audio_files(noise_dir, "noise_dir")
    path = files[rng.integers(len(files))]
    noise, _ = io.read_audio(path, sample_rate=sample_rate)
    if not np.any(noise):
        raise AudioError(f"noise recording {path} is silent; remove it from {noise_dir}")
    channels, n = x.shape[1], x.shape[-1]
    if noise.shape[0] != channels:  # a real noise is used as is, or downmixed and spread
        noise = io.convert_channels(io.convert_channels(noise, 1), channels)
    reps = -(-(n + noise.shape[-1]) // noise.shape[-1])
    start = int(rng.integers(noise.shape[-1]))
    noise = np.tile(noise, reps)[:, start : start + n].astype(np.float64)
    noise /= max(np.sqrt(np.mean(noise**2)), 1e-12)
    return add_at_snr(x, noise[None], snr_db)


EFFECTS = (
    Effect(COLORED_NOISE, colored_noise_numpy, None, aliases=("noise",)),
    Effect(MAINS_HUM, mains_hum_numpy, None, aliases=("hum",)),
    Effect(NOISE_FILE, noise_file_numpy, None),
)
