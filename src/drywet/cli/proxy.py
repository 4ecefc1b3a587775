"""``drywet proxy``: train or evaluate a neural proxy of an effect."""

from __future__ import annotations

import sys

from ..errors import DrywetError
from .common import metrics_line, refuse_existing

NAME = "proxy"
HELP = "train or evaluate a neural proxy of an effect"


def add_arguments(p) -> None:
    psub = p.add_subparsers(dest="proxy_command", required=True)
    t = psub.add_parser("train", help="train a proxy on the fly from the effect's DSP and a folder of music")
    t.add_argument("--effect", help="effect or chain to imitate, e.g. compressor or parametric_eq,compressor")
    t.add_argument("--init", help="fine-tune this saved proxy (weights path); its effects and network settings are kept")
    t.add_argument("--lr", type=float, help="peak learning rate (default 3e-3; lower it to fine-tune)")
    t.add_argument("--data", required=True, help="folder of training audio")
    t.add_argument("--valid", help="folder of validation audio (other recordings)")
    t.add_argument("-o", "--output", required=True, help="weights path (.safetensors; a .json is written beside it)")
    t.add_argument("--network", default="tcn", choices=["tcn", "wave_unet"])
    t.add_argument("--output-kind", default="gain", choices=["gain", "signal", "residual"],
                   help="predict a gain g[n], the samples, or a correction added to the input")
    t.add_argument("--channels", type=int, default=8)
    t.add_argument("--blocks", type=int, default=10)
    t.add_argument("--causal", action="store_true")
    t.add_argument("--sample-rate", type=int, default=22050)
    t.add_argument("--steps", type=int, default=2000)
    t.add_argument("--minutes", type=float, help="stop after this many minutes (the learning rate anneals to it)")
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--augment", type=float, default=0.5, help="probability of each input augmentation (0 disables)")
    t.add_argument("--mixup", action="store_true")
    t.add_argument("--device", default="cpu")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--overwrite", action="store_true")
    e = psub.add_parser("eval", help="MAE, ESR, MCD and MR-STFT of a proxy against its effect on a folder of music")
    e.add_argument("model", help="weights path, or the name of a bundled proxy (compressor)")
    e.add_argument("--data", required=True)
    e.add_argument("--items", type=int, default=32)
    e.add_argument("--seconds", type=float, default=3.0)
    e.add_argument("--seed", type=int, default=0)


def _load_proxy(name_or_path: str):
    from pathlib import Path

    from ..neural.proxy import Proxy, bundled_proxy

    return Proxy.load(name_or_path) if Path(name_or_path).with_suffix(".json").is_file() else bundled_proxy(name_or_path)


def run(args) -> int:
    from pathlib import Path

    from ..datasets import AudioFolder
    from ..datasets import MusicCrops
    from ..neural.evaluate import evaluate_proxy

    if args.proxy_command == "eval":
        proxy = _load_proxy(args.model)
        crops = MusicCrops(AudioFolder(args.data, sample_rate=proxy.sample_rate).files, sample_rate=proxy.sample_rate,
                           crop_samples=int(args.seconds * proxy.sample_rate))
        names = ",".join(s.effect.name for s in proxy.chain.stages)
        print(f"{names}: {metrics_line(evaluate_proxy(proxy, crops, items=args.items, seed=args.seed))}")
        return 0
    from ..neural.proxy import Proxy
    from ..neural.train import ProxyConfig, proxy_chain, train_proxy

    out = Path(args.output).with_suffix(".safetensors")
    refuse_existing(out, args.overwrite)
    run = {"steps": args.steps, "max_seconds": args.minutes * 60 if args.minutes else None, "batch": args.batch,
           "mixup": args.mixup, "seed": args.seed, "device": args.device, "augment": args.augment}
    if args.init:  # fine-tuning: the network and what it imitates come from the saved proxy
        saved = Proxy.load(args.init).meta.get("training")
        if not saved:
            raise DrywetError(f"{args.init} has no training settings to continue from; train it with drywet proxy train")
        known = set(ProxyConfig.__dataclass_fields__) - {"history", "init"}
        config = ProxyConfig(**{**{k: v for k, v in saved.items() if k in known}, **run, "init": args.init,
                                **({"lr": args.lr} if args.lr else {})})
    elif not args.effect:
        raise DrywetError("name the effect to imitate with --effect (or continue a saved proxy with --init)")
    else:
        config = ProxyConfig(effects=args.effect, network=args.network, output=args.output_kind, channels=args.channels,
                             blocks=args.blocks, causal=args.causal, sample_rate=args.sample_rate,
                             **run, **({"lr": args.lr} if args.lr else {}))
    probe = Proxy.build(proxy_chain(config.effects, config.options), sample_rate=config.sample_rate, network=config.network,
                        **config.network_config())
    crop = int(config.output_s * config.sample_rate) + probe.network.valid_margin
    files = AudioFolder(args.data, sample_rate=config.sample_rate).files
    valid = MusicCrops(AudioFolder(args.valid, sample_rate=config.sample_rate).files, sample_rate=config.sample_rate,
                       crop_samples=crop) if args.valid else None
    proxy = train_proxy(config, MusicCrops(files, sample_rate=config.sample_rate, crop_samples=crop), valid)
    proxy.meta["command"] = "drywet proxy train " + " ".join(sys.argv[3:]) if len(sys.argv) > 2 else ""
    print(f"wrote {proxy.save(out)} ({proxy.meta.get('skipped_items', 0)} items skipped on black-box errors)")
    return 0
