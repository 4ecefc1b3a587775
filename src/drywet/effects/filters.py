"""Single RBJ biquad filters and the two equalizers built from them.

Numpy runs the exact IIR (scipy's ``sosfilt``). Every frequency, Q and gain also accepts a
parameter curve on the numpy path (filter sweeps, automated EQ); the filters then run as
trapezoidal state-variable filters (:mod:`drywet.dsp.svf`), which have the same response for
constant parameters and stay smooth and stable when the parameters move every sample. The torch twin runs either the exact
recursive IIR (``mode="iir"``, torchlpc kernel, gradients through the recursion) or an FIR
(``mode="fir"``, the impulse response cut where it has decayed by 100 dB, one FFT
convolution, fast for training). The difference between the two modes is the dropped tail;
tests measure it below -80 dB on the spec's ranges (tests/test_filters.py::test_fir_mode_error).
"""

from __future__ import annotations

import math

import numpy as np

from ..dsp import biquad
from ..dsp.deconvolve import inverse_gains
from ..dsp.svf import svf_filter
from ..spec import EffectSpec, Option, Param
from .base import Effect, keyword_signature

MODE = Option("mode", "iir", "torch twin only: 'iir' exact recursion, 'fir' truncated impulse response (faster)", ("iir", "fir"))


def _filter_numpy(sos, x):
    return biquad.sosfilt_numpy(sos, x)


def _varies(*values) -> bool:
    """True when a parameter is a curve (one value per sample) rather than a number."""
    return any(np.ndim(v) > 0 for v in values)


def _svf_cascade(x, bands, sample_rate):
    """``bands``: (kind, freq_hz, q, gain_db) filters applied in series, parameters per sample."""
    y = x
    for kind, freq_hz, q, gain_db in bands:
        y = svf_filter(y, kind, freq_hz, q, gain_db, sample_rate)
    return y


def _filter_torch(sos, x, mode):
    if mode == "fir":
        return biquad.sosfilt_fsm_torch(sos, x)
    return biquad.sosfilt_torch(sos, x)


# -- single biquads ---------------------------------------------------------------
def _freq_param(default=1000.0):
    return Param("freq_hz", "Hz", 20.0, 20000.0, default, "log", "cutoff or center frequency", curve=True)


_Q = Param("q", "", 0.1, 10.0, 1.0 / math.sqrt(2.0), "log", "quality factor", curve=True)
_GAIN = Param("gain_db", "dB", -24.0, 24.0, 0.0, doc="gain at the center / shelf plateau", curve=True)

_BIQUAD_DOCS = {
    "lowpass": "RBJ 2nd-order low-pass.",
    "highpass": "RBJ 2nd-order high-pass.",
    "bandpass": "RBJ band-pass (0 dB peak).",
    "notch": "RBJ notch.",
    "peak": "RBJ peaking EQ.",
    "lowshelf": "RBJ low shelf.",
    "highshelf": "RBJ high shelf.",
}


