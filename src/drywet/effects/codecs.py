"""Lossy codecs with real encoders: MP3 (LAME through lameenc, decoded by libsndfile's mpg123),
AAC and Opus (libopus) through PyAV's FFmpeg libraries, Vorbis (libvorbis) through
libsndfile. Black boxes: numpy only.

Each call encodes to an in-memory container and decodes it back. Encoders add a delay
(priming samples, look-ahead, resampling filters) that decoders do not always remove; the
delay of each (codec, rate, channels, bitrate) setting is measured once by encoding a
calibration noise and locating the cross-correlation peak, then cut, so the output lines up
sample-exactly with the input (tested). Codecs that only run at some sample rates (Opus at
48 kHz) are fed through soxr and brought back to the input rate.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import numpy as np

from ..errors import DependencyError
from ..spec import EffectSpec, Option, Param, Strength
from .base import Effect, keyword_signature


@dataclass(frozen=True)
class Codec:
    name: str  # effect name
    encoder: str  # FFmpeg encoder, or "libsndfile"
    container: str
    rates: tuple[int, ...]  # sample rates the encoder accepts
    param: Param  # bit rate (kbit/s) or quality
    doc: str
    delay_varies: bool = False  # the delay depends on the bit rate (measured per setting)
    options: tuple[Option, ...] = ()  # encoder settings passed to the round trip


def _bitrate(lo: float, hi: float, default: float) -> Param:
    return Param("bitrate_kbps", "kbit/s", lo, hi, default, "log", integer=True, doc="target bit rate (all channels)")


_COMMON_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)


CODECS = (
    Codec(
        "mp3",
        "lameenc",
        "mp3",
        _COMMON_RATES,
        _bitrate(32.0, 320.0, 128.0),
        "MP3 (LAME, CBR)",
        options=(Option("encoder_quality", 5, "LAME's -q: 0 best and slowest, 5 LAME's default, 9 fastest", tuple(range(10))),),
    ),
    Codec("aac", "aac", "adts", _COMMON_RATES + (64000, 88200, 96000), _bitrate(32.0, 256.0, 128.0), "AAC-LC (FFmpeg's native encoder)"),
    Codec("opus", "libopus", "ogg", (48000,), _bitrate(8.0, 256.0, 64.0), "Opus (libopus) at 48 kHz", delay_varies=True),
    Codec(
        "vorbis",
        "libsndfile",
        "OGG",
        _COMMON_RATES + (88200, 96000),
        Param("quality", "", 0.0, 1.0, 0.4, doc="libvorbis VBR quality: 0 is about 60, 1 about 350 kbit/s (stereo, 44.1 kHz)"),
        "Vorbis (libvorbis through libsndfile)",
    ),
)


MIN_SAMPLES = 4096


def _av():
    try:
        import av
    except ImportError:  # pragma: no cover - av is a core dependency
        raise DependencyError("lossy codecs need PyAV: pip install av") from None
    return av


def _encoder_rate(codec: Codec, sample_rate: int) -> int:
    """The input rate if the encoder takes it, else the smallest accepted rate above it."""
    if sample_rate in codec.rates:
        return sample_rate
    higher = [r for r in codec.rates if r > sample_rate]
    return min(higher) if higher else max(codec.rates)


def _roundtrip(x: np.ndarray, rate: int, codec: Codec, setting: float, options: tuple = ()) -> np.ndarray:
    """Encode and decode (channels, samples) float32 at an accepted rate; no delay handling.

    ``options``: the codec's encoder options as sorted (name, value) pairs."""
    if codec.encoder == "libsndfile":
        return _roundtrip_sndfile(x, rate, codec, setting)
    if codec.encoder == "lameenc":
        return _roundtrip_lame(x, rate, setting, dict(options)["encoder_quality"])
    av = _av()
    bitrate_kbps = setting
    channels = x.shape[0]
    layout = {1: "mono", 2: "stereo"}[channels]
    buffer = io.BytesIO()
    try:
        with av.open(buffer, "w", format=codec.container) as container:
            stream = container.add_stream(codec.encoder, rate=rate, layout=layout)
            stream.bit_rate = int(bitrate_kbps * 1000)
            if codec.encoder == "vorbis":
                stream.codec_context.options = {"strict": "experimental"}
            # frames of the encoder's size with explicit timestamps: one huge frame is
            # silently mangled by some encoders (FFmpeg's Vorbis)
            chunk = stream.codec_context.frame_size or 1024
            for start in range(0, x.shape[-1], chunk):
                part = np.ascontiguousarray(x[:, start : start + chunk], dtype=np.float32)
                frame = av.AudioFrame.from_ndarray(part, format="fltp", layout=layout)
                frame.sample_rate = rate
                frame.pts = start
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
    except (av.error.FFmpegError, ValueError) as exc:
        if "unknown encoder" in str(exc).lower() or isinstance(exc, av.codec.codec.UnknownCodecError):
            raise DependencyError(
                f"the installed FFmpeg libraries have no {codec.encoder} encoder for {codec.name}; "
                "install a PyAV wheel built with it (pip install --upgrade av)"
            ) from None
        raise
    buffer.seek(0)
    decoded = []
    with av.open(buffer, "r") as container:
        for frame in container.decode(audio=0):
            decoded.append(frame.to_ndarray().reshape(channels, -1) if frame.format.is_planar else frame.to_ndarray().reshape(-1, channels).T)
    return np.concatenate(decoded, axis=-1).astype(np.float32) if decoded else np.zeros((channels, 0), np.float32)


