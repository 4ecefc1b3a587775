"""Train the shipped blind estimators (one per setting) on CPU and save them to
src/drywet/data/blind/<setting>.safetensors (+ .json with the spec, the command and the
validation curve).

    python recipes/train_blind.py [--settings eq,compressor,clipper,chain] [--steps 800]
    # fine-tune saved weights with the audio loss (how the shipped EQ weights were made)
    python recipes/train_blind.py --settings eq --mode audio --init DIR --lr 3e-4 --steps 1000 --keep-best

Protocol (reduced for CPU, as the issue allows): 44.1 kHz mono, 1.5 s crops peak-normalized,
q ~ U(0, 1), batch 32, Adam with a one-cycle schedule, parameter loss (MSE on q); the compact
encoder; data from the "train" split of drywet.estimate.blind.data (by recording), validation
on the "valid" split. The test split is left for benchmarks/eval_estimation (drywet
eval-estimation).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from drywet.datasets import MusicCrops, music_files, split_files
from drywet.estimate.blind.model import BUNDLED, SETTINGS
from drywet.estimate.blind.train import MODES, TrainConfig, train

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--encoder", default="compact")
    parser.add_argument("--mode", default="param", choices=MODES)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--mix", type=float, default=0.0, help="probability that a training crop sums 2-3 recordings (MusicCrops)")
    parser.add_argument("--init", help="fine-tune: folder of <setting>.safetensors to start from (e.g. the shipped ones)")
    parser.add_argument("--keep-best", action="store_true", help="keep the weights of the best validation score")
    parser.add_argument("--extra-train", action="append", default=[], metavar="DIR",
                        help="a folder of more training music (recursive; repeatable), added to the train split")
    parser.add_argument("--extra-valid", action="append", default=[], metavar="DIR",
                        help="a folder of more validation music (repeatable), added to the valid split: "
                             "one loudly mastered mix alone makes --keep-best noisy")
    parser.add_argument("--valid-items", type=int, default=64, help="validation crops (one fixed draw)")
    parser.add_argument("--shared", default=str(SHARED), help="the shared data folder holding the train and valid splits")
    parser.add_argument("--device", default="cpu", help="torch device of the network, e.g. cuda")
    parser.add_argument("--workers", type=int, default=0, help="processes rendering training batches")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--ema", type=float, help="validate and keep a moving average of the weights with this decay (e.g. 0.99)")
    parser.add_argument("--max-minutes", type=float, help="stop early (keeping what was trained) past this time, e.g. inside a leased machine's call limit")
    parser.add_argument("--out", default=str(BUNDLED))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    crop = int(1.5 * 44100)
    files = split_files(Path(args.shared), "train") + [f for d in args.extra_train for f in music_files(Path(d))]
    train_crops = MusicCrops(files, sample_rate=44100, crop_samples=crop, mix=args.mix)
    print(f"train: {len(train_crops.signals)} recordings, {sum(s.size for s in train_crops.signals) / 44100 / 60:.0f} min", flush=True)
    valid_files = split_files(Path(args.shared), "valid") + [f for d in args.extra_valid for f in music_files(Path(d))]
    valid_crops = MusicCrops(valid_files, sample_rate=44100, crop_samples=crop)
    for setting in args.settings.split(","):
        print(f"== {setting}", flush=True)
        init = str(Path(args.init) / f"{setting}.safetensors") if args.init else None
        config = TrainConfig(SETTINGS[setting], encoder=args.encoder, mode=args.mode, steps=args.steps, lr=args.lr,
                             init=init, keep_best=args.keep_best, valid_items=args.valid_items, device=args.device, workers=args.workers,
                             max_seconds=None if args.max_minutes is None else 60 * args.max_minutes, ema=args.ema)
        estimator = train(config, train_crops, valid_crops, log=lambda m: print(m, flush=True))
        estimator.meta["command"] = "python " + " ".join(sys.argv)
        path = estimator.save(Path(args.out) / setting)
        print(f"saved {path}", flush=True)


if __name__ == "__main__":
    main()
