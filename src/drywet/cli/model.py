"""``drywet model``: neural model of a real device from paired recordings."""

from __future__ import annotations

from .common import metrics_line, refuse_existing

NAME = "model"
HELP = "neural model of a real device from paired recordings"


def add_arguments(p) -> None:
    msub = p.add_subparsers(dest="model_command", required=True)
    f = msub.add_parser("fit", help="fit a causal TCN to aligned dry/wet pairs and report held-out metrics")
    f.add_argument("--dry", required=True, help="folder of inputs")
    f.add_argument("--wet", required=True, help="folder of outputs, named like the inputs (song.wav or song_*.wav)")
    f.add_argument("-o", "--output", required=True)
    f.add_argument("--sample-rate", type=int, default=22050)
    f.add_argument("--steps", type=int, default=2000)
    f.add_argument("--minutes", type=float)
    f.add_argument("--channels", type=int, default=16)
    f.add_argument("--blocks", type=int, default=12, help="dilated blocks (receptive field doubles per block)")
    f.add_argument("--holdout", type=float, default=0.25, help="fraction at the end of every pair kept for evaluation")
    f.add_argument("--device", default="cpu")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--overwrite", action="store_true")
    a = msub.add_parser("apply", help="run a fitted device model on a file")
    a.add_argument("model")
    a.add_argument("input")
    a.add_argument("-o", "--output", required=True)
    a.add_argument("--overwrite", action="store_true")


def run(args) -> int:
    from pathlib import Path

    from .. import io

    if args.model_command == "apply":
        from ..neural.proxy import Proxy

        refuse_existing(args.output, args.overwrite)
        model = Proxy.load(args.model)
        x, rate = io.read_audio(args.input)
        # the model runs at its own rate; the output keeps the input's rate, like every other command
        y = io.resample(model.process(io.resample(x, rate, model.sample_rate), sample_rate=model.sample_rate),
                        model.sample_rate, rate)
        io.write_audio(args.output, y, sample_rate=rate, overwrite=args.overwrite)
        print(f"wrote {args.output} ({rate} Hz; the model ran at {model.sample_rate} Hz)")
        return 0
    from ..neural.device import DeviceConfig, find_pairs, fit_device, load_pairs

    out = Path(args.output).with_suffix(".safetensors")
    refuse_existing(out, args.overwrite)
    pairs = load_pairs(find_pairs(Path(args.dry), Path(args.wet)), args.sample_rate)
    config = DeviceConfig(sample_rate=args.sample_rate, steps=args.steps, max_seconds=args.minutes * 60 if args.minutes else None,
                          channels=args.channels, blocks=args.blocks, holdout=args.holdout, device=args.device, seed=args.seed)
    model, report = fit_device(pairs, config)
    print(f"receptive field {model.receptive_field / args.sample_rate:.2f} s; held-out metrics (model vs no model):")
    for name, m in report.items():
        print(f"  {name} (latency {m['latency_samples']} samples, {m['heldout_s']} s held out)")
        print(f"    model: {metrics_line(m['model'])}")
        print(f"    dry:   {metrics_line(m['dry'])}")
    print(f"wrote {model.save(out)}")
    return 0
