"""``drywet mix``: mixing sessions: start one from stems, render it, export it to a DAW."""

from __future__ import annotations

import math

from ..errors import DrywetError
from .common import refuse_existing

NAME = "mix"
HELP = "mix multitracks: start a session from stems, render it, export it to Reaper"


def add_arguments(p) -> None:
    from ..mixing import DEFAULT_STRIP

    sub = p.add_subparsers(dest="mix_command", required=True, metavar="SUBCOMMAND")
    i = sub.add_parser("init", description="Write a session of every stem in a folder at the strip's defaults (edit it, then render it).")
    i.add_argument("stems", help="folder of stems (audio files)")
    i.add_argument("-o", "--output", required=True, help="session file (.yaml or .json)")
    i.add_argument("--strip", default=",".join(DEFAULT_STRIP), help="the channel strip's processors, in order")
    i.add_argument("--overwrite", action="store_true")
    r = sub.add_parser("render", description="Render a session's stems through its console to a stereo mix.")
    r.add_argument("session", help="session file")
    r.add_argument("-o", "--output", required=True, help="the mix (32-bit float wav or flac)")
    r.add_argument("--overwrite", action="store_true")
    e = sub.add_parser("export", description="Write a Reaper project of the session's stems, volumes, pans and polarities.")
    e.add_argument("session", help="session file")
    e.add_argument("-o", "--output", required=True, help="Reaper project (.rpp)")
    e.add_argument("--overwrite", action="store_true")


def run(args) -> int:
    from .. import io
    from ..mixing import Session, write_rpp

    if args.mix_command == "init":
        refuse_existing(args.output, args.overwrite)
        session = Session.from_stems(args.stems, strip=[s.strip() for s in args.strip.split(",") if s.strip()])
        session.graph()  # the strip's names are checked before the file is written
        print(f"wrote {session.save(args.output, overwrite=args.overwrite)} ({len(session.tracks)} tracks)")
        return 0
    session = Session.load(args.session)
    if args.mix_command == "export":
        if not str(args.output).endswith(".rpp"):
            raise DrywetError(f"{args.output}: a Reaper project ends in .rpp")
        print(f"wrote {write_rpp(session, args.output, overwrite=args.overwrite)} ({len(session.tracks)} tracks: "
              "names, volumes, pans, polarities; the rest of the strips stays in the session)")
        return 0
    refuse_existing(args.output, args.overwrite)
    mix, sr = session.render()
    out = io.write_audio(args.output, mix, sample_rate=sr, subtype="FLOAT", overwrite=args.overwrite)
    peak = float(abs(mix).max())
    print(f"wrote {out} ({mix.shape[1] / sr:.2f} s, {sr} Hz, peak {20 * math.log10(max(peak, 1e-12)):+.1f} dBFS)")
    return 0
