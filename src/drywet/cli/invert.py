"""``drywet invert``: undo a chain with known parameters (model-based inversion)."""

from __future__ import annotations

import numpy as np

from ..errors import DrywetError
from .common import read_dry_wet, refuse_existing

NAME = "invert"
HELP = "undo a chain with known parameters (model-based inversion)"


def add_arguments(p) -> None:
    from ..estimate.blind.model import SETTINGS

    p.add_argument("input", help="processed (wet) audio")
    p.add_argument("-o", "--output", required=True, help="restored audio (32-bit float wav/flac)")
    p.add_argument("--preset", help="the chain that was applied (e.g. from drywet match)")
    p.add_argument("--estimate", nargs="?", const="chain", choices=list(SETTINGS),
                   help="estimate the chain blindly first (bundled estimator; default: chain)")
    p.add_argument("--estimated", action="store_true",
                   help="the preset holds estimates (drywet estimate or match): make them consistent with the audio first "
                        "(implied by --estimate)")
    p.add_argument("--dynamics-strength", type=float,
                   help="fraction (in dB) of a compressor's or limiter's gain reduction to add back: 1 is the exact inverse "
                        "(default), 0.5 with --estimate (blind estimates are noisy; also advised for presets from drywet estimate)")
    p.add_argument("--dry", help="the original, to score the restoration")
    p.add_argument("--report", help="optional HTML report path")
    p.add_argument("--overwrite", action="store_true")


def run(args) -> int:
    import html
    from pathlib import Path

    from .. import io, metrics
    from ..chain import Chain
    from ..invert.chain import check_dynamics_strength
    from ..pipelines import restore
    from ..report import write_report

    refuse_existing(args.output, args.overwrite)
    if args.dynamics_strength is not None:  # checked before a minute of estimation, not after
        check_dynamics_strength(args.dynamics_strength)
    wet, sr = io.read_audio(args.input)
    if not np.any(wet):
        raise DrywetError(f"{args.input} is silent: there is nothing to invert")
    if (args.preset is None) == (not args.estimate):
        raise DrywetError("give either --preset FILE (known parameters) or --estimate (blind estimation first)")
    dry = None
    if args.dry:
        # the wet's rate and length are the output's; the dry is only the reference
        dry, wet, sr = read_dry_wet(args.dry, args.input, resample="dry", same_channels=False)
    done = restore(wet, sample_rate=sr, chain=None if args.estimate else Chain.load(args.preset), estimate=args.estimate,
                   estimated=args.estimated, dynamics_strength=args.dynamics_strength, dry=dry)
    chain, result = done.chain, done.result
    if args.estimate:
        print(f"estimated blindly ({args.estimate}):")
        for row in chain.describe():
            print(f"  {row['stage']:16s} {row['param']:22s} {row['value']:12.5g} {row['unit']}")
    out = io.write_audio(args.output, result.audio, sample_rate=sr, subtype="FLOAT", overwrite=args.overwrite)
    print(f"wrote {out}")
    rows = []
    for stage in done.stages:
        line = f"undo {stage.key:18s}"
        if stage.si_sdr_db is not None:
            line += f" SI-SDR vs the true signal before it {stage.si_sdr_db:7.2f} dB"
        notes = [n + " (--dynamics-strength)" if n.startswith("model inverse undoing") else n for n in stage.notes]
        print(line + ("; " + "; ".join(notes) if notes else ""))
        rows.append((stage.key, notes or ["exact model inverse"]))
    summary = done.summary
    if summary:
        print("dry vs wet: SI-SDR {si_sdr_wet_db:.2f} dB, log-mel {logmel_wet:.4f}; "
              "dry vs restored: SI-SDR {si_sdr_restored_db:.2f} dB, log-mel {logmel_restored:.4f}".format(**summary))
    if args.report:
        report = Path(args.report)
        rel = lambda p: Path(p).resolve().as_uri()  # noqa: E731 - the report may live elsewhere
        signals = [("wet (input)", wet, rel(args.input)), ("restored", result.audio, rel(out))]
        if dry is not None:
            signals.append(("dry (reference)", dry, rel(args.dry)))
        for i, stage in enumerate(result.stages[1:], start=1):  # the intermediate steps
            path = report.with_name(f"{report.stem}_after_undo_{i}_{stage.key}.wav")
            io.write_audio(path, stage.audio, sample_rate=sr, subtype="FLOAT", overwrite=True)
            signals.append((f"after undoing {stage.key} and later stages", stage.audio, path.name))
        loud = {"loudness_wet_lufs": metrics.integrated_loudness(wet, sample_rate=sr),
                "loudness_restored_lufs": metrics.integrated_loudness(result.audio, sample_rate=sr)}
        table = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape('; '.join(n))}</li>" for k, n in rows)
        write_report(report, title="drywet invert: restored audio", chain=chain, sample_rate=sr, signals=signals,
                     metrics={**summary, **loud}, notes=f"Stages undone last to first:<ul>{table}</ul>")
        print(f"wrote {report}")
    return 0
