"""Metrics and losses: waveform, spectral and loudness measures.

``compute_all`` returns the table printed by ``drywet metrics``.
"""

from __future__ import annotations

import numpy as np

from . import loudness
from .losses import (
    crest_factor_error_db,
    esr,
    logmel_l1,
    mae,
    mcd,
    mrstft,
    rms_error_db,
    si_sdr,
    spectral_centroid_error,
    stereo_mrstft,
)
from .loudness import (
    integrated_loudness,
    loudness_range,
    momentary_loudness,
    short_term_loudness,
)

# name -> (function, needs sample_rate, unit, "lower" or "higher" is better)
METRICS = {
    "mae": (mae, False, "", "lower"),
    "esr": (esr, False, "", "lower"),
    "si_sdr_db": (si_sdr, False, "dB", "higher"),
    "logmel_l1": (logmel_l1, True, "", "lower"),
    "mrstft": (mrstft, False, "", "lower"),
    "stereo_mrstft": (stereo_mrstft, False, "", "lower"),
    "mcd_db": (mcd, True, "dB", "lower"),
    "spectral_centroid_error_hz": (spectral_centroid_error, True, "Hz", "lower"),
    "rms_error_db": (rms_error_db, False, "dB", "lower"),
    "crest_factor_error_db": (crest_factor_error_db, False, "dB", "lower"),
}


def compute_all(reference: np.ndarray, estimate: np.ndarray, *, sample_rate: int) -> dict[str, float]:
    """Every metric for one (channels, samples) pair, plus both integrated loudnesses."""
    import torch

    # float32 halves the cost of the spectral metrics; their values agree with float64 to 1e-5.
    ref = torch.as_tensor(np.asarray(reference, dtype=np.float32))
    est = torch.as_tensor(np.asarray(estimate, dtype=np.float32))
    out = {}
    for name, (fn, needs_sr, _, _) in METRICS.items():
        if name == "stereo_mrstft" and ref.shape[0] != 2:
            continue
        out[name] = float(fn(ref, est, sample_rate=sample_rate) if needs_sr else fn(ref, est))
    out["loudness_reference_lufs"] = integrated_loudness(np.asarray(reference), sample_rate=sample_rate)
    out["loudness_estimate_lufs"] = integrated_loudness(np.asarray(estimate), sample_rate=sample_rate)
    return out


__all__ = [
    "METRICS",
    "compute_all",
    "crest_factor_error_db",
    "esr",
    "integrated_loudness",
    "logmel_l1",
    "loudness",
    "loudness_range",
    "mae",
    "mcd",
    "momentary_loudness",
    "mrstft",
    "rms_error_db",
    "short_term_loudness",
    "si_sdr",
    "spectral_centroid_error",
    "stereo_mrstft",
]