def _roundtrip_lame(x: np.ndarray, rate: int, bitrate_kbps: float, quality: int) -> np.ndarray:
    try:
        import lameenc
    except ImportError:  # pragma: no cover - a core dependency
        raise DependencyError("MP3 needs lameenc: pip install lameenc") from None
    import soundfile as sf

    peak = float(np.max(np.abs(x))) if x.size else 0.0
    scale = max(1.0, peak)  # LAME takes 16-bit PCM: keep overs from clipping
    pcm = np.round(np.clip(x / scale, -1.0, 1.0) * 32767.0).astype("<i2")
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(int(bitrate_kbps))
    encoder.set_in_sample_rate(rate)
    encoder.set_out_sample_rate(rate)  # LAME would otherwise resample at low bit rates
    encoder.set_channels(x.shape[0])
    encoder.set_quality(int(quality))
    data = bytes(encoder.encode(np.ascontiguousarray(pcm.T).tobytes()) + encoder.flush())
    y, _ = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return np.ascontiguousarray(y.T) * np.float32(scale)


def _roundtrip_sndfile(x: np.ndarray, rate: int, codec: Codec, quality: float) -> np.ndarray:
    import soundfile as sf

    from ..io import write_soundfile

    buffer = io.BytesIO()
    write_soundfile(buffer, x, rate, format=codec.container, subtype="VORBIS", compression_level=1.0 - quality)
    buffer.seek(0)
    y, _ = sf.read(buffer, dtype="float32", always_2d=True)
    return y.T


