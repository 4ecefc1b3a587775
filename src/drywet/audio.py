"""Validation and layout of audio arrays: (channels, samples) or (batch, channels, samples),
and, for functions that say they take tracks, (tracks, channels, samples) or
(batch, tracks, channels, samples).

The layout is never guessed from the shape (a 2x2 array is ambiguous): 2-D arrays are
(channels, samples), 3-D arrays are (batch, channels, samples), anything else is an error.
Functions that take tracks call :func:`as_tracks` instead: there a 3-D array is
(tracks, channels, samples) and a 4-D one (batch, tracks, channels, samples).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import AudioError

MIN_SAMPLE_RATE = 1_000
MAX_SAMPLE_RATE = 768_000


def is_tensor(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def check_sample_rate(sample_rate: Any) -> int:
    """Return ``sample_rate`` as an int, or raise AudioError saying what is accepted."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, float, np.integer, np.floating)):
        raise AudioError(f"sample_rate must be a number of Hz such as 44100, got {sample_rate!r}")
    if not float(sample_rate).is_integer():
        raise AudioError(f"sample_rate must be a whole number of Hz, got {sample_rate}")
    sr = int(sample_rate)
    if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"sample_rate={sr} Hz is outside [{MIN_SAMPLE_RATE}, {MAX_SAMPLE_RATE}] Hz; "
            "pass the rate the audio was recorded at (e.g. 44100 or 48000)"
        )
    return sr


def all_finite(x: Any) -> bool:
    """Whether every sample of a float array/tensor is finite.

    A finite sum proves it (NaN and Inf propagate through a sum) at a fraction of the cost of
    an elementwise mask, which allocates a signal-sized array; only a non-finite sum (a bad
    sample, or finite values so large that the sum overflows) pays for the exact check.
    """
    if is_tensor(x):
        import torch

        x = x.detach()
        return x.numel() == 0 or bool(torch.isfinite(x.sum())) or bool(torch.isfinite(x).all())
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowing or NaN sum is an answer here
        total = np.sum(x)
    return bool(np.isfinite(total)) or bool(np.isfinite(x).all())


# more channels than this, and than samples, is a (samples, channels) array passed the wrong way
MAX_CHANNELS = 1024


def as_batch(x: Any, *, name: str = "audio", allow_empty: bool = True):
    """Check ``x`` and return it as a 3-D (batch, channels, samples) view.

    Returns:
        (x3, was_2d): the 3-D array/tensor and whether the input was 2-D.

    Raises:
        AudioError: not a float numpy array / torch tensor, wrong number of dimensions,
            zero channels, or NaN/Inf samples.
    """
    if is_tensor(x):
        import torch

        if x.dtype not in (torch.float32, torch.float64):
            raise AudioError(f"{name} must be a float32 or float64 tensor, got {x.dtype}; use x.float() (and scale ints to [-1, 1])")
        finite = all_finite(x)
    elif isinstance(x, np.ndarray):
        if x.dtype not in (np.float32, np.float64):
            hint = {"i": "x.astype(np.float32) / np.iinfo(x.dtype).max for integer PCM",
                    "u": "(x.astype(np.float32) - 2 ** (8 * x.itemsize - 1)) / 2 ** (8 * x.itemsize - 1) for unsigned PCM",
                    "c": "x.real.astype(np.float32) (audio is real-valued)"}.get(x.dtype.kind, "x.astype(np.float32)")
            raise AudioError(f"{name} must be a float32 or float64 array, got {x.dtype}; convert with {hint}")
        finite = all_finite(x)
    else:
        raise AudioError(f"{name} must be a numpy array or torch tensor, got {type(x).__name__}")
    if x.ndim not in (2, 3):
        hint = " For a 1-D mono signal pass x[None, :]." if x.ndim == 1 else ""
        raise AudioError(
            f"{name} must have shape (channels, samples) or (batch, channels, samples), "
            f"got shape {tuple(x.shape)}.{hint}"
        )
    if x.shape[-2] == 0:
        raise AudioError(f"{name} has zero channels (shape {tuple(x.shape)}); give at least one channel")
    if x.shape[-2] > MAX_CHANNELS and x.shape[-2] > x.shape[-1]:
        raise AudioError(
            f"{name} has {x.shape[-2]} channels of {x.shape[-1]} samples: audio is (channels, samples); "
            "transpose a (samples, channels) array such as soundfile's with x.T"
        )
    if not allow_empty and x.shape[-1] == 0:
        raise AudioError(f"{name} holds no samples; give at least one sample")
    if not finite:
        raise AudioError(f"{name} contains NaN or Inf samples; clean it (e.g. np.nan_to_num) before processing")
    was_2d = x.ndim == 2
    return (x[None] if was_2d else x), was_2d


def unbatch(y: Any, was_2d: bool) -> Any:
    return y[0] if was_2d else y


def as_tracks(x: Any, *, name: str = "tracks", allow_empty: bool = True):
    """Check multitrack ``x`` and return it as a 4-D (batch, tracks, channels, samples) view.

    Only for functions documented to take tracks: a 3-D input is (tracks, channels, samples).

    Returns:
        (x4, was_3d): the 4-D array/tensor and whether the input was 3-D.

    Raises:
        AudioError: as :func:`as_batch`, or a number of dimensions other than 3 or 4.
    """
    if getattr(x, "ndim", None) not in (3, 4):
        shape = tuple(getattr(x, "shape", ()))
        hint = " For one set of tracks pass x[None] or a (tracks, channels, samples) array." if len(shape) == 2 else ""
        raise AudioError(
            f"{name} must have shape (tracks, channels, samples) or (batch, tracks, channels, samples), got shape {shape}.{hint}"
        )
    was_3d = x.ndim == 3
    x4 = x[None] if was_3d else x
    if x4.shape[1] == 0:
        raise AudioError(f"{name} has zero tracks (shape {tuple(x.shape)}); give at least one track")
    as_batch(x4.reshape(x4.shape[0] * x4.shape[1], *x4.shape[2:]), name=name, allow_empty=allow_empty)
    return x4, was_3d
