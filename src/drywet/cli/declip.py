"""``drywet declip``: restore a clipped recording (clipped samples found, then S-SPADE declipping)."""

from __future__ import annotations

import numpy as np

from ..errors import DrywetError
from .common import refuse_existing

NAME = "declip"
HELP = "restore a clipped recording (clipped samples found, then S-SPADE declipping)"


def add_arguments(p) -> None:
    p.add_argument("input", help="clipped audio")
    p.add_argument("-o", "--output", required=True, help="restored audio (32-bit float wav/flac; peaks may exceed 0 dBFS)")
    p.add_argument("--min-run", type=int, default=2,
                   help="a channel's extreme counts as a clipping level when held this many samples in a row (default 2)")
    p.add_argument("--level-db", type=float,
                   help="the clipping level in dBFS instead: every sample at or above it is treated as clipped")
    p.add_argument("--ceiling-db", type=float,
                   help="restored samples at most this many dB above the clipping level, where you know how deep "
                        "it went (default: no limit)")
    p.add_argument("--overwrite", action="store_true")


def run(args) -> int:
    from .. import io
    from ..dsp.declip import declip, find_clipped

    refuse_existing(args.output, args.overwrite)
    x, sr = io.read_audio(args.input)
    if not np.any(x):
        raise DrywetError(f"{args.input} is silent: there is nothing to declip")
    if args.level_db is not None:
        if args.level_db > 0:
            raise DrywetError(f"--level-db {args.level_db:g} is above full scale: give the clipping level in dBFS (<= 0)")
        unreliable = np.abs(x) >= 10.0 ** (args.level_db / 20.0)
        how = f"at or above {args.level_db:g} dBFS"
    else:
        unreliable = find_clipped(x, min_run=args.min_run)
        how = f"held at a channel's extreme for {args.min_run}+ samples"
    for channel, (row, mask) in enumerate(zip(x, unreliable)):
        print(f"channel {channel}: {100 * mask.mean():.3f} % of samples clipped ({how})")
    if not unreliable.any():
        print("no clipped samples found: the output equals the input (if the clipping was smoothed by a codec or dither, "
              "give its level with --level-db)")
    restored = declip(x, unreliable, sample_rate=sr, ceiling_db=args.ceiling_db)
    peak = float(np.abs(restored).max())
    out = io.write_audio(args.output, restored, sample_rate=sr, subtype="FLOAT", overwrite=args.overwrite)
    print(f"wrote {out} (32-bit float; peak {20 * np.log10(peak):+.2f} dBFS" + (": lower the gain before converting to a fixed-point format)" if peak > 1 else ")"))
    return 0