@functools.cache
def codec_delay(codec_name: str, rate: int, channels: int, setting: float, options: tuple = ()) -> int:
    """Samples by which the decoded stream lags the input at this setting (measured).

    The probe is pink noise because Opus in hybrid mode (about 16-40 kbit/s) codes the low
    band with SILK and the high band with CELT a few samples apart: alignment then follows
    the low band, where music and speech have their energy. The channels are partly
    correlated: joint-stereo coders treat identical channels differently. For Opus (whose delay
    moves with the mode) each call then refines the lag within +/- 8 samples on the signal
    itself."""
    codec = _BY_NAME[codec_name]
    from ..dsp.noise import colored_noise

    n = rate  # one second with a burst of pink noise (a music-like spectrum: see below)
    probe = np.zeros((channels, n), np.float32)
    rng = np.random.default_rng(1234)
    shared = colored_noise(rng, (n // 4,), rate, "pink")  # partly correlated channels, as in music
    burst = 0.07 * (shared + 0.5 * colored_noise(rng, (channels, n // 4), rate, "pink"))
    probe[:, n // 4 : n // 4 + burst.shape[-1]] = burst.astype(np.float32)
    out = _roundtrip(probe, rate, codec, setting, options)[0]
    ref = probe[0]
    size = 1 << int(np.ceil(np.log2(len(out) + len(ref))))
    xc = np.fft.irfft(np.fft.rfft(out, size) * np.conj(np.fft.rfft(ref, size)), size)
    lags = np.concatenate([np.arange(0, size // 2), np.arange(-size // 2, 0)])
    return int(lags[int(np.argmax(xc))])


def _codec_kernel(codec: Codec):
    def kernel(x, **settings):
        import soxr

        sample_rate = settings["sample_rate"]
        value = settings[codec.param.name]
        setting = float(round(value)) if codec.param.integer else round(float(value), 3)
        options = tuple(sorted((o.name, settings[o.name]) for o in codec.options))
        rate = _encoder_rate(codec, sample_rate)
        batch, channels, n = x.shape
        y = np.empty(x.shape, dtype=np.float32)
        for b in range(batch):
            for c0 in range(0, channels, 2):  # mono or stereo streams; more channels in pairs
                # very short clips are zero-padded: some decoders reject a lone frame
                group = _fit(x[b, c0 : c0 + 2].astype(np.float32), max(n, MIN_SAMPLES))
                if rate != sample_rate:
                    group = soxr.resample(group.T, sample_rate, rate, quality="HQ").T
                # the delay is measured once per setting (or once per rate when it is constant)
                key = setting if codec.delay_varies else codec.param.default
                delay = codec_delay(codec.name, rate, group.shape[0], key, options)
                decoded = _roundtrip(group, rate, codec, setting, options)
                if codec.delay_varies:  # hybrid modes: refine on this signal (see codec_delay)
                    delay += _residual_lag(decoded, group, delay)
                decoded = _shift(decoded, delay, group.shape[-1])
                if rate != sample_rate:
                    decoded = soxr.resample(decoded.T, rate, sample_rate, quality="HQ").T
                y[b, c0 : c0 + 2] = _fit(decoded, n)
        return y

    kernel.__name__ = f"{codec.name}_numpy"
    return keyword_signature(kernel, (codec.param.name,), options=tuple(o.name for o in codec.options))


REFINE_SAMPLES = 8


def _residual_lag(decoded: np.ndarray, reference: np.ndarray, delay: int) -> int:
    """The lag in [-8, 8] around ``delay`` that best correlates ``decoded`` with ``reference``
    (0 unless another lag is strictly better, e.g. on silence)."""
    n = reference.shape[-1]
    lags = [k for k in range(-REFINE_SAMPLES, REFINE_SAMPLES + 1) if delay + k >= 0]
    scores = [float(np.sum(_fit(decoded[:, delay + k :], n) * reference, dtype=np.float64)) for k in lags]
    best = lags[int(np.argmax(scores))]
    return best if 0 not in lags or max(scores) > scores[lags.index(0)] else 0


def _shift(y: np.ndarray, delay: int, n: int) -> np.ndarray:
    """Remove ``delay`` leading samples (or pad if negative) and keep ``n`` samples."""
    if delay >= 0:
        y = y[:, delay:]
    else:
        y = np.pad(y, ((0, 0), (-delay, 0)))
    return _fit(y, n)


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    if y.shape[-1] >= n:
        return y[:, :n]
    return np.pad(y, ((0, 0), (0, n - y.shape[-1])))


def _spec(codec: Codec) -> EffectSpec:
    return EffectSpec(
        codec.name,
        f"{codec.doc} encode/decode round trip, delay-compensated to align with the input.",
        (codec.param,),
        codec.options,
        category="codec",
        differentiable=False,
        strength=Strength(codec.param.name, codec.param.max, codec.param.min),
    )


_BY_NAME = {c.name: c for c in CODECS}
EFFECTS = tuple(Effect(_spec(c), _codec_kernel(c), None) for c in CODECS)
