"""Line up a dry recording with its processed (wet) version: the wet's latency is the peak
of the phase-transform cross-correlation (GCC-PHAT) of the two channel sums, searched within
+-MAX_LAG_S (plugin, interface and codec latencies stay far below it)."""

from __future__ import annotations

import numpy as np

MAX_LAG_S = 0.05
ANALYSIS_S = 30.0  # the lag is read on the loudest stretch this long: long files stay cheap


def find_lag(dry: np.ndarray, wet: np.ndarray, sample_rate: int, max_lag_s: float = MAX_LAG_S) -> int:
    """Samples by which ``wet`` lags ``dry`` (negative: it leads); (samples,) or (channels, samples).

    Generalized cross-correlation with phase transform (Knapp & Carter, IEEE TASSP 1976): the
    cross-spectrum is whitened, so an EQ that boosts the bass cannot drag the peak towards its
    own group delay, and |correlation| is used, so a polarity flip does not hide it."""
    a = np.atleast_2d(np.asarray(dry, np.float64)).sum(0)
    b = np.atleast_2d(np.asarray(wet, np.float64)).sum(0)
    span = int(ANALYSIS_S * sample_rate)
    if min(a.size, b.size) > span:  # the same stretch of both (the lag is far shorter than it)
        start = _loudest_start(a[: b.size], span, hop=max(span // 3, 1))
        a, b = a[start : start + span], b[start : start + span]
    size = 1 << int(np.ceil(np.log2(a.size + b.size)))
    cross = np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size))
    corr = np.fft.irfft(cross / (np.abs(cross) + 1e-12 * np.abs(cross).max() + 1e-30), size)
    reach = min(int(max_lag_s * sample_rate), size // 2 - 1)
    lags = np.arange(-reach, reach + 1)
    return int(lags[np.argmax(np.abs(corr[lags]))])  # negative lags index from the end


def _loudest_start(x: np.ndarray, span: int, hop: int) -> int:
    starts = np.arange(0, x.size - span + 1, hop)
    energy = np.concatenate([[0.0], np.cumsum(x * x)])
    return int(starts[np.argmax(energy[starts + span] - energy[starts])])


def align_to_wet(dry: np.ndarray, wet: np.ndarray, sample_rate: int, max_lag_s: float = MAX_LAG_S) -> tuple[np.ndarray, int]:
    """The dry put on the wet's timeline, the wet left as it is: delayed by the wet's latency
    (or its start cut when the wet leads), then cut or zero-padded to the wet's length (a
    longer wet holds a tail the chain produces from silence; a shorter one was cut, and causal
    effects give the same start either way). Arrays are (channels, samples).

    Returns:
        (dry, lag): the dry, of the wet's length, and the latency found (samples).
    """
    lag = find_lag(dry, wet, sample_rate, max_lag_s)
    n = wet.shape[-1]
    if lag >= 0:
        shifted = np.concatenate([np.zeros(dry.shape[:-1] + (lag,), dry.dtype), dry], axis=-1)
    else:
        shifted = dry[..., -lag:]
    shifted = shifted[..., :n]
    return np.pad(shifted, [(0, 0)] * (dry.ndim - 1) + [(0, n - shifted.shape[-1])]), lag
