"""``drywet effects``: list effects and their parameter specs."""

from __future__ import annotations

import json


NAME = "effects"
HELP = "list effects and their parameter specs"


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="print the full specs as JSON")


def run(args) -> int:
    from ..registry import EFFECTS

    if args.json:
        print(json.dumps([e.spec.describe() for e in EFFECTS.values()], indent=2))
        return 0
    print(f"{'effect':22s} {'category':11s} {'torch':6s} parameters (~: accepts a curve)")
    for e in EFFECTS.values():
        params = ", ".join(f"{p.name}{'~' if p.curve else ''} [{p.min:g}..{p.max:g}]" for p in e.spec.params[:4])
        more = f", ... ({e.spec.num_params} in all)" if e.spec.num_params > 4 else ""
        print(f"{e.name:22s} {e.spec.category:11s} {'yes' if e.torch_kernel else 'no':6s} {params}{more}")
    return 0
