"""``drywet estimate``: estimate a chain's parameters from wet audio alone (blind)."""

from __future__ import annotations

from .common import refuse_existing

NAME = "estimate"
HELP = "estimate a chain's parameters from wet audio alone (blind)"


def add_arguments(p) -> None:
    from ..estimate.blind.model import SETTINGS

    p.add_argument("input", help="processed (wet) audio")
    p.add_argument("--setting", default="chain", choices=list(SETTINGS),
                   help="which bundled estimator: one effect, or the chain EQ > compressor > clipper")
    p.add_argument("--for-inversion", action="store_true",
                   help="the weights drywet invert --estimate uses (tuned to undo each stage; the default ones "
                        "re-synthesize the wet best): for a preset to pass to drywet invert --estimated")
    p.add_argument("-o", "--output", help="preset to write (.yaml or .json)")
    p.add_argument("--report", help="optional HTML report path")
    p.add_argument("--overwrite", action="store_true")


def run(args) -> int:
    from pathlib import Path

    from .. import io
    from ..estimate.blind import bundled_estimator
    from ..report import write_report

    refuse_existing(args.output, args.overwrite)
    estimator = bundled_estimator(args.setting, for_inversion=args.for_inversion)
    wet, sr = io.read_audio(args.input)
    chain = estimator.estimate(wet, sample_rate=sr)
    for row in chain.describe():
        print(f"{row['stage']:16s} {row['param']:22s} {row['value']:12.5g} {row['unit']}")
    if args.output:
        chain.save(args.output, overwrite=args.overwrite)
        print(f"wrote {args.output}")
    if args.report:
        rel = Path(args.input).resolve().as_uri()
        write_report(args.report, title=f"drywet estimate (blind, {args.setting})", chain=chain, sample_rate=sr,
                     signals=[("input (wet)", wet, rel)],
                     notes="Parameters estimated from the wet audio alone by the bundled analysis network "
                           f"({estimator.meta.get('encoder')} encoder).")
        print(f"wrote {args.report}")
    return 0
