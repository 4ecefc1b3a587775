"""``drywet demo``: render a random chain on the bundled clip and write an HTML report."""

from __future__ import annotations


NAME = "demo"
HELP = "render a random chain on the bundled clip and write an HTML report"


def add_arguments(p) -> None:
    from ..demo import DEFAULT_EFFECTS

    p.add_argument("-o", "--out", default="drywet_demo", help="output folder (default: drywet_demo)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--effects", default=DEFAULT_EFFECTS)
    p.add_argument("--no-estimate", action="store_true", help="skip the blind and informed estimation")
    p.add_argument("--overwrite", action="store_true")


def run(args) -> int:
    from ..demo import run_demo

    result = run_demo(args.out, seed=args.seed, effects=args.effects, overwrite=args.overwrite, estimate=not args.no_estimate)
    print(result["chain"])
    print(f"wrote {result['dry.wav']}, {result['wet.wav']}, {result['restored.wav']}, {result['chain.yaml']}")
    print(f"open {result['report.html']} in a browser")
    return 0
