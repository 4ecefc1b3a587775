"""Where the MP3 round trip's time goes: LAME encode (lameenc, quality 7 as in
bench_augment.py) and decode by libsndfile (drywet's) or PyAV, on 10 s of stereo Brahms at
128 kbit/s, best of 5.

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


if __name__ == "__main__":
    main()
