"""Where the MP3 round trip's time goes: LAME encode (lameenc, quality 7 as in
bench_augment.py) and decode by libsndfile (drywet's) or PyAV, on 10 s of stereo Brahms at
128 kbit/s, best of 5. Then, at 32, 64 and 128 kbit/s, the encode + decode round trip at the
input rate (what drywet's mp3 effect does: set_out_sample_rate) against soxr-resampling to the
rate LAME itself picks for that bit rate (its default) and encoding there: the speed-up the
latter would bring at low bit rates (not adopted; the issue notes say why).

    python benchmarks/profile_mp3.py
"""

from __future__ import annotations

import io as bytes_io
import time
from pathlib import Path

import av
import lameenc
import numpy as np
import soundfile as sf
import soxr

from drywet import io

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def best_ms(f, repeats: int = 5):
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - t0)
    return 1000 * min(times), result


def main() -> None:
    sr = 44100
    x, _ = io.read_audio(SHARED / "music" / "brahms_hungarian_dance_5.ogg", sample_rate=sr)
    pcm = np.round(np.clip(x[:, 30 * sr : 40 * sr], -1, 1) * 32767).astype("<i2")

    def encode():
        e = lameenc.Encoder()
        e.set_bit_rate(128)
        e.set_in_sample_rate(sr)
        e.set_out_sample_rate(sr)
        e.set_channels(2)
        e.set_quality(7)
        return bytes(e.encode(np.ascontiguousarray(pcm.T).tobytes()) + e.flush())

    def decode_av():
        with av.open(bytes_io.BytesIO(data), "r") as container:
            return np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=-1)

    t_enc, data = best_ms(encode)
    t_sf, _ = best_ms(lambda: sf.read(bytes_io.BytesIO(data), dtype="float32", always_2d=True))
    t_av, _ = best_ms(decode_av)
    print(f"encode (lameenc) {t_enc:.1f} ms, decode libsndfile {t_sf:.1f} ms, decode PyAV {t_av:.1f} ms")

    def roundtrip(samples, rate, kbps, out_rate):
        e = lameenc.Encoder()
        e.set_bit_rate(kbps)
        e.set_in_sample_rate(rate)
        if out_rate:
            e.set_out_sample_rate(out_rate)
        e.set_channels(2)
        e.set_quality(7)
        pcm16 = np.round(np.clip(samples, -1, 1) * 32767).astype("<i2")
        return sf.read(bytes_io.BytesIO(bytes(e.encode(np.ascontiguousarray(pcm16.T).tobytes()) + e.flush())),
                       dtype="float32", always_2d=True)

    clip = x[:, 30 * sr : 40 * sr]
    for kbps in (32, 64, 128):
        lame_rate = roundtrip(clip[:, :sr], sr, kbps, None)[1]  # the rate LAME picks by default
        t_in, _ = best_ms(lambda kbps=kbps: roundtrip(clip, sr, kbps, sr))

        def resampled(kbps=kbps, rate=lame_rate):
            low = soxr.resample(clip.T, sr, rate, quality="HQ").T
            y, _ = roundtrip(low, rate, kbps, rate)
            return soxr.resample(y, rate, sr, quality="HQ")

        t_low, _ = best_ms(resampled)
        print(f"{kbps:4d} kbit/s: round trip at {sr} Hz {t_in:.1f} ms; resampled to LAME's {lame_rate} Hz {t_low:.1f} ms")


if __name__ == "__main__":
    main()
