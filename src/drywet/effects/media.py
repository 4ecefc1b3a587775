"""Degradations of recording media: vinyl (crackle, clicks, rumble, surface noise), tape (wow,
flutter, drift, hiss, high-frequency loss, saturation) and dropouts / packet loss. Black boxes
(numpy only), seeded; noise levels are dB re the clip's RMS (see dsp/noise.py).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from ..dsp.curves import variable_delay
from ..dsp.noise import add_at_snr, colored_noise, rng_for, signal_rms
from ..spec import EffectSpec, Option, Param, Strength
from .base import Effect

SEED = Option("seed", 0, "seed (integer); the augmentation pipeline draws one per call")

VINYL = EffectSpec(
    "vinyl",
    "Vinyl record: Poisson crackle (short decaying impulses, heavy-tailed amplitudes), "
    "rumble below 30 Hz and band-limited surface noise.",
    (
        Param("crackle_per_s", "1/s", 0.5, 100.0, 8.0, "log", doc="mean number of clicks per second"),
        Param("crackle_level_db", "dB", -40.0, 0.0, -12.0, doc="typical click peak re the clip's RMS"),
        Param("rumble_level_db", "dB", -70.0, -10.0, -40.0, doc="rumble RMS re the clip's RMS"),
        Param("surface_noise_db", "dB", -70.0, -20.0, -45.0, doc="surface noise RMS re the clip's RMS"),
    ),
    (SEED,),
    category="media",
    differentiable=False,
    strength=Strength("crackle_level_db", -40.0, 0.0),
)

TAPE = EffectSpec(
    "tape",
    "Analog tape: wow (slow pitch drift: a sine plus a smoothed random walk) and flutter "
    "(fast sine) as a time-varying delay, tanh saturation, high-frequency loss and hiss.",
    (
        Param("wow_depth_ms", "ms", 0.01, 3.0, 0.3, "log", doc="peak delay excursion of wow"),
        Param("wow_rate_hz", "Hz", 0.1, 4.0, 0.5, "log", doc="wow rate"),
        Param("flutter_depth_ms", "ms", 0.002, 0.3, 0.02, "log", doc="peak delay excursion of flutter"),
        Param("flutter_rate_hz", "Hz", 4.0, 30.0, 10.0, "log", doc="flutter rate"),
        Param("saturation_db", "dB", 0.0, 24.0, 3.0, doc="drive into tanh (output gain-compensated)"),
        Param("hf_cutoff_hz", "Hz", 3000.0, 20000.0, 15000.0, "log", doc="-3 dB point of the head / tape loss (2nd-order low-pass)"),
        Param("hiss_snr_db", "dB", 10.0, 80.0, 50.0, doc="signal-to-hiss ratio"),
    ),
    (SEED,),
    category="media",
    differentiable=False,
    strength=Strength("wow_depth_ms", 0.01, 3.0),
)

DROPOUTS = EffectSpec(
    "dropouts",
    "Dropouts / packet loss: silent gaps at Poisson times with 2 ms raised-cosine edges, "
    "applied as a gain curve.",
    (
        Param("rate_per_s", "1/s", 0.05, 10.0, 0.5, "log", doc="mean number of dropouts per second"),
        Param("length_ms", "ms", 5.0, 500.0, 40.0, "log", doc="length of each dropout"),
    ),
    (SEED,),
    category="media",
    differentiable=False,
    strength=Strength("rate_per_s", 0.05, 10.0),
)

CLICK_DECAY_MS = 0.15
DROPOUT_FADE_MS = 2.0


def _poisson_times(rng, rate_per_s, num_samples, sample_rate):
    count = rng.poisson(rate_per_s * num_samples / sample_rate)
    return np.sort(rng.integers(0, max(num_samples, 1), count))


def crackle(rng, channels, n, sample_rate, per_s, level):
    """Clicks: heavy-tailed amplitudes (Pareto), random polarity, exponential decay ~0.15 ms,
    high-passed at 1 kHz; shared by the channels with a small random level difference."""
    out = np.zeros((channels, n))
    times = _poisson_times(rng, per_s, n, sample_rate)
    if times.size:
        amps = level * np.minimum(rng.pareto(3.0, times.size) + 0.5, 8.0) * rng.choice([-1.0, 1.0], times.size)
        impulses = np.zeros(n)
        np.add.at(impulses, times, amps)
        decay = np.exp(-np.arange(int(sample_rate * CLICK_DECAY_MS * 8e-3) + 1) / (sample_rate * CLICK_DECAY_MS * 1e-3))
        clicks = signal.lfilter(decay, [1.0], impulses)
        clicks = signal.sosfilt(signal.butter(2, min(1000.0, 0.4 * sample_rate), "highpass", fs=sample_rate, output="sos"), clicks)
        out[:] = clicks * rng.uniform(0.7, 1.0, (channels, 1))
    return out


def vinyl_numpy(x, *, sample_rate, crackle_per_s, crackle_level_db, rumble_level_db, surface_noise_db, seed):
    channels, n = x.shape[1], x.shape[-1]
    rms = signal_rms(x)
    clicks = crackle(rng_for(seed, 1), channels, n, sample_rate, crackle_per_s, 10 ** (crackle_level_db / 20))
    rumble = colored_noise(rng_for(seed, 2), (channels, n), sample_rate, "brown")
    rumble = signal.sosfilt(signal.butter(2, min(30.0, 0.4 * sample_rate), "lowpass", fs=sample_rate, output="sos"), rumble)
    rumble /= np.maximum(np.sqrt(np.mean(rumble**2, axis=-1, keepdims=True)), 1e-12)
    surface = colored_noise(rng_for(seed, 3), (channels, n), sample_rate, "pink")
    band = signal.butter(2, [min(300.0, 0.2 * sample_rate), min(8000.0, 0.45 * sample_rate)], "bandpass", fs=sample_rate, output="sos")
    surface = signal.sosfilt(band, surface)
    surface /= np.maximum(np.sqrt(np.mean(surface**2, axis=-1, keepdims=True)), 1e-12)
    noise = clicks + 10 ** (rumble_level_db / 20) * rumble + 10 ** (surface_noise_db / 20) * surface
    return x + rms * noise[None]


def wow_flutter_delay(rng, n, sample_rate, wow_depth_ms, wow_rate_hz, flutter_depth_ms, flutter_rate_hz):
    """Zero-mean delay curve in samples: wow sine (0.7) + drift (0.3, a smooth random curve
    through knots spaced at the wow period, cubic spline) + flutter sine."""
    from scipy.interpolate import CubicSpline

    t = np.arange(n) / sample_rate
    wow = 0.7 * np.sin(2 * np.pi * wow_rate_hz * t + rng.uniform(0, 2 * np.pi))
    knots = np.arange(0.0, n / sample_rate + 2.0 / wow_rate_hz, 1.0 / wow_rate_hz)
    drift = 0.3 * CubicSpline(knots, rng.uniform(-1.0, 1.0, knots.size))(t)
    flutter = np.sin(2 * np.pi * flutter_rate_hz * t + rng.uniform(0, 2 * np.pi))
    ms = wow_depth_ms * (wow + drift) + flutter_depth_ms * flutter
    return ms * sample_rate / 1000.0


def tape_numpy(x, *, sample_rate, wow_depth_ms, wow_rate_hz, flutter_depth_ms, flutter_rate_hz, saturation_db, hf_cutoff_hz, hiss_snr_db, seed):
    n = x.shape[-1]
    delay = wow_flutter_delay(rng_for(seed, 1), n, sample_rate, wow_depth_ms, wow_rate_hz, flutter_depth_ms, flutter_rate_hz)
    y = variable_delay(x.astype(np.float64), delay, edge="hold")
    drive = 10 ** (saturation_db / 20)
    y = np.tanh(drive * y) / drive
    if hf_cutoff_hz < 0.45 * sample_rate:
        y = signal.sosfilt(signal.butter(2, hf_cutoff_hz, "lowpass", fs=sample_rate, output="sos"), y, axis=-1)
    hiss = colored_noise(rng_for(seed, 2), x.shape[1:], sample_rate, "white")
    return add_at_snr(y, hiss[None], hiss_snr_db)


def dropout_gain(rng, n, sample_rate, rate_per_s, length_ms):
    """Gain curve (n,) in [0, 1]: 0 inside each dropout, raised-cosine edges."""
    gain = np.ones(n)
    length = max(int(round(length_ms * sample_rate / 1000)), 1)
    fade = max(int(round(DROPOUT_FADE_MS * sample_rate / 1000)), 1)
    ramp = 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, fade))  # 1 -> 0
    for start in _poisson_times(rng, rate_per_s, n, sample_rate):
        env = np.concatenate([ramp, np.zeros(length), ramp[::-1]])
        seg = slice(max(start - fade, 0), min(start - fade + env.size, n))
        offset = seg.start - (start - fade)
        gain[seg] = np.minimum(gain[seg], env[offset : offset + seg.stop - seg.start])
    return gain


def dropouts_numpy(x, *, sample_rate, rate_per_s, length_ms, seed):
    return x * dropout_gain(rng_for(seed), x.shape[-1], sample_rate, rate_per_s, length_ms)


EFFECTS = (
    Effect(VINYL, vinyl_numpy, None, aliases=("vinyl_crackle",)),
    Effect(TAPE, tape_numpy, None, aliases=("wow_flutter",)),
    Effect(DROPOUTS, dropouts_numpy, None, aliases=("packet_loss",)),
)