def _make_biquad(kind: str) -> Effect:
    with_gain = kind in ("peak", "lowshelf", "highshelf")
    params = (_freq_param(), _Q) + ((_GAIN,) if with_gain else ())
    spec = EffectSpec(kind, _BIQUAD_DOCS[kind], params, (MODE,), category="filter")

    if with_gain:

        def numpy_kernel(x, *, sample_rate, freq_hz, q, gain_db, mode):
            if _varies(freq_hz, q, gain_db):
                return svf_filter(x, kind, freq_hz, q, gain_db, sample_rate)
            sos = biquad.design(kind, np.float64(freq_hz), q, gain_db, sample_rate)[None]
            return _filter_numpy(sos, x)

        def torch_kernel(x, *, sample_rate, freq_hz, q, gain_db, mode):
            import torch

            if _varies_torch(freq_hz, q, gain_db):
                freq_hz, q, gain_db = _per_sample(freq_hz, q, gain_db)
                return biquad.sosfilt_varying_torch(biquad.design(kind, freq_hz, q, gain_db, sample_rate, torch), x)
            sos = biquad.design(kind, freq_hz, q, gain_db, sample_rate, torch)[:, None]
            return _filter_torch(sos, x, mode)

    else:

        def numpy_kernel(x, *, sample_rate, freq_hz, q, mode):
            if _varies(freq_hz, q):
                return svf_filter(x, kind, freq_hz, q, 0.0, sample_rate)
            sos = biquad.design(kind, np.float64(freq_hz), q, 0.0, sample_rate)[None]
            return _filter_numpy(sos, x)

        def torch_kernel(x, *, sample_rate, freq_hz, q, mode):
            import torch

            if _varies_torch(freq_hz, q):
                freq_hz, q = _per_sample(freq_hz, q)
                return biquad.sosfilt_varying_torch(biquad.design(kind, freq_hz, q, 0.0, sample_rate, torch), x)
            sos = biquad.design(kind, freq_hz, q, 0.0, sample_rate, torch)[:, None]
            return _filter_torch(sos, x, mode)

    def sos_of(p, sample_rate):
        return biquad.design(kind, p["freq_hz"], p["q"], p.get("gain_db", 0.0), sample_rate)[None]

    return Effect(spec, numpy_kernel, torch_kernel, torch_curves=params_names(params), frequency_response=_response(sos_of),
                  inverse=_negated_gains_inverse(numpy_kernel, kind) if with_gain else None)


def _response(sos_of):
    """The frequency_response hook of a filter whose sections ``sos_of(params, sample_rate)`` gives."""

    def response(params, freqs_hz, sample_rate):
        return biquad.sos_response_numpy(sos_of({k: np.float64(v) for k, v in params.items()}, sample_rate), freqs_hz, sample_rate)

    return response


def _negated_gains_inverse(numpy_kernel, where):
    """The inverse of an EQ: the same EQ with every gain negated (boosts bounded, with a note)."""

    def inverse(y, sample_rate, p, o, context):
        params, notes = inverse_gains(p, where=where)
        return numpy_kernel(y, sample_rate=sample_rate, **params, **o), notes

    return inverse


def params_names(params) -> tuple[str, ...]:
    return tuple(p.name for p in params)


def _varies_torch(*values) -> bool:
    """True when a torch parameter is a curve (B, T) rather than one value per item (B,)."""
    return any(v.ndim == 2 for v in values)


def _per_sample(*values):
    """Every parameter as (B, T): curves as they are, constants held over the signal."""
    length = max(v.shape[-1] for v in values if v.ndim == 2)
    return [v if v.ndim == 2 else v[:, None].expand(-1, length) for v in values]


# -- 5-band parametric EQ -----------------------------------------------------------
# (band, biquad type, freq range, default freq), ranges from the blind-estimation paper.
PEQ_BANDS = (
    ("low_shelf", "lowshelf", 30.0, 160.0, 80.0),
    ("peak1", "peak", 100.0, 2000.0, 500.0),
    ("peak2", "peak", 500.0, 6000.0, 1500.0),
    ("peak3", "peak", 2000.0, 16000.0, 5000.0),
    ("high_shelf", "highshelf", 5000.0, 20000.0, 10000.0),
)


def _peq_params():
    out = []
    for band, _, fmin, fmax, fdef in PEQ_BANDS:
        out += [
            Param(f"{band}_gain_db", "dB", -15.0, 15.0, 0.0, doc=f"{band} gain", curve=True),
            Param(f"{band}_freq_hz", "Hz", fmin, fmax, fdef, "log", f"{band} frequency", curve=True),
            Param(f"{band}_q", "", 0.1, 2.0, 1.0 / math.sqrt(2.0), "log", f"{band} quality factor", curve=True),
        ]
    return tuple(out)


PARAMETRIC_EQ = EffectSpec(
    "parametric_eq",
    "5-band parametric EQ: low shelf, three peaks, high shelf (RBJ biquads in series).",
    _peq_params(),
    (MODE,),
    category="eq",
)


