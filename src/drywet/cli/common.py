"""What several commands share: reading pairs of files, refusing to overwrite, flag names."""

from __future__ import annotations

import sys

from ..errors import DrywetError


def flag(param_name: str) -> str:
    return "--" + param_name.replace("_", "-")


def read_pair(first: str, second: str):
    """Two files at one sample rate: (a, b, sample_rate)."""
    from .. import io

    a, sr = io.read_audio(first)
    b, sr_b = io.read_audio(second)
    if sr_b != sr:
        raise DrywetError(f"sample rates differ ({sr} vs {sr_b} Hz); resample one file first")
    return a, b, sr


def read_dry_wet(dry_path: str, wet_path: str, *, resample: str = "wet", same_channels: bool = True):
    """A dry/wet pair at one sample rate (``resample``: which file is read at the other's rate)
    and, when the lengths differ, aligned: the dry put on the wet's timeline (the wet, the
    audio that match explains or invert restores, is never shifted). A note for each change."""
    from .. import io
    from ..dsp.align import MAX_LAG_S, align_to_wet

    dry, dry_sr = io.read_audio(dry_path)
    wet, wet_sr = io.read_audio(wet_path)
    sr = dry_sr if resample == "wet" else wet_sr
    if wet_sr != dry_sr:
        path, other = (wet_path, "dry") if resample == "wet" else (dry_path, "wet")
        audio, _ = io.read_audio(path, sample_rate=sr)
        dry, wet = (dry, audio) if resample == "wet" else (audio, wet)
        print(f"note: the {resample} file was resampled from {wet_sr if resample == 'wet' else dry_sr} to {sr} Hz, "
              f"the {other} file's rate", file=sys.stderr)
    if same_channels and dry.shape[0] != wet.shape[0]:
        raise DrywetError(f"channel counts differ (dry {dry.shape[0]}, wet {wet.shape[0]}): the chains that match fits keep "
                          "the channel count; convert one file (e.g. both to mono) first")
    if dry.shape[1] != wet.shape[1]:
        lengths = f"dry {dry.shape[1]}, wet {wet.shape[1]} samples"
        dry, lag = align_to_wet(dry, wet, sr)
        print(f"note: the lengths differ ({lengths}): the dry was shifted by the wet's latency, {lag} samples (GCC-PHAT "
              f"peak within {1000 * MAX_LAG_S:g} ms), and cut or zero-padded to the wet's length", file=sys.stderr)
    return dry, wet, sr


def refuse_existing(path, overwrite: bool) -> None:
    """An existing output is refused before the work (estimation, inversion: minutes on long
    files), not after it."""
    from pathlib import Path

    if path and Path(path).exists() and not overwrite:
        raise DrywetError(f"{path} exists; pass --overwrite or choose another name")


def metrics_line(m: dict) -> str:
    return f"MAE {m['mae']:.5f}  ESR {m['esr']:.5f}  MCD {m['mcd_db']:.2f} dB  MR-STFT {m['mrstft']:.4f}"
