"""``drywet match``: estimate a chain's parameters from a dry/wet pair (analysis by synthesis)."""

from __future__ import annotations

from .common import read_dry_wet, refuse_existing

NAME = "match"
HELP = "estimate a chain's parameters from a dry/wet pair (analysis by synthesis)"


def add_arguments(p) -> None:
    from ..estimate.informed import INITS, LOSSES

    p.add_argument("--dry", required=True)
    p.add_argument("--wet", required=True)
    p.add_argument("--chain", default="eq,compressor,clipper", help="comma-separated effects, in order")
    p.add_argument("-o", "--output", required=True, help="preset to write (.yaml or .json)")
    p.add_argument("--report", help="optional HTML report path")
    p.add_argument("--loss", default="logmel", choices=LOSSES)
    p.add_argument("--optimizer", default="adam", choices=["adam", "cmaes"],
                   help="adam: gradients through the torch twins; cmaes: black-box search (any effect, e.g. codecs)")
    p.add_argument("--budget", type=int, default=600, help="chain evaluations for cmaes")
    p.add_argument("--restarts", type=int, default=4)
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--init", default="transfer", choices=INITS,
                   help="transfer: leading EQ/filter stages start from fits of the pair's transfer function; random: random starts only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true")


def run(args) -> int:
    from .. import io, metrics
    from ..estimate import match_chain
    from ..report import write_report

    refuse_existing(args.output, args.overwrite)
    dry, wet, sr = read_dry_wet(args.dry, args.wet)
    if args.optimizer == "cmaes":
        from ..estimate import match_chain_blackbox

        result = match_chain_blackbox(dry, wet, sample_rate=sr, effects=args.chain, loss=args.loss, budget=args.budget, seed=args.seed)
    else:
        result = match_chain(dry, wet, sample_rate=sr, effects=args.chain, loss=args.loss, restarts=args.restarts,
                             steps=args.steps, seed=args.seed, init=args.init)
    from ..estimate.uncertainty import parameter_uncertainty

    # what sounds the same as the estimate: a wide range means the pair does not pin it down
    uncertainty = parameter_uncertainty(result.chain, dry, sample_rate=sr)
    print(f"{'stage':16s} {'parameter':22s} {'value':>12s}  sounds the same within (log-mel RMS {uncertainty.tolerance})")
    ranges = uncertainty.intervals()
    for row in ranges:
        flag = "" if row["identifiable"] else "  (not identifiable here)"
        print(f"{row['stage']:16s} {row['param']:22s} {row['value']:12.5g}  [{row['low']:.4g}, {row['high']:.4g}] {row['unit']}{flag}")
    print(f"loss {result.loss:.4f} (dry vs wet: {result.loss_dry:.4f}, ratio {result.loss_ratio:.3f}) in {result.seconds:.1f} s")
    result.chain.save(args.output, overwrite=args.overwrite)
    print(f"wrote {args.output}")
    if args.report:
        from pathlib import Path

        report = Path(args.report)
        y_hat = result.chain(dry, sample_rate=sr)
        estimate_path = report.with_name(report.stem + "_estimate.wav")
        io.write_audio(estimate_path, y_hat, sample_rate=sr, overwrite=args.overwrite, normalize=True)
        rel = lambda p: Path(p).resolve().as_uri()  # noqa: E731 - the report may live elsewhere
        write_report(report, title="drywet match: estimated chain", chain=result.chain, sample_rate=sr,
                     signals=[("dry", dry, rel(args.dry)), ("wet", wet, rel(args.wet)), ("estimate", y_hat, estimate_path.name)],
                     metrics=metrics.compute_all(wet, y_hat, sample_rate=sr), ranges=ranges)
        print(f"wrote {report}")
    return 0
