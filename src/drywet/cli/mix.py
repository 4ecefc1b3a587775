"""``drywet mix``: mixing sessions: start one from stems, render it, export it to a DAW."""

from __future__ import annotations

import math
import os
from pathlib import Path

from ..errors import DrywetError
from .common import refuse_existing

NAME = "mix"
HELP = "mix multitracks: start a session from stems, render it, export it to Reaper"


def add_arguments(p) -> None:
    from ..mixing import DEFAULT_STRIP
    from ..mixing.auto import METHODS

    sub = p.add_subparsers(dest="mix_command", required=True, metavar="SUBCOMMAND")
    i = sub.add_parser("init", description="Write a session of every stem in a folder at the strip's defaults (edit it, then render it).")
    i.add_argument("stems", help="folder of stems (audio files)")
    i.add_argument("-o", "--output", required=True, help="session file (.yaml or .json)")
    i.add_argument("--strip", default=",".join(DEFAULT_STRIP), help="the channel strip's processors, in order")
    i.add_argument("--overwrite", action="store_true")
    r = sub.add_parser("render", description="Render a session's stems through its console to a stereo mix.")
    r.add_argument("session", help="session file")
    r.add_argument("-o", "--output", required=True, help="the mix (32-bit float wav or flac)")
    r.add_argument("--report", help="also an HTML report: strips, curves, levels, mix overview, players")
    r.add_argument("--reference", help="a reference or real mix to show and play beside it in the report")
    r.add_argument("--overwrite", action="store_true")
    a = sub.add_parser("auto", description="Mix a folder of stems automatically (rules: loudness balance, panning by "
                       "spectral content, EQ against masking, gentle compression, a reverb send; or a baseline).")
    a.add_argument("stems", help="folder of stems (audio files)")
    a.add_argument("-o", "--output", required=True, help="the mix (32-bit float wav or flac)")
    a.add_argument("--session", help="also write the session the method set, to edit and render again")
    a.add_argument("--method", default="rules", choices=METHODS)
    a.add_argument("--seed", type=int, default=0, help="for the random baseline")
    a.add_argument("--report", help="also an HTML report of the mix the method made")
    a.add_argument("--overwrite", action="store_true")
    m = sub.add_parser("match", description="Set the console so that the mix takes on a reference song's spectral "
                       "balance, stereo width, loudness and dynamics (gradient descent through the console).")
    m.add_argument("stems", help="folder of stems (audio files)")
    m.add_argument("--reference", required=True, help="another song's mix whose traits the mix should take on")
    m.add_argument("-o", "--output", required=True, help="the mix (32-bit float wav or flac)")
    m.add_argument("--session", help="also write the matched session, to edit and render again")
    m.add_argument("--steps", type=int, default=100)
    m.add_argument("--seconds", type=float, default=8.0, help="length of the analysed excerpt (the loudest part)")
    m.add_argument("--report", help="also an HTML report of the mix")
    m.add_argument("--overwrite", action="store_true")
    v = sub.add_parser("eval", description="Every method on multitrack songs (SONG/stems/*.wav + SONG/mix.wav, or "
                       "MUSDB18, DSD100, MedleyDB, ENST-drums layouts): the "
                       "stereo MR-STFT distance to the real mix (both at one loudness) and per-feature errors.")
    v.add_argument("--data", required=True, help="folder of songs")
    v.add_argument("--methods", default=",".join(METHODS))
    e = sub.add_parser("export", description="Write a Reaper project of the session's stems, volumes, pans and polarities.")
    e.add_argument("session", help="session file")
    e.add_argument("-o", "--output", required=True, help="Reaper project (.rpp)")
    e.add_argument("--overwrite", action="store_true")


