"""Audio file I/O (soundfile), resampling (soxr) and channel conversion.

Audio is float32 (channels, samples) in memory. Writing never clips silently and never
overwrites an existing file unless ``overwrite=True``; files are written to a temporary name
and renamed, so a crash never leaves a half-written file under the final name.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .audio import as_batch, check_sample_rate
from .errors import AudioError

READ_FORMATS = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff", ".aif")


def audio_files(path: Any) -> list[Path]:
    """The audio files (suffix in READ_FORMATS) under a folder, recursive and sorted (so a seed
    picks the same file everywhere), or the file itself."""
    path = Path(path)
    files = sorted(q for q in path.rglob("*") if q.suffix.lower() in READ_FORMATS) if path.is_dir() else [path]
    return [f for f in files if f.is_file()]
_DATA_DIR = Path(__file__).parent / "data"


def read_audio(
    path: Any, *, sample_rate: int | None = None, channels: int | str | None = None, allow_truncated: bool = False
) -> tuple[np.ndarray, int]:
    """Read an audio file as float32 (channels, samples).

    Args:
        path: wav, flac, ogg (mp3 where the installed libsndfile supports it).
        sample_rate: resample to this rate (soxr, "HQ") when given.
        channels: None keeps the file's; ``"mono"``/1 averages, ``"stereo"``/2 duplicates
            mono or keeps stereo; other counts must match the file.
        allow_truncated: read what a truncated file holds instead of raising (see below).
    Returns:
        (audio, sample_rate)
    Raises:
        AudioError: missing, unreadable or truncated file (its header declares more audio than
            it holds: an interrupted copy or download, which libsndfile would otherwise read
            silently as a shorter file), NaN or Inf samples, or an impossible channel conversion.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"audio file not found: {path}")
    try:
        with sf.SoundFile(str(path)) as f:
            declared, log = f.frames, f.extra_info
            data = f.read(dtype="float32", always_2d=True)
            sr = f.samplerate
    except Exception as exc:  # soundfile raises several types for bad files
        reason = str(exc).rstrip(". ")
        if path.suffix.lower() in READ_FORMATS:
            hint = f"the file is damaged, truncated or not really {path.suffix.lower()}: re-export or re-download it"
        else:
            hint = f"supported: {', '.join(READ_FORMATS)}; convert other formats to wav or flac"
        if path.suffix.lower() == ".mp3":
            hint += "; mp3 needs libsndfile >= 1.1"
        raise AudioError(f"cannot read {path}: {reason} ({hint})") from exc
    missing = _truncation(log, declared, data.shape[0])
    if missing and not allow_truncated:
        raise AudioError(
            f"{path} is truncated: {missing}. Re-export or re-download it, or pass "
            "allow_truncated=True to read_audio to use the audio it holds"
        )
    audio = np.ascontiguousarray(data.T)
    if not np.isfinite(audio).all():
        raise AudioError(f"{path} contains NaN or Inf samples")
    if sample_rate is not None and int(sample_rate) != sr:
        audio = resample(audio, sr, sample_rate)
        sr = int(sample_rate)
    if channels is not None:
        audio = convert_channels(audio, channels)
    return audio, int(sr)


