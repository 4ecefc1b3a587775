"""``drywet invariance``: how much a feature extractor or model moves under each effect."""

from __future__ import annotations


NAME = "invariance"
HELP = "how much a feature extractor or model moves under each effect"


def add_arguments(p) -> None:
    p.add_argument("folder", help="folder of audio clips")
    p.add_argument("--features", default="mfcc", help="mfcc, logmel, model.pt (TorchScript), module:function or file.py:function")
    p.add_argument("--classifier", action="store_true", help="outputs are class scores: also report top-1 agreement")
    p.add_argument("--effects", help="comma-separated effects (default: every effect with a strength parameter)")
    p.add_argument("--levels", default="0,0.25,0.5,0.75,1", help="strengths in [0, 1]")
    p.add_argument("--sample-rate", type=int, default=16000)
    p.add_argument("--crop-s", type=float, default=5.0, help="seconds per clip (the loudest part)")
    p.add_argument("--max-files", type=int, default=None)
    p.add_argument("--noise-dir", help="folder of noise recordings (adds noise_file)")
    p.add_argument("--ir-dir", help="folder of impulse responses (adds room_ir)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--out", default="drywet_invariance", help="folder for the table and plot")


def run(args) -> int:
    from pathlib import Path

    from ..analysis import invariance as inv

    levels = [float(v) for v in args.levels.split(",")]
    effects = [e for e in args.effects.split(",") if e.strip()] if args.effects else None
    options = {}
    if args.noise_dir:
        options["noise_file"] = {"noise_dir": args.noise_dir}
    if args.ir_dir:
        options["room_ir"] = {"ir_dir": args.ir_dir}
    clips = inv.load_clips(args.folder, args.sample_rate, args.crop_s, args.max_files)
    rows = inv.invariance(clips, args.sample_rate, inv.load_extractor(args.features), effects=effects, levels=levels,
                          classifier=args.classifier, seed=args.seed, options=options)
    print(f"{len(clips)} clips, features: {args.features}")
    print(inv.format_table(rows))
    written = inv.write_outputs(rows, Path(args.out))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