def run(args) -> int:
    from ..mixing import Session, write_rpp

    if args.mix_command == "init":
        refuse_existing(args.output, args.overwrite)
        session = Session.from_stems(args.stems, strip=[s.strip() for s in args.strip.split(",") if s.strip()])
        session.graph()  # the strip's names are checked before the file is written
        print(f"wrote {session.save(args.output, overwrite=args.overwrite)} ({len(session.tracks)} tracks)")
        return 0
    if args.mix_command == "auto":
        from ..mixing.auto import auto_mix

        refuse_existing(args.output, args.overwrite)
        refuse_existing(args.session, args.overwrite)
        refuse_existing(args.report, args.overwrite)
        session = auto_mix(Session.from_stems(args.stems), args.method, seed=args.seed)
        _render(session, args)
        if args.session:
            print(f"wrote {session.save(args.session, overwrite=args.overwrite)}")
        return 0
    if args.mix_command == "eval":
        return _evaluate(args)
    if args.mix_command == "match":
        from .. import io
        from ..mixing.match import match_mix

        for path in (args.output, args.session, args.report):
            refuse_existing(path, args.overwrite)
        reference, rate = io.read_audio(args.reference)
        result = match_mix(Session.from_stems(args.stems), reference, rate, steps=args.steps, seconds=args.seconds)
        print(f"feature distance to the reference: {result.before:.3f} (the plain sum) -> {result.after:.3f} (matched)")
        args.reference = args.reference if args.report else None
        _render(result.session, args)
        if args.session:
            print(f"wrote {result.session.save(args.session, overwrite=args.overwrite)}")
        return 0
    session = Session.load(args.session)
    if args.mix_command == "export":
        if not str(args.output).endswith(".rpp"):
            raise DrywetError(f"{args.output}: a Reaper project ends in .rpp")
        print(f"wrote {write_rpp(session, args.output, overwrite=args.overwrite)} ({len(session.tracks)} tracks: "
              "names, volumes, pans, polarities; the rest of the strips stays in the session)")
        return 0
    refuse_existing(args.output, args.overwrite)
    refuse_existing(args.report, args.overwrite)
    _render(session, args)
    return 0


def _render(session, args) -> None:
    """Render, write the mix, and the report when asked."""
    from .. import io

    stems, sr = session.read_stems()
    mix = session.graph()(stems, sample_rate=sr)
    out = io.write_audio(args.output, mix, sample_rate=sr, subtype="FLOAT", overwrite=args.overwrite)
    peak = float(abs(mix).max())
    print(f"wrote {out} ({len(session.tracks)} tracks, {mix.shape[1] / sr:.2f} s, {sr} Hz, "
          f"peak {20 * math.log10(max(peak, 1e-12)):+.1f} dBFS)")
    if getattr(args, "report", None):
        from ..mix_report import write_mix_report

        reference = None
        if getattr(args, "reference", None):
            ref, _ = io.read_audio(args.reference, sample_rate=sr)
            reference = (ref if ref.shape[0] == 2 else ref.repeat(2, axis=0)[:2], args.reference)
        print(f"wrote {write_mix_report(args.report, session, mix, stems, sr, mix_file=out, reference=reference)}")


def _evaluate(args) -> int:
    from .. import io
    from ..mixing import Session
    from ..mixing.auto import METHODS, auto_mix, feature_errors, methods_table, stereo_distance
    from ..mixing.songs import find_songs

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise DrywetError(f"unknown methods {unknown}; choose among {list(METHODS)}")
    rows = []
    for song in find_songs(args.data):
        reference, rate = io.read_audio(song.mix)
        if reference.shape[0] == 1:
            reference = reference.repeat(2, axis=0)
        for method in methods:
            folder = Path(os.path.commonpath([p.parent for p in song.stems]))
            session = auto_mix(Session.from_stems(folder, files=song.stems), method, log=lambda m: None)
            session.sample_rate = rate
            mix, sr = session.render(log=lambda m: None)
            rows.append({"method": method, "song": song.name, "stereo_mrstft": stereo_distance(mix, reference, sr),
                         **feature_errors(mix[:, : reference.shape[1]], reference[:, : mix.shape[1]], sr)})
    print(methods_table(rows))
    return 0
