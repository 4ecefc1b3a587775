"""Microphone and room coloration: named EQ curves of typical capture devices, and convolution
with a real impulse response drawn from a folder. Black boxes (numpy only).

The microphone presets are sketches of published frequency-response shapes (presence peak
of a dynamic vocal microphone, the narrow band of a phone handset, the thin low end of a
laptop microphone), not measurements of a given product. ``amount`` scales every band's dB
gain, so 0 is an exact identity and 1 the full curve.
"""

from __future__ import annotations

import numpy as np

from ..dsp.biquad import design, sosfilt_numpy
from ..dsp.noise import rng_for
from ..spec import EffectSpec, Option, Param, Strength
from .base import Effect
from .noise import list_audio_files
from .reverb import convolution_numpy

# name -> bands (kind, frequency Hz, gain dB, Q); high- and low-cuts are deep shelves so that
# amount scales them too
MIC_PRESETS: dict[str, tuple[tuple[str, float, float, float], ...]] = {
    "telephone_handset": (("lowshelf", 250.0, -30.0, 0.7), ("peak", 1500.0, 5.0, 1.0), ("highshelf", 3600.0, -30.0, 0.7)),
    "smartphone": (("lowshelf", 150.0, -18.0, 0.7), ("peak", 3000.0, 4.0, 1.0), ("highshelf", 9000.0, -8.0, 0.7)),
    "laptop": (("lowshelf", 300.0, -20.0, 0.7), ("peak", 4000.0, 6.0, 1.2), ("peak", 900.0, -3.0, 1.0), ("highshelf", 10000.0, -12.0, 0.7)),
    "dynamic_vocal": (("lowshelf", 120.0, -6.0, 0.7), ("peak", 5000.0, 5.0, 1.0), ("highshelf", 12000.0, -8.0, 0.7)),
    "condenser": (("lowshelf", 40.0, -3.0, 0.7), ("highshelf", 10000.0, 2.5, 0.7)),
    "lavalier": (("peak", 700.0, 3.0, 0.8), ("peak", 3500.0, -4.0, 1.0), ("highshelf", 7000.0, 4.0, 0.7)),
    "ribbon": (("lowshelf", 150.0, 2.0, 0.7), ("highshelf", 6000.0, -9.0, 0.7)),
}

MIC_COLORATION = EffectSpec(
    "mic_coloration",
    "Microphone coloration from a named EQ curve: " + ", ".join(MIC_PRESETS) + ".",
    (Param("amount", "", 0.0, 1.0, 1.0, doc="scale of every band's dB gain (0 identity)"),),
    (Option("preset", "smartphone", "microphone curve", tuple(MIC_PRESETS)),),
    category="coloration",
    differentiable=False,
    strength=Strength("amount", 0.0, 1.0),
)

ROOM_IR = EffectSpec(
    "room_ir",
    "Convolution with a real impulse response drawn (by seed) from a folder; energy-normalized.",
    (Param("mix", "", 0.0, 1.0, 1.0, doc="0 dry only, 1 wet only", curve=True),),
    (
        Option("ir_dir", None, "folder of impulse responses (wav, flac, ...), searched recursively"),
        Option("seed", 0, "seed that picks the impulse response"),
    ),
    category="coloration",
    differentiable=False,
    strength=Strength("mix", 0.0, 1.0),
)


def mic_sos(preset: str, amount: float, sample_rate: int) -> np.ndarray:
    return np.stack([design(kind, f, q, amount * g, sample_rate) for kind, f, g, q in MIC_PRESETS[preset]])


def mic_coloration_numpy(x, *, sample_rate, amount, preset):
    if amount == 0.0:
        return x.copy()
    return sosfilt_numpy(mic_sos(preset, amount, sample_rate), x)


def room_ir_numpy(x, *, sample_rate, mix, ir_dir, seed):
    files = list_audio_files(ir_dir, "ir_dir")
    path = files[rng_for(seed).integers(len(files))]
    return convolution_numpy(
        x, sample_rate=sample_rate, mix=mix, pre_delay_ms=0.0, impulse_response=path,
        ir_sample_rate=None, normalize_ir="energy", length="same",
    )


EFFECTS = (
    Effect(MIC_COLORATION, mic_coloration_numpy, None, aliases=("mic",)),
    Effect(ROOM_IR, room_ir_numpy, None),
)
