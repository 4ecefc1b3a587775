"""``drywet eval-estimation``: evaluate the bundled blind estimators on a folder of music."""

from __future__ import annotations


NAME = "eval-estimation"
HELP = "evaluate the bundled blind estimators on a folder of music"


def add_arguments(p) -> None:
    p.add_argument("--data", required=True, help="folder of music the models never saw")
    p.add_argument("--settings", default="eq,compressor,clipper,chain")
    p.add_argument("--weights", help="folder of <setting>.safetensors to evaluate instead of the bundled ones "
                   "(what drywet.estimate.blind.train.train saves with BlindEstimator.save)")
    p.add_argument("--items", type=int, default=64, help="random chains per setting")
    p.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    from pathlib import Path

    from ..estimate.blind import BlindEstimator, bundled_estimator
    from ..datasets import MusicCrops
    from ..estimate.blind.evaluate import HEADER, evaluate, format_row

    settings = args.settings.split(",")
    if args.weights:
        estimators = {s: BlindEstimator.load(Path(args.weights) / f"{s}.safetensors") for s in settings}
    else:
        estimators = {s: bundled_estimator(s) for s in settings}
    first = next(iter(estimators.values()))
    from ..datasets import AudioFolder

    crops = MusicCrops(AudioFolder(args.data, sample_rate=first.sample_rate).files, sample_rate=first.sample_rate,
                       crop_samples=first.window)
    print(f"{len(crops.signals)} recordings from {args.data}; {args.items} random chains per setting (seed {args.seed})")
    print(HEADER)
    for name, est in estimators.items():
        print(format_row(name, evaluate(est, crops, items=args.items, seed=args.seed)), flush=True)
    return 0
