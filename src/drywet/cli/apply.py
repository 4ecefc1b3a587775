"""``drywet apply``: apply a preset or one effect to an audio file."""

from __future__ import annotations

import argparse

import numpy as np

from ..errors import DrywetError
from .common import flag

NAME = "apply"
HELP = "apply a preset or one effect to an audio file"
PARSER = dict(add_help=False, description="Flags of --effect come from its spec; see `drywet apply --effect NAME --help`.")


def add_arguments(p) -> None:
    p.add_argument("-h", "--help", action="store_true", help="show this help (with --effect: that effect's flags)")
    p.add_argument("input", nargs="?")
    p.add_argument("output", nargs="?")
    p.add_argument("--preset", help="chain preset (.yaml or .json)")
    p.add_argument("--effect", help="one effect by name; its parameters as flags (e.g. --threshold-db -20)")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--normalize", action="store_true", help="scale to -0.1 dBFS peak instead of clipping")


def _curve_flag(name: str):
    """argparse type of a parameter that takes a curve: "300" or "300,8000,300" (points spread
    evenly over the file and interpolated, drywet.dsp.curves)."""

    def parse(text: str):
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag(name)} takes a number or comma-separated numbers (a curve), not {text!r}") from None
        return values[0] if len(values) == 1 else np.array(values)

    return parse


def _effect_parser(effect) -> argparse.ArgumentParser:
    """Flags generated from the spec: --threshold-db, --ratio, ... (curve parameters also take
    comma-separated points, e.g. --freq-hz 300,8000,300)."""
    parser = argparse.ArgumentParser(prog=f"drywet apply --effect {effect.name}", add_help=False)
    for p in effect.spec.params:
        curve = "; or a curve: comma-separated values spread over the file" if p.curve else ""
        parser.add_argument(flag(p.name), dest=p.name, type=_curve_flag(p.name) if p.curve else float, default=None,
                            help=f"{p.doc} ({p.unit or 'no unit'}, {p.min:g}..{p.max:g}, default {p.default:g}{curve})")
    for o in effect.spec.options:
        kind = type(o.default) if isinstance(o.default, (int, float)) and not isinstance(o.default, bool) else str
        parser.add_argument(flag(o.name), dest=o.name, type=kind, default=None, choices=o.choices or None, help=o.doc)
    return parser


def run(args) -> int:
    extra, apply_parser = args.extra, args.parser
    from .. import io
    from ..chain import Chain, Stage
    from ..graph import load
    from ..registry import get_effect

    if args.help:
        if args.effect:
            _effect_parser(get_effect(args.effect)).print_help()
        else:
            apply_parser.print_help()
        return 0
    if args.input is None or args.output is None:
        raise DrywetError("apply needs INPUT and OUTPUT paths, e.g. drywet apply in.wav out.wav --preset preset.yaml")
    if (args.preset is None) == (args.effect is None):
        raise DrywetError("give either --preset FILE or --effect NAME (with its parameter flags)")
    if args.preset:
        if extra:
            raise DrywetError(f"unexpected arguments {list(extra)}; parameter flags go with --effect, not --preset")
        chain = load(args.preset)  # a chain, or any single-signal graph
        if chain.takes_tracks:
            raise DrywetError(f"{args.preset} describes a multitrack {type(chain).__name__}: it renders stems, not one file; "
                              "render it from Python: drywet.graph.load(path)(stems, sample_rate=sr)")
    else:
        effect = get_effect(args.effect)
        parser = _effect_parser(effect)
        values, unknown = parser.parse_known_args(list(extra))
        if unknown:
            names = ", ".join(flag(n) for n in (*effect.spec.param_names, *effect.spec.option_names))
            raise DrywetError(f"{effect.name} has no flag(s) {unknown}; its flags are: {names}")
        given = {k: v for k, v in vars(values).items() if v is not None}
        params = {k: v for k, v in given.items() if k in effect.spec.param_names}
        options = {k: v for k, v in given.items() if k not in effect.spec.param_names}
        chain = Chain([Stage.create(effect.name, params, options)])
    x, sr = io.read_audio(args.input)
    y = chain(x, sample_rate=sr)
    io.write_audio(args.output, y, sample_rate=sr, overwrite=args.overwrite, normalize=args.normalize)
    print(f"wrote {args.output} ({y.shape[0]} ch, {y.shape[1] / sr:.2f} s, {sr} Hz)")
    return 0