# libsndfile's parser log: "data : 352800 (should be 117570)" for a WAV (SSND for AIFF) whose
# audio chunk declares more bytes than the file holds
_SHORT_CHUNK = re.compile(r"^\s*(data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
# sizes that streaming writers leave in a header they never finalize: not a truncation
_PLACEHOLDER_SIZES = (0, 0x7FFFFFFF, 0xFFFFFFFF)


def _truncation(log: str, declared_frames: int, read_frames: int) -> str:
    """What a truncated file lacks, from its header and libsndfile's parser log ('' if whole)."""
    if read_frames < declared_frames:  # e.g. FLAC: STREAMINFO counts more samples than decode
        return f"the header declares {declared_frames} frames, {read_frames} could be decoded"
    for match in _SHORT_CHUNK.finditer(log):
        declared, present = int(match.group(2)), int(match.group(3))
        if declared not in _PLACEHOLDER_SIZES and present < declared and read_frames * (declared / max(present, 1) - 1) >= 1:
            return f"its {match.group(1)} chunk declares {declared} bytes, the file holds {present}"
    if "lacks an end-of-stream bit" in log:  # Ogg: the last page of a complete stream is marked
        return "its last Ogg page is not marked as the end of the stream"
    return ""


def resample(x: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample (channels, samples) with soxr (high quality); dtype is preserved."""
    import soxr

    from_rate, to_rate = check_sample_rate(from_rate), check_sample_rate(to_rate)
    x3, _ = as_batch(np.asarray(x))
    if from_rate == to_rate:
        return np.array(x, copy=True)
    if x3.shape[0] != 1:
        raise AudioError("resample takes one (channels, samples) signal; loop over the batch")
    y = soxr.resample(np.ascontiguousarray(x3[0].T), from_rate, to_rate, quality="HQ")
    return np.ascontiguousarray(y.T).astype(x.dtype, copy=False)


def convert_channels(x: np.ndarray, channels: int | str) -> np.ndarray:
    """Explicit channel conversion: "mono"/1 averages, "stereo"/2 duplicates a mono signal."""
    target = {"mono": 1, "stereo": 2}.get(channels, channels) if isinstance(channels, str) else channels
    if not isinstance(target, int) or target < 1:
        raise AudioError(f"channels must be 'mono', 'stereo' or a positive int, got {channels!r}")
    have = x.shape[0]
    if have == target:
        return x.copy()
    if target == 1:
        return x.mean(axis=0, keepdims=True)
    if have == 1:
        return np.repeat(x, target, axis=0)
    raise AudioError(f"cannot convert {have} channels to {target}; downmix to mono first")


def write_audio(
    path: Any,
    x: np.ndarray,
    *,
    sample_rate: int,
    subtype: str | None = None,
    overwrite: bool = False,
    normalize: bool = False,
) -> Path:
    """Write (channels, samples) audio atomically.

    Args:
        path: destination; the format follows the extension (wav, flac, ogg).
        x: float audio, (channels, samples).
        sample_rate: Hz.
        subtype: soundfile subtype (default: PCM_24 for wav/flac, VORBIS for ogg).
        overwrite: replace an existing file (otherwise AudioError).
        normalize: scale to a peak of -0.1 dBFS when the signal would clip.
    Returns:
        The path written.
    """
    path = Path(path)
    sr = check_sample_rate(sample_rate)
    _, was_2d = as_batch(np.asarray(x))
    if not was_2d:
        raise AudioError("write_audio takes one (channels, samples) signal, not a batch")
    audio = np.asarray(x, dtype=np.float32)
    if path.exists() and not overwrite:
        raise AudioError(f"{path} exists; pass overwrite=True (CLI: --overwrite) or choose another name")
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("wav", "flac", "ogg", "aiff", "aif"):
        raise AudioError(f"cannot write {path.suffix!r}; use .wav, .flac or .ogg")
    subtype = subtype or ("VORBIS" if fmt == "ogg" else "PCM_24")
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak > 1.0 and not subtype.startswith(("FLOAT", "DOUBLE")):
        if normalize:
            audio = audio * (10 ** (-0.1 / 20) / peak)
        else:
            warnings.warn(
                f"{path.name}: peak {20 * np.log10(peak):+.2f} dBFS will clip in {subtype}; "
                "pass normalize=True (CLI: --normalize) to scale it, or write subtype='FLOAT'",
                stacklevel=2,
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write_soundfile(tmp, audio, sr, subtype=subtype)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


# libvorbis allocates its analysis buffer on the stack in proportion to the frames handed
# to it in one call, so one long write overflows the stack and kills the process (about
# 95 s of stereo at 44.1 kHz; python-soundfile #233/#396, libsndfile #1095). Writing in
# blocks keeps every call small; the encoded result is the same.
WRITE_BLOCK_FRAMES = 1 << 15


def write_soundfile(target: Any, audio: np.ndarray, sample_rate: int, **options: Any) -> None:
    """Write (channels, samples) audio with soundfile in blocks (a path or a file object).

    ``options`` go to ``soundfile.SoundFile`` (subtype, format, compression_level). This is
    the one place drywet hands audio to libsndfile, so no encoder sees a huge block."""
    import soundfile as sf

    with sf.SoundFile(target, "w", sample_rate, audio.shape[0], **options) as f:
        for start in range(0, audio.shape[1], WRITE_BLOCK_FRAMES):
            f.write(audio[:, start : start + WRITE_BLOCK_FRAMES].T)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def bundled_example() -> tuple[np.ndarray, int]:
    """The bundled demo clip: Brahms, Hungarian Dance No. 5 (public domain, Musopen), 15 s."""
    return read_audio(_DATA_DIR / "brahms_hungarian_dance_5_15s.ogg")


def bundled_impulse_response_path() -> Path:
    """Path of the bundled measured room impulse response (CC0, see data/LICENSES.md)."""
    return _DATA_DIR / "room_ir.flac"
