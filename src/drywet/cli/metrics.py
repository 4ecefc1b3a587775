"""``drywet metrics``: compare two audio files with every metric."""

from __future__ import annotations

import json
import sys

from ..errors import DrywetError
from .common import read_pair

NAME = "metrics"
HELP = "compare two audio files with every metric"


def add_arguments(p) -> None:
    p.add_argument("reference")
    p.add_argument("estimate")
    p.add_argument("--json", action="store_true")


def run(args) -> int:
    from .. import metrics

    ref, est, sr = read_pair(args.reference, args.estimate)
    if ref.shape != est.shape:
        n = min(ref.shape[1], est.shape[1])
        if ref.shape[0] != est.shape[0]:
            raise DrywetError(f"channel counts differ ({ref.shape[0]} vs {est.shape[0]}); convert one file first")
        print(f"note: lengths differ, comparing the first {n} samples", file=sys.stderr)
        ref, est = ref[:, :n], est[:, :n]
    table = metrics.compute_all(ref, est, sample_rate=sr)
    if args.json:
        print(json.dumps(table, indent=2))
    else:
        units = {name: unit for name, (_, _, unit, _) in metrics.METRICS.items()}
        for name, value in table.items():
            print(f"{name:30s} {value:12.5g} {units.get(name, 'LUFS')}")
    return 0
