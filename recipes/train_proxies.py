"""Train and evaluate drywet's neural proxies and device models (issue #5's tables).

Two steps, so the training can run on a machine without ../shared/data (a GPU box):

  # 1. cache the audio (music at 22.05 kHz split by recording, aligned device pairs)
  python recipes/train_proxies.py cache --data ../shared/data --out .gpucache
  # 2. train one job (or all of them in parallel) and write weights + metrics
  python recipes/train_proxies.py train --cache .gpucache --job comp_tcn_gain --minutes 7 --device cuda --out results/
  python recipes/train_proxies.py table results/    # print the tables for the README

Jobs: compressor proxies (TCN 8 channels with signal output; TCN 8 channels with gain output;
Wave-U-Net), per-processor TCNs (parametric EQ, noise reverb with a 0.5 s impulse response),
the chain EQ > compressor > reverb with a static order and with the order as conditioning, and
device models of the real pairs in ../shared/data/drywet. Metrics are on the test split
(music never seen in training: Brahms and the Bach chorale mix) or the held-out end of the pairs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from drywet.datasets import SPLITS, MusicCrops, split_files
from drywet.neural.device import DeviceConfig, Pair, fit_device, load_pairs
from drywet.neural.evaluate import evaluate_proxy
from drywet.neural.train import ProxyConfig, train_proxy

RATE = 22050
REVERB = {"noise_reverb": {"ir_length_s": 0.5}}
JOBS = {
    "comp_tcn_signal": dict(effects="compressor", network="tcn", output="signal", channels=8),
    "comp_tcn_gain": dict(effects="compressor", network="tcn", output="gain", channels=8),
    "comp_tcn_gain16": dict(effects="compressor", network="tcn", output="gain", channels=16),
    "comp_wave_unet": dict(effects="compressor", network="wave_unet", output="gain", channels=8, depth=5, lr=1e-3),
    "eq_tcn": dict(effects="parametric_eq", network="tcn", output="signal", channels=16),
    "reverb_tcn": dict(effects="noise_reverb", options=REVERB, network="tcn", output="signal", channels=16, causal=True),
    "chain_static": dict(effects="parametric_eq,compressor,noise_reverb", options=REVERB, network="tcn", output="signal",
                         channels=16, causal=True),
    "chain_order": dict(effects="parametric_eq,compressor,noise_reverb", options=REVERB, network="tcn", output="signal",
                        channels=16, causal=True, order_conditioning=True),
}
DEVICE_ROOT = "drywet"
DEVICES = {  # device model name -> [(dry, wet)] relative to ../shared/data/drywet
    "blackbox_linear": [("spatialaudio/xmas.flac", "spatialaudio/xmas_blackbox.flac")],
    "blackbox_nonlinear": [("spatialaudio/xmas.flac", "spatialaudio/xmas_blackbox_nonlinear.flac")],
    "room_clap": [("spatialaudio/xmas.flac", "spatialaudio/xmas_clap.flac")],
    "hall_arthur": [("reverb_pairs/dry/drums.flac", "reverb_pairs/wet/drums_arthur_s1r4_ch1.flac"),
                    ("reverb_pairs/dry/speech.flac", "reverb_pairs/wet/speech_arthur_s1r4_ch1.flac")],
}
DEVICE_RATE = 22050


def cache(args) -> None:
    data, out = Path(args.data), Path(args.out)
    from drywet import io

    out.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        signals = [io.read_audio(f, sample_rate=RATE, channels=1)[0][0].astype(np.float16) for f in split_files(data, split)]
        np.savez_compressed(out / f"music_{split}.npz", *signals)
    for name, files in DEVICES.items():
        pairs = load_pairs([(data / DEVICE_ROOT / d, data / DEVICE_ROOT / w) for d, w in files], DEVICE_RATE)
        np.savez_compressed(out / f"device_{name}.npz", **{f"{i}_{k}": getattr(p, k) for i, p in enumerate(pairs) for k in ("dry", "wet")},
                            meta=json.dumps([{"name": p.name, "latency": p.latency} for p in pairs]))
    print("cached to", out, sum(f.stat().st_size for f in out.iterdir()) // 1024, "KiB")


def _crops(cache_dir: Path, split: str, crop: int) -> MusicCrops:
    with np.load(cache_dir / f"music_{split}.npz") as z:
        return MusicCrops.from_signals([z[k].astype(np.float32) for k in z.files], sample_rate=RATE, crop_samples=crop)


def train(args) -> None:
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    if args.job in DEVICES:
        with np.load(Path(args.cache) / f"device_{args.job}.npz") as z:
            meta = json.loads(str(z["meta"]))
            pairs = [Pair(m["name"], z[f"{i}_dry"], z[f"{i}_wet"], m["latency"]) for i, m in enumerate(meta)]
        config = DeviceConfig(sample_rate=DEVICE_RATE, steps=args.steps, max_seconds=args.minutes * 60, device=args.device,
                              blocks=12, channels=16, batch=16)
        model, report = fit_device(pairs, config)
        model.save(out / args.job)
        result = {"job": args.job, "kind": "device", "receptive_field_s": model.receptive_field / DEVICE_RATE,
                  "parameters": int(sum(p.numel() for p in model.network.parameters())), "heldout": report,
                  "steps": config.history[-1]["step"], "seconds": round(time.time() - t0)}
    else:
        job = {**JOBS[args.job], **({"lr": args.lr} if args.lr else {})}
        config = ProxyConfig(sample_rate=RATE, steps=args.steps, max_seconds=args.minutes * 60, device=args.device,
                             batch=args.batch, valid_every=args.valid_every, init=args.init, **job)
        from drywet.neural.proxy import Proxy
        from drywet.neural.train import proxy_chain

        probe = Proxy.build(proxy_chain(config.effects, config.options), sample_rate=RATE, network=config.network,
                            order_conditioning=config.order_conditioning, **config.network_config())
        crop = int(config.output_s * RATE) + probe.network.valid_margin
        proxy = train_proxy(config, _crops(Path(args.cache), "train", crop), _crops(Path(args.cache), "valid", crop))
        proxy.save(out / args.job)
        test = _crops(Path(args.cache), "test", int(3 * RATE))
        metrics = {"all": evaluate_proxy(proxy, test, items=48, seed=7)}
        if proxy.order_conditioning:
            metrics["static_order"] = evaluate_proxy(proxy, test, items=48, seed=7, order=0)
        result = {"job": args.job, "kind": "proxy", "init": proxy.meta.get("init"), "effects": config.effects, "network": config.network,
                  "output": config.output, "channels": config.channels, "receptive_field_s": proxy.receptive_field / RATE,
                  "parameters": int(sum(p.numel() for p in proxy.network.parameters())), "test": metrics,
                  "steps": config.history[-1]["step"], "seconds": round(time.time() - t0)}
    (out / f"{args.job}.result.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


def table(args) -> None:
    rows = [json.loads(p.read_text()) for p in sorted(Path(args.results).glob("*.result.json"))]
    print("| model | effect(s) | params | receptive field | MAE | ESR | MCD (dB) | MR-STFT | steps |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["kind"] != "proxy":
            continue
        for variant, m in r["test"].items():
            name = r["job"] + (" (fine-tuned)" if r.get("init") else "") + ("" if variant == "all" else f" ({variant})")
            steps = f"{r['init']['steps']}+{r['steps']}" if r.get("init") else r["steps"]
            print(f"| {name} | {r['effects']} | {r['parameters']} | {r['receptive_field_s']:.3f} s | {m['mae']:.4f} | {m['esr']:.4f} "
                  f"| {m['mcd_db']:.2f} | {m['mrstft']:.3f} | {steps} |")
    print()
    print("| device | pair | params | receptive field | MAE model / dry | ESR model / dry | MR-STFT model / dry |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if r["kind"] != "device":
            continue
        for pair, m in r["heldout"].items():
            print(f"| {r['job']} | {pair} | {r['parameters']} | {r['receptive_field_s']:.2f} s | {m['model']['mae']:.4f} / {m['dry']['mae']:.4f} "
                  f"| {m['model']['esr']:.3f} / {m['dry']['esr']:.3f} | {m['model']['mrstft']:.3f} / {m['dry']['mrstft']:.3f} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cache")
    c.add_argument("--data", default="../shared/data")
    c.add_argument("--out", default=".gpucache")
    t = sub.add_parser("train")
    t.add_argument("--cache", default=".gpucache")
    t.add_argument("--job", required=True, choices=sorted(JOBS) + sorted(DEVICES))
    t.add_argument("--steps", type=int, default=100000)
    t.add_argument("--minutes", type=float, default=7.0)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--device", default="cpu")
    t.add_argument("--init", help="fine-tune these saved weights (same job) instead of starting from scratch")
    t.add_argument("--lr", type=float, help="peak learning rate (default: the job's)")
    t.add_argument("--valid-every", type=int, default=200)
    t.add_argument("--threads", type=int, help="torch CPU threads")
    t.add_argument("--out", default="recipes/proxy_results")
    r = sub.add_parser("table")
    r.add_argument("results")
    args = parser.parse_args(argv)
    {"cache": cache, "train": train, "table": table}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