def peq_sos(params: dict, sample_rate: int, xp=np):
    """Sections (..., 5, 6) of the parametric EQ from a dict of physical values."""
    sections = [
        biquad.design(kind, params[f"{band}_freq_hz"], params[f"{band}_q"], params[f"{band}_gain_db"], sample_rate, xp)
        for band, kind, *_ in PEQ_BANDS
    ]
    return xp.stack(sections, -2)


def _peq_numpy(x, *, sample_rate, mode, **params):
    if _varies(*params.values()):
        bands = [(kind, *(params[f"{band}_{p}"] for p in ("freq_hz", "q", "gain_db"))) for band, kind, *_ in PEQ_BANDS]
        return _svf_cascade(x, bands, sample_rate)
    return _filter_numpy(peq_sos({k: np.float64(v) for k, v in params.items()}, sample_rate), x)


def _peq_torch(x, *, sample_rate, mode, **params):
    import torch

    return _filter_torch(peq_sos(params, sample_rate, torch), x, mode)


# -- 10-band graphic EQ -------------------------------------------------------------
GEQ_CENTERS_HZ = tuple(31.25 * 2.0**k for k in range(10))
GEQ_BANDWIDTH_OCTAVES = 2.0
# RBJ: 1/Q = 2 sinh(ln(2)/2 * BW) for a bandwidth of BW octaves.
GEQ_Q = 1.0 / (2.0 * math.sinh(math.log(2.0) / 2.0 * GEQ_BANDWIDTH_OCTAVES))

GRAPHIC_EQ = EffectSpec(
    "graphic_eq",
    "10-band graphic EQ: octave-spaced peaking bands 31.25 Hz..16 kHz, each 2 octaves wide.",
    tuple(
        Param(f"band{i}_gain_db", "dB", -15.0, 15.0, 0.0, doc=f"gain at {f:g} Hz", curve=True)
        for i, f in enumerate(GEQ_CENTERS_HZ)
    ),
    (MODE,),
    category="eq",
)


def geq_sos(params: dict, sample_rate: int, xp=np):
    sections = [
        biquad.design("peak", f * xp.ones_like(params[f"band{i}_gain_db"]), GEQ_Q, params[f"band{i}_gain_db"], sample_rate, xp)
        for i, f in enumerate(GEQ_CENTERS_HZ)
    ]
    return xp.stack(sections, -2)


def _geq_numpy(x, *, sample_rate, mode, **params):
    if _varies(*params.values()):
        bands = [("peak", f, GEQ_Q, params[f"band{i}_gain_db"]) for i, f in enumerate(GEQ_CENTERS_HZ)]
        return _svf_cascade(x, bands, sample_rate)
    return _filter_numpy(geq_sos({k: np.float64(v) for k, v in params.items()}, sample_rate), x)


def _geq_torch(x, *, sample_rate, mode, **params):
    import torch

    return _filter_torch(geq_sos(params, sample_rate, torch), x, mode)


EFFECTS = tuple(_make_biquad(kind) for kind in biquad.BIQUAD_TYPES) + (
    Effect(
        PARAMETRIC_EQ,
        keyword_signature(_peq_numpy, PARAMETRIC_EQ.param_names),
        keyword_signature(_peq_torch, PARAMETRIC_EQ.param_names),
        aliases=("eq", "peq"),
        frequency_response=_response(peq_sos),
        inverse=_negated_gains_inverse(_peq_numpy, "parametric_eq"),
    ),
    Effect(
        GRAPHIC_EQ,
        keyword_signature(_geq_numpy, GRAPHIC_EQ.param_names),
        keyword_signature(_geq_torch, GRAPHIC_EQ.param_names),
        aliases=("geq",),
        frequency_response=_response(geq_sos),
        inverse=_negated_gains_inverse(_geq_numpy, "graphic_eq"),
    ),
)
