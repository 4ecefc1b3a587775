"""Reverbs: convolution with a measured impulse response, and a parametric filtered-noise
reverb (band-limited noises with per-band gain and exponential decay, as in Steinmetz et al.,
"Style transfer of audio effects with differentiable signal processing", JAES 2022).

Output length policy (option ``length``): ``"same"`` (default) keeps the input length and
cuts the tail, so a reverb can sit in a chain; ``"full"`` returns input + IR - 1 samples.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..dsp import convolve as conv
from ..dsp.curves import dry_wet
from ..dsp.deconvolve import energy_decay_db, lti_inverse
from ..errors import AudioError, ParameterError
from ..spec import EffectSpec, Option, Param, Strength
from .base import Effect, Plot, keyword_signature

LENGTH = Option("length", "same", "'same' keeps the input length, 'full' adds the reverb tail", ("same", "full"))

# ---------------------------------------------------------------------------------
# Convolution reverb
# ---------------------------------------------------------------------------------
CONVOLUTION = EffectSpec(
    "convolution_reverb",
    "FFT convolution with a user impulse response (mono or stereo), wet/dry mix and pre-delay.",
    (
        Param("mix", "", 0.0, 1.0, 1.0, doc="0 dry only, 1 wet only", curve=True),
        Param("pre_delay_ms", "ms", 0.0, 200.0, 0.0, doc="delay added before the impulse response"),
    ),
    (
        Option("impulse_response", None, "IR as an array (samples,) / (channels, samples) or a file path"),
        Option("ir_sample_rate", None, "sample rate of an array IR if it differs (resampled with soxr)"),
        Option("normalize_ir", "none", "'none', 'peak' (max |h| = 1) or 'energy' (sum h^2 = 1)", ("none", "peak", "energy")),
        LENGTH,
    ),
    category="reverb",
)


def load_impulse_response(impulse_response: Any, ir_sample_rate: Any, sample_rate: int, normalize_ir: str) -> np.ndarray:
    """Return the IR as float64 (channels, samples) at ``sample_rate``."""
    from .. import io

    if impulse_response is None:
        raise ParameterError(
            "convolution_reverb needs impulse_response=<array or path to a wav/flac file>; "
            "drywet.io.bundled_impulse_response_path() gives a measured room"
        )
    if isinstance(impulse_response, (str, bytes)) or hasattr(impulse_response, "__fspath__"):
        path = Path(os.fsdecode(impulse_response))
        if not path.is_file():
            raise AudioError(f"impulse response file not found: {path}")
        return _ir_from_file(str(path.resolve()), path.stat().st_mtime_ns, sample_rate, normalize_ir)
    else:
        ir = np.asarray(impulse_response.detach().cpu() if hasattr(impulse_response, "detach") else impulse_response)
        ir_sr = ir_sample_rate or sample_rate
        if ir.ndim == 1:
            ir = ir[None]
        if ir.ndim != 2 or ir.shape[-1] == 0:
            raise AudioError(f"impulse_response must have shape (samples,) or (channels, samples), got {ir.shape}")
    ir = ir.astype(np.float64)
    if not np.isfinite(ir).all():
        raise AudioError("impulse_response contains NaN or Inf")
    if int(ir_sr) != sample_rate:
        ir = io.resample(ir, int(ir_sr), sample_rate)
    if normalize_ir == "peak":
        ir = ir / max(np.abs(ir).max(), 1e-12)
    elif normalize_ir == "energy":
        ir = ir / max(np.sqrt((ir**2).sum(axis=-1).max()), 1e-12)
    return ir


@functools.lru_cache(maxsize=64)
def _ir_from_file(path: str, mtime_ns: int, sample_rate: int, normalize_ir: str) -> np.ndarray:
    """Read, resample and normalize an IR file once per (file version, rate): augmentation
    jobs draw from the same few IRs thousands of times. Returned read-only."""
    from .. import io

    ir, ir_sr = io.read_audio(path)
    out = load_impulse_response(ir, ir_sr, sample_rate, normalize_ir)
    out.setflags(write=False)
    return out


def _match_channels(x_channels: int, ir_channels: int) -> None:
    if ir_channels not in (1, x_channels) and not (x_channels == 1 and ir_channels == 2):
        raise AudioError(
            f"an impulse response with {ir_channels} channels cannot process {x_channels}-channel audio; "
            "use a mono IR, one IR channel per audio channel, or a stereo IR on mono audio"
        )


def _out_len(length_option: str, x_len: int, ir_len: int) -> int:
    return x_len if length_option == "same" else x_len + ir_len - 1


def convolution_numpy(x, *, sample_rate, mix, pre_delay_ms, impulse_response, ir_sample_rate, normalize_ir, length):
    ir = load_impulse_response(impulse_response, ir_sample_rate, sample_rate, normalize_ir)
    _match_channels(x.shape[1], ir.shape[0])
    ir = conv.fractional_shift_numpy(ir, pre_delay_ms * sample_rate / 1000.0)
    n = _out_len(length, x.shape[-1], ir.shape[-1])
    wet = conv.convolve_numpy(x, ir, n)
    return dry_wet(x, wet, mix)


def convolution_torch(x, *, sample_rate, mix, pre_delay_ms, impulse_response, ir_sample_rate, normalize_ir, length):
    import torch
    import torch.nn.functional as F

    if isinstance(impulse_response, torch.Tensor) and impulse_response.requires_grad:
        ir = impulse_response.to(x.dtype)
        ir = ir[None] if ir.ndim == 1 else ir
    else:
        ir = torch.as_tensor(load_impulse_response(impulse_response, ir_sample_rate, sample_rate, normalize_ir), dtype=x.dtype)
    _match_channels(x.shape[1], ir.shape[0])
    ir = conv.fractional_shift_torch(ir[None].expand(x.shape[0], -1, -1), pre_delay_ms * (sample_rate / 1000.0))
    ir_len = ir.shape[-1]
    n = _out_len(length, x.shape[-1], ir_len)
    wet = conv.convolve_torch(x, ir, n)
    dry = F.pad(x, (0, n - x.shape[-1]))
    m = mix[:, None, None]
    return (1.0 - m) * dry + m * wet


# ---------------------------------------------------------------------------------
# Filtered-noise reverb
# ---------------------------------------------------------------------------------
NOISE_BAND_EDGES_HZ = (88.0, 177.0, 354.0, 707.0, 1414.0, 2828.0, 5657.0)  # octave bands around 63 Hz..8 kHz
NUM_NOISE_BANDS = len(NOISE_BAND_EDGES_HZ) + 1
_RT60_DECAY = math.log(1000.0)  # amplitude falls by 60 dB: exp(-ln(1000) t / rt60)


def _noise_params():
    out = []
    for i in range(NUM_NOISE_BANDS):
        out.append(Param(f"band{i}_gain_db", "dB", -40.0, 0.0, 0.0, doc=f"level of noise band {i}"))
    for i in range(NUM_NOISE_BANDS):
        out.append(Param(f"band{i}_decay_s", "s", 0.1, 4.0, 1.0, "log", doc=f"RT60 of noise band {i}"))
    out.append(Param("mix", "", 0.0, 1.0, 0.3, doc="0 dry only, 1 wet only", curve=True))
    return tuple(out)


NOISE_REVERB = EffectSpec(
    "noise_reverb",
    f"Parametric reverb: {NUM_NOISE_BANDS} octave bands of seeded noise, each with a gain and an RT60; "
    "the impulse response is scaled to unit energy.",
    _noise_params(),
    (
        Option("seed", 0, "seed of the noise (the same seed gives the same room)"),
        Option("ir_length_s", 3.0, "length of the synthesized impulse response in seconds"),
        LENGTH,
    ),
    category="reverb",
    strength=Strength("mix", 0.0, 1.0),
)


@functools.lru_cache(maxsize=16)
def band_noises(seed: int, channels: int, ir_len: int, sample_rate: int) -> np.ndarray:
    """Seeded white noise split into complementary bands: (channels, bands, ir_len), float64.

    The split uses brick-wall masks on the rfft bins, so the bands sum back to the noise.
    Channel c uses the generator seeded with (seed, c), so stereo reverbs are decorrelated.
    """
    freqs = np.fft.rfftfreq(ir_len, 1.0 / sample_rate)
    band_of_bin = np.searchsorted(np.asarray(NOISE_BAND_EDGES_HZ), freqs)
    out = np.empty((channels, NUM_NOISE_BANDS, ir_len))
    for c in range(channels):
        spectrum = np.fft.rfft(np.random.default_rng([seed, c]).standard_normal(ir_len))
        for band in range(NUM_NOISE_BANDS):
            out[c, band] = np.fft.irfft(np.where(band_of_bin == band, spectrum, 0.0), n=ir_len)
    out.setflags(write=False)
    return out


def _check_noise_options(seed, ir_length_s, sample_rate):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"noise_reverb.seed must be a non-negative int, got {seed!r}")
    if not (isinstance(ir_length_s, (int, float)) and 0.01 <= ir_length_s <= 30.0):
        raise ParameterError(f"noise_reverb.ir_length_s must be in [0.01, 30] s, got {ir_length_s!r}")
    return int(round(ir_length_s * sample_rate))


def noise_ir_numpy(params: dict, channels: int, sample_rate: int, seed: int, ir_len: int) -> np.ndarray:
    """The synthesized impulse response (channels, ir_len) for one parameter set."""
    noise = band_noises(seed, channels, ir_len, sample_rate)
    t = np.arange(ir_len) / sample_rate
    ir = np.zeros((channels, ir_len))
    for i in range(NUM_NOISE_BANDS):
        env = 10.0 ** (params[f"band{i}_gain_db"] / 20.0) * np.exp(-_RT60_DECAY * t / params[f"band{i}_decay_s"])
        ir += env * noise[:, i]
    return ir / np.sqrt((ir**2).sum(axis=-1, keepdims=True)).clip(1e-12)


def _noise_numpy(x, *, sample_rate, seed, ir_length_s, length, **params):
    ir_len = _check_noise_options(seed, ir_length_s, sample_rate)
    mix = params.pop("mix")
    ir = noise_ir_numpy(params, x.shape[1], sample_rate, seed, ir_len)
    n = _out_len(length, x.shape[-1], ir_len)
    wet = conv.convolve_numpy(x, ir, n)
    return dry_wet(x, wet, mix)


def _noise_torch(x, *, sample_rate, seed, ir_length_s, length, **params):
    import torch
    import torch.nn.functional as F

    ir_len = _check_noise_options(seed, ir_length_s, sample_rate)
    noise = torch.tensor(band_noises(seed, x.shape[1], ir_len, sample_rate), dtype=x.dtype, device=x.device)
    t = torch.arange(ir_len, dtype=x.dtype, device=x.device) / sample_rate
    gains = torch.stack([params[f"band{i}_gain_db"] for i in range(NUM_NOISE_BANDS)], -1)  # (B, N)
    decays = torch.stack([params[f"band{i}_decay_s"] for i in range(NUM_NOISE_BANDS)], -1)
    env = 10.0 ** (gains[..., None] / 20.0) * torch.exp(-_RT60_DECAY * t / decays[..., None])  # (B, N, L)
    ir = torch.einsum("bnl,cnl->bcl", env, noise)
    ir = ir / ir.square().sum(-1, keepdim=True).sqrt().clamp(min=1e-12)
    n = _out_len(length, x.shape[-1], ir_len)
    wet = conv.convolve_torch(x, ir, n)
    m = params["mix"][:, None, None]
    return (1.0 - m) * F.pad(x, (0, n - x.shape[-1])) + m * wet


def _kernel(fn, spec):
    return keyword_signature(fn, spec.param_names, spec.option_names)


def _reverb_length(p, o, sr):
    """Seconds of the impulse response: the loaded file's, or the synthesized one's."""
    if o.get("impulse_response") is not None:
        ir = load_impulse_response(o["impulse_response"], o.get("ir_sample_rate"), sr, o.get("normalize_ir", "none"))
        return ir.shape[-1] / sr + p.get("pre_delay_ms", 0.0) / 1000.0
    return o["ir_length_s"]


def _decay_plot(numpy_kernel):
    """Report panel: the energy decay of the wet impulse response (Schroeder integration)."""

    def plots(p, o, sr):
        length = int(_reverb_length(p, o, sr) * sr) + 1
        impulse = np.zeros((1, 1, length))
        impulse[..., 0] = 1.0
        h = numpy_kernel(impulse, sample_rate=sr, **{**p, "mix": 1.0}, **{**o, "length": "same"})[0]
        t = np.arange(h.shape[-1]) / sr
        return [Plot("energy decay", "time (s)", "energy (dB)", t, (("", energy_decay_db(h)[0]),))]

    return plots


_NOISE_NUMPY = _kernel(_noise_numpy, NOISE_REVERB)

EFFECTS = (
    Effect(CONVOLUTION, convolution_numpy, convolution_torch, aliases=("convolution", "ir_reverb"),
           inverse=lti_inverse(_reverb_length), report_plots=_decay_plot(convolution_numpy)),
    Effect(NOISE_REVERB, _NOISE_NUMPY, _kernel(_noise_torch, NOISE_REVERB), aliases=("reverb",),
           inverse=lti_inverse(_reverb_length), report_plots=_decay_plot(_NOISE_NUMPY)),
)
