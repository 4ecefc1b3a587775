"""The ``drywet`` command. Errors go to stderr with exit code 2 and say how to fix them."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence

import numpy as np

from .errors import DrywetError


def _flag(param_name: str) -> str:
    return "--" + param_name.replace("_", "-")


def cmd_effects(args) -> int:
    from .registry import EFFECTS

    if args.json:
        print(json.dumps([e.spec.describe() for e in EFFECTS.values()], indent=2))
        return 0
    print(f"{'effect':22s} {'category':11s} {'torch':6s} parameters (~: accepts a curve)")
    for e in EFFECTS.values():
        params = ", ".join(f"{p.name}{'~' if p.curve else ''} [{p.min:g}..{p.max:g}]" for p in e.spec.params[:4])
        more = f", ... ({e.spec.num_params} in all)" if e.spec.num_params > 4 else ""
        print(f"{e.name:22s} {e.spec.category:11s} {'yes' if e.torch_kernel else 'no':6s} {params}{more}")
    return 0


def _curve_flag(name: str):
    """argparse type of a parameter that takes a curve: "300" or "300,8000,300" (points spread
    evenly over the file and interpolated, drywet.dsp.curves)."""

    def parse(text: str):
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{_flag(name)} takes a number or comma-separated numbers (a curve), not {text!r}") from None
        return values[0] if len(values) == 1 else np.array(values)

    return parse


def _effect_parser(effect) -> argparse.ArgumentParser:
    """Flags generated from the spec: --threshold-db, --ratio, ... (curve parameters also take
    comma-separated points, e.g. --freq-hz 300,8000,300)."""
    parser = argparse.ArgumentParser(prog=f"drywet apply --effect {effect.name}", add_help=False)
    for p in effect.spec.params:
        curve = "; or a curve: comma-separated values spread over the file" if p.curve else ""
        parser.add_argument(_flag(p.name), dest=p.name, type=_curve_flag(p.name) if p.curve else float, default=None,
                            help=f"{p.doc} ({p.unit or 'no unit'}, {p.min:g}..{p.max:g}, default {p.default:g}{curve})")
    for o in effect.spec.options:
        kind = type(o.default) if isinstance(o.default, (int, float)) and not isinstance(o.default, bool) else str
        parser.add_argument(_flag(o.name), dest=o.name, type=kind, default=None, choices=o.choices or None, help=o.doc)
    return parser


def cmd_apply(args, extra: Sequence[str], apply_parser: argparse.ArgumentParser) -> int:
    from . import io
    from .chain import Chain, Stage
    from .registry import get_effect

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
        chain = Chain.load(args.preset)
    else:
        effect = get_effect(args.effect)
        parser = _effect_parser(effect)
        values, unknown = parser.parse_known_args(list(extra))
        if unknown:
            names = ", ".join(_flag(n) for n in (*effect.spec.param_names, *effect.spec.option_names))
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


def cmd_random_chain(args) -> int:
    from .chain import Chain

    chain = Chain.from_names(args.effects).sample(
        np.random.default_rng(args.seed), random_order=args.random_order, bypass_prob=args.bypass_prob
    )
    chain.save(args.output, overwrite=args.overwrite)
    print(chain)
    print(f"wrote {args.output}")
    return 0


def _read_pair(first: str, second: str):
    """Two files at one sample rate: (a, b, sample_rate)."""
    from . import io

    a, sr = io.read_audio(first)
    b, sr_b = io.read_audio(second)
    if sr_b != sr:
        raise DrywetError(f"sample rates differ ({sr} vs {sr_b} Hz); resample one file first")
    return a, b, sr


def _read_dry_wet(dry_path: str, wet_path: str, *, resample: str = "wet", same_channels: bool = True):
    """A dry/wet pair at one sample rate (``resample``: which file is read at the other's rate)
    and, when the lengths differ, aligned: the dry put on the wet's timeline (the wet, the
    audio that match explains or invert restores, is never shifted). A note for each change."""
    from . import io
    from .dsp.align import MAX_LAG_S, align_to_wet

    dry, dry_sr = io.read_audio(dry_path)
    wet, wet_sr = io.read_audio(wet_path)
    sr = dry_sr if resample == "wet" else wet_sr
    if wet_sr != dry_sr:
        path, other = (wet_path, "dry") if resample == "wet" else (dry_path, "wet")
        audio, _ = io.read_audio(path, sample_rate=sr)
        dry, wet = (dry, audio) if resample == "wet" else (audio, wet)
        print(f"note: the {resample} file was resampled from {wet_sr if resample == 'wet' else dry_sr} to {sr} Hz, "
              f"the {other} file's rate", file=sys.stderr)
    if same_channels and dry.shape[0] != wet.shape[0]:
        raise DrywetError(f"channel counts differ (dry {dry.shape[0]}, wet {wet.shape[0]}): the chains that match fits keep "
                          "the channel count; convert one file (e.g. both to mono) first")
    if dry.shape[1] != wet.shape[1]:
        lengths = f"dry {dry.shape[1]}, wet {wet.shape[1]} samples"
        dry, lag = align_to_wet(dry, wet, sr)
        print(f"note: the lengths differ ({lengths}): the dry was shifted by the wet's latency, {lag} samples (GCC-PHAT "
              f"peak within {1000 * MAX_LAG_S:g} ms), and cut or zero-padded to the wet's length", file=sys.stderr)
    return dry, wet, sr


def _refuse_existing(path, overwrite: bool) -> None:
    """An existing output is refused before the work (estimation, inversion: minutes on long
    files), not after it."""
    from pathlib import Path

    if path and Path(path).exists() and not overwrite:
        raise DrywetError(f"{path} exists; pass --overwrite or choose another name")


def cmd_metrics(args) -> int:
    from . import metrics

    ref, est, sr = _read_pair(args.reference, args.estimate)
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


def cmd_match(args) -> int:
    from . import io, metrics
    from .estimate import match_chain
    from .report import write_report

    _refuse_existing(args.output, args.overwrite)
    dry, wet, sr = _read_dry_wet(args.dry, args.wet)
    if args.optimizer == "cmaes":
        from .estimate import match_chain_blackbox

        result = match_chain_blackbox(dry, wet, sample_rate=sr, effects=args.chain, loss=args.loss, budget=args.budget, seed=args.seed)
    else:
        result = match_chain(dry, wet, sample_rate=sr, effects=args.chain, loss=args.loss, restarts=args.restarts,
                             steps=args.steps, seed=args.seed, init=args.init)
    from .estimate.uncertainty import parameter_uncertainty

    # what sounds the same as the estimate: a wide range means the pair does not pin it down
    uncertainty = parameter_uncertainty(result.chain, dry, sample_rate=sr)
    print(f"{'stage':16s} {'parameter':22s} {'value':>12s}  sounds the same within (log-mel RMS {uncertainty.tolerance})")
    ranges = uncertainty.intervals()
    for row in ranges:
        flag = "" if row["identifiable"] else "  (not identifiable here)"
        print(f"{row['stage']:16s} {row['param']:22s} {row['value']:12.5g}  [{row['low']:.4g}, {row['high']:.4g}] {row['unit']}{flag}")
    print(f"loss {result.loss:.4f} (dry vs wet: {result.loss_dry:.4f}, ratio {result.loss_ratio:.3f}) in {result.seconds:.1f} s")
    result.chain.save(args.output, overwrite=args.overwrite)
    print(f"wrote {args.output}")
    if args.report:
        from pathlib import Path

        report = Path(args.report)
        y_hat = result.chain(dry, sample_rate=sr)
        estimate_path = report.with_name(report.stem + "_estimate.wav")
        io.write_audio(estimate_path, y_hat, sample_rate=sr, overwrite=args.overwrite, normalize=True)
        rel = lambda p: Path(p).resolve().as_uri()  # noqa: E731 - the report may live elsewhere
        write_report(report, title="drywet match: estimated chain", chain=result.chain, sample_rate=sr,
                     signals=[("dry", dry, rel(args.dry)), ("wet", wet, rel(args.wet)), ("estimate", y_hat, estimate_path.name)],
                     metrics=metrics.compute_all(wet, y_hat, sample_rate=sr), ranges=ranges)
        print(f"wrote {report}")
    return 0


def cmd_augment(args) -> int:
    from pathlib import Path

    from .augment import Augment
    from .augment.folder import Job, run_job

    job = Job(Path(args.in_dir), Path(args.out_dir), Augment.load(args.preset), args.copies, args.seed, args.format)
    summary = run_job(job, workers=args.workers, backend=args.backend, ray_address=args.ray_address, progress=not args.quiet)
    failed = len(summary.failed)
    print(
        f"{summary.written} written, {summary.skipped} already done, {failed} failed "
        f"(of {summary.inputs} inputs); manifest: {job.out_dir / 'manifest.csv'}"
    )
    return 0 if summary.ok else 1


def cmd_invariance(args) -> int:
    from pathlib import Path

    from .analysis import invariance as inv

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


def _si_sdr(reference, estimate) -> float:
    import torch

    from .metrics import si_sdr

    return float(si_sdr(torch.as_tensor(np.asarray(reference, np.float64)), torch.as_tensor(np.asarray(estimate, np.float64))))


def _logmel(reference, estimate, *, sample_rate) -> float:
    import torch

    from .metrics import logmel_l1

    ref, est = (torch.as_tensor(np.asarray(a, np.float32)) for a in (reference, estimate))
    return float(logmel_l1(ref, est, sample_rate=sample_rate))


def cmd_declip(args) -> int:
    from . import io
    from .dsp.declip import declip, find_clipped

    _refuse_existing(args.output, args.overwrite)
    x, sr = io.read_audio(args.input)
    if not np.any(x):
        raise DrywetError(f"{args.input} is silent: there is nothing to declip")
    if args.level_db is not None:
        if args.level_db > 0:
            raise DrywetError(f"--level-db {args.level_db:g} is above full scale: give the clipping level in dBFS (<= 0)")
        unreliable = np.abs(x) >= 10.0 ** (args.level_db / 20.0)
        how = f"at or above {args.level_db:g} dBFS"
    else:
        unreliable = find_clipped(x, min_run=args.min_run)
        how = f"held at a channel's extreme for {args.min_run}+ samples"
    for channel, (row, mask) in enumerate(zip(x, unreliable)):
        print(f"channel {channel}: {100 * mask.mean():.3f} % of samples clipped ({how})")
    if not unreliable.any():
        print("no clipped samples found: the output equals the input (if the clipping was smoothed by a codec or dither, "
              "give its level with --level-db)")
    restored = declip(x, unreliable, sample_rate=sr, ceiling_db=args.ceiling_db)
    peak = float(np.abs(restored).max())
    out = io.write_audio(args.output, restored, sample_rate=sr, subtype="FLOAT", overwrite=args.overwrite)
    print(f"wrote {out} (32-bit float; peak {20 * np.log10(peak):+.2f} dBFS" + (": lower the gain before converting to a fixed-point format)" if peak > 1 else ")"))
    return 0


def cmd_invert(args) -> int:
    import html
    from pathlib import Path

    from . import io, metrics
    from .chain import Chain
    from .invert import BLIND_DYNAMICS_STRENGTH, invert_chain
    from .invert.chain import check_dynamics_strength, uses_dynamics_strength
    from .registry import get_effect
    from .report import write_report

    _refuse_existing(args.output, args.overwrite)
    if args.dynamics_strength is not None:  # checked before a minute of estimation, not after
        check_dynamics_strength(args.dynamics_strength)
    wet, sr = io.read_audio(args.input)
    if not np.any(wet):
        raise DrywetError(f"{args.input} is silent: there is nothing to invert")
    if (args.preset is None) == (not args.estimate):
        raise DrywetError("give either --preset FILE (known parameters) or --estimate (blind estimation first)")
    dry = None
    if args.dry:
        # the wet's rate and length are the output's; the dry is only the reference
        dry, wet, sr = _read_dry_wet(args.dry, args.input, resample="dry", same_channels=False)
    if args.estimate:
        from .estimate.blind import bundled_estimator

        chain = bundled_estimator(args.estimate, for_inversion=True).estimate(wet, sample_rate=sr)
        print(f"estimated blindly ({args.estimate}):")
        for row in chain.describe():
            print(f"  {row['stage']:16s} {row['param']:22s} {row['value']:12.5g} {row['unit']}")
    else:
        chain = Chain.load(args.preset)
    strength = args.dynamics_strength
    if strength is None:
        strength = BLIND_DYNAMICS_STRENGTH if args.estimate else 1.0
    result = invert_chain(wet, chain, sample_rate=sr, input_channels=dry.shape[0] if dry is not None else None,
                          estimated=bool(args.estimate or args.estimated), dynamics_strength=strength)
    out = io.write_audio(args.output, result.audio, sample_rate=sr, subtype="FLOAT", overwrite=args.overwrite)
    print(f"wrote {out}")
    rows = []
    for i, stage in reversed(list(enumerate(result.stages))):
        line = f"undo {stage.key:18s}"
        if dry is not None:  # compare with the true signal at that point of the chain
            truth = Chain(chain.stages[:i])(dry, sample_rate=sr) if i else dry
            if truth.shape == stage.audio.shape:
                line += f" SI-SDR vs the true signal before it {_si_sdr(truth, stage.audio):7.2f} dB"
        described = list(stage.notes)
        if uses_dynamics_strength(get_effect(stage.effect)) and strength < 1.0:
            described.insert(0, f"model inverse undoing {strength:g} of the gain reduction in dB (--dynamics-strength)")
        print(line + ("; " + "; ".join(described) if described else ""))
        rows.append((stage.key, described or ["exact model inverse"]))
    summary = {}
    if dry is not None:
        summary = {
            "si_sdr_wet_db": _si_sdr(dry, wet) if wet.shape == dry.shape else float("nan"),
            "si_sdr_restored_db": _si_sdr(dry, result.audio),
            "logmel_wet": _logmel(dry, wet, sample_rate=sr) if wet.shape == dry.shape else float("nan"),
            "logmel_restored": _logmel(dry, result.audio, sample_rate=sr),
        }
        print("dry vs wet: SI-SDR {si_sdr_wet_db:.2f} dB, log-mel {logmel_wet:.4f}; "
              "dry vs restored: SI-SDR {si_sdr_restored_db:.2f} dB, log-mel {logmel_restored:.4f}".format(**summary))
    if args.report:
        report = Path(args.report)
        rel = lambda p: Path(p).resolve().as_uri()  # noqa: E731 - the report may live elsewhere
        signals = [("wet (input)", wet, rel(args.input)), ("restored", result.audio, rel(out))]
        if dry is not None:
            signals.append(("dry (reference)", dry, rel(args.dry)))
        for i, stage in enumerate(result.stages[1:], start=1):  # the intermediate steps
            path = report.with_name(f"{report.stem}_after_undo_{i}_{stage.key}.wav")
            io.write_audio(path, stage.audio, sample_rate=sr, subtype="FLOAT", overwrite=True)
            signals.append((f"after undoing {stage.key} and later stages", stage.audio, path.name))
        loud = {"loudness_wet_lufs": metrics.integrated_loudness(wet, sample_rate=sr),
                "loudness_restored_lufs": metrics.integrated_loudness(result.audio, sample_rate=sr)}
        table = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape('; '.join(n))}</li>" for k, n in rows)
        write_report(report, title="drywet invert: restored audio", chain=chain, sample_rate=sr, signals=signals,
                     metrics={**summary, **loud}, notes=f"Stages undone last to first:<ul>{table}</ul>")
        print(f"wrote {report}")
    return 0


def cmd_estimate(args) -> int:
    from pathlib import Path

    from . import io
    from .estimate.blind import bundled_estimator
    from .report import write_report

    _refuse_existing(args.output, args.overwrite)
    estimator = bundled_estimator(args.setting, for_inversion=args.for_inversion)
    wet, sr = io.read_audio(args.input)
    chain = estimator.estimate(wet, sample_rate=sr)
    for row in chain.describe():
        print(f"{row['stage']:16s} {row['param']:22s} {row['value']:12.5g} {row['unit']}")
    if args.output:
        chain.save(args.output, overwrite=args.overwrite)
        print(f"wrote {args.output}")
    if args.report:
        rel = Path(args.input).resolve().as_uri()
        write_report(args.report, title=f"drywet estimate (blind, {args.setting})", chain=chain, sample_rate=sr,
                     signals=[("input (wet)", wet, rel)],
                     notes="Parameters estimated from the wet audio alone by the bundled analysis network "
                           f"({estimator.meta.get('encoder')} encoder).")
        print(f"wrote {args.report}")
    return 0


def cmd_eval_estimation(args) -> int:
    from pathlib import Path

    from .estimate.blind import BlindEstimator, bundled_estimator
    from .estimate.blind.data import MusicCrops
    from .estimate.blind.evaluate import HEADER, evaluate, format_row

    settings = args.settings.split(",")
    if args.weights:
        estimators = {s: BlindEstimator.load(Path(args.weights) / f"{s}.safetensors") for s in settings}
    else:
        estimators = {s: bundled_estimator(s) for s in settings}
    first = next(iter(estimators.values()))
    from .augment.torch_data import AudioFolder

    crops = MusicCrops(AudioFolder(args.data, sample_rate=first.sample_rate).files, sample_rate=first.sample_rate,
                       crop_samples=first.window)
    print(f"{len(crops.signals)} recordings from {args.data}; {args.items} random chains per setting (seed {args.seed})")
    print(HEADER)
    for name, est in estimators.items():
        print(format_row(name, evaluate(est, crops, items=args.items, seed=args.seed)), flush=True)
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    result = run_demo(args.out, seed=args.seed, effects=args.effects, overwrite=args.overwrite, estimate=not args.no_estimate)
    print(result["chain"])
    print(f"wrote {result['dry.wav']}, {result['wet.wav']}, {result['restored.wav']}, {result['chain.yaml']}")
    print(f"open {result['report.html']} in a browser")
    return 0


def _load_proxy(name_or_path: str):
    from pathlib import Path

    from .neural.proxy import Proxy, bundled_proxy

    return Proxy.load(name_or_path) if Path(name_or_path).with_suffix(".json").is_file() else bundled_proxy(name_or_path)


def _metrics_line(m: dict) -> str:
    return f"MAE {m['mae']:.5f}  ESR {m['esr']:.5f}  MCD {m['mcd_db']:.2f} dB  MR-STFT {m['mrstft']:.4f}"


def cmd_proxy(args) -> int:
    from pathlib import Path

    from .augment.torch_data import AudioFolder
    from .estimate.blind.data import MusicCrops
    from .neural.evaluate import evaluate_proxy

    if args.proxy_command == "eval":
        proxy = _load_proxy(args.model)
        crops = MusicCrops(AudioFolder(args.data, sample_rate=proxy.sample_rate).files, sample_rate=proxy.sample_rate,
                           crop_samples=int(args.seconds * proxy.sample_rate))
        names = ",".join(s.effect.name for s in proxy.chain.stages)
        print(f"{names}: {_metrics_line(evaluate_proxy(proxy, crops, items=args.items, seed=args.seed))}")
        return 0
    from .neural.proxy import Proxy
    from .neural.train import ProxyConfig, proxy_chain, train_proxy

    out = Path(args.output).with_suffix(".safetensors")
    if out.exists() and not args.overwrite:
        raise DrywetError(f"{out} exists; pass --overwrite or choose another name")
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


def cmd_model(args) -> int:
    from pathlib import Path

    from . import io

    if args.model_command == "apply":
        from .neural.proxy import Proxy

        _refuse_existing(args.output, args.overwrite)
        model = Proxy.load(args.model)
        x, rate = io.read_audio(args.input)
        # the model runs at its own rate; the output keeps the input's rate, like every other command
        y = io.resample(model.process(io.resample(x, rate, model.sample_rate), sample_rate=model.sample_rate),
                        model.sample_rate, rate)
        io.write_audio(args.output, y, sample_rate=rate, overwrite=args.overwrite)
        print(f"wrote {args.output} ({rate} Hz; the model ran at {model.sample_rate} Hz)")
        return 0
    from .neural.device import DeviceConfig, find_pairs, fit_device, load_pairs

    out = Path(args.output).with_suffix(".safetensors")
    if out.exists() and not args.overwrite:
        raise DrywetError(f"{out} exists; pass --overwrite or choose another name")
    pairs = load_pairs(find_pairs(Path(args.dry), Path(args.wet)), args.sample_rate)
    config = DeviceConfig(sample_rate=args.sample_rate, steps=args.steps, max_seconds=args.minutes * 60 if args.minutes else None,
                          channels=args.channels, blocks=args.blocks, holdout=args.holdout, device=args.device, seed=args.seed)
    model, report = fit_device(pairs, config)
    print(f"receptive field {model.receptive_field / args.sample_rate:.2f} s; held-out metrics (model vs no model):")
    for name, m in report.items():
        print(f"  {name} (latency {m['latency_samples']} samples, {m['heldout_s']} s held out)")
        print(f"    model: {_metrics_line(m['model'])}")
        print(f"    dry:   {_metrics_line(m['dry'])}")
    print(f"wrote {model.save(out)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .demo import DEFAULT_EFFECTS
    from .estimate.informed import INITS, LOSSES

    parser = argparse.ArgumentParser(prog="drywet", description="Audio quality simulation and inversion.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("effects", help="list effects and their parameter specs")
    p.add_argument("--json", action="store_true", help="print the full specs as JSON")

    p = sub.add_parser("apply", help="apply a preset or one effect to an audio file", add_help=False,
                       description="Flags of --effect come from its spec; see `drywet apply --effect NAME --help`.")
    p.add_argument("-h", "--help", action="store_true", help="show this help (with --effect: that effect's flags)")
    parser.apply_parser = p
    p.add_argument("input", nargs="?")
    p.add_argument("output", nargs="?")
    p.add_argument("--preset", help="chain preset (.yaml or .json)")
    p.add_argument("--effect", help="one effect by name; its parameters as flags (e.g. --threshold-db -20)")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--normalize", action="store_true", help="scale to -0.1 dBFS peak instead of clipping")

    p = sub.add_parser("random-chain", help="sample a random chain and save it as a preset")
    p.add_argument("--effects", default="eq,compressor,clipper", help="comma-separated effect names")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--random-order", action="store_true")
    p.add_argument("--bypass-prob", type=float, default=0.0)
    p.add_argument("-o", "--output", required=True, help="preset file (.yaml or .json)")
    p.add_argument("--overwrite", action="store_true")

    p = sub.add_parser("metrics", help="compare two audio files with every metric")
    p.add_argument("reference")
    p.add_argument("estimate")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("match", help="estimate a chain's parameters from a dry/wet pair (analysis by synthesis)")
    p.add_argument("--dry", required=True)
    p.add_argument("--wet", required=True)
    p.add_argument("--chain", default="eq,compressor,clipper", help="comma-separated effects, in order")
    p.add_argument("-o", "--output", required=True, help="preset to write (.yaml or .json)")
    p.add_argument("--report", help="optional HTML report path")
    p.add_argument("--loss", default="logmel", choices=LOSSES)
    p.add_argument("--optimizer", default="adam", choices=["adam", "cmaes"],
                   help="adam: gradients through the torch twins; cmaes: black-box search (any effect, e.g. codecs)")
    p.add_argument("--budget", type=int, default=600, help="chain evaluations for cmaes")
    p.add_argument("--restarts", type=int, default=4)
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--init", default="transfer", choices=INITS,
                   help="transfer: leading EQ/filter stages start from fits of the pair's transfer function; random: random starts only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true")

    p = sub.add_parser("augment", help="augment a folder of audio (manifest, atomic writes, resumable)")
    p.add_argument("in_dir", help="folder of audio (read only)")
    p.add_argument("out_dir", help="new or empty folder, or the folder of a job to resume")
    p.add_argument("--preset", default="default", help="augmentation or chain preset file, or a bundled name: default, telephone, media")
    p.add_argument("--copies", type=int, default=1, help="augmented copies per input")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes (a file that crashes one is retried alone, then reported); 0 renders in this process")
    p.add_argument("--backend", default="local", choices=["local", "ray"])
    p.add_argument("--ray-address", default=None, help="Ray cluster address ('auto', 'ray://host:10001'); default starts a local Ray")
    p.add_argument("--format", default="wav", choices=["wav", "flac"], help="wav: 32-bit float (no clipping); flac: 24-bit")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("invariance", help="how much a feature extractor or model moves under each effect")
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

    p = sub.add_parser("invert", help="undo a chain with known parameters (model-based inversion)")
    p.add_argument("input", help="processed (wet) audio")
    p.add_argument("-o", "--output", required=True, help="restored audio (32-bit float wav/flac)")
    p.add_argument("--preset", help="the chain that was applied (e.g. from drywet match)")
    p.add_argument("--estimate", nargs="?", const="chain", choices=["eq", "compressor", "clipper", "chain"],
                   help="estimate the chain blindly first (bundled estimator; default: chain)")
    p.add_argument("--estimated", action="store_true",
                   help="the preset holds estimates (drywet estimate or match): make them consistent with the audio first "
                        "(implied by --estimate)")
    p.add_argument("--dynamics-strength", type=float,
                   help="fraction (in dB) of a compressor's or limiter's gain reduction to add back: 1 is the exact inverse "
                        "(default), 0.5 with --estimate (blind estimates are noisy; also advised for presets from drywet estimate)")
    p.add_argument("--dry", help="the original, to score the restoration")
    p.add_argument("--report", help="optional HTML report path")
    p.add_argument("--overwrite", action="store_true")

    p = sub.add_parser("declip", help="restore a clipped recording (clipped samples found, then S-SPADE declipping)")
    p.add_argument("input", help="clipped audio")
    p.add_argument("-o", "--output", required=True, help="restored audio (32-bit float wav/flac; peaks may exceed 0 dBFS)")
    p.add_argument("--min-run", type=int, default=2,
                   help="a channel's extreme counts as a clipping level when held this many samples in a row (default 2)")
    p.add_argument("--level-db", type=float,
                   help="the clipping level in dBFS instead: every sample at or above it is treated as clipped")
    p.add_argument("--ceiling-db", type=float,
                   help="restored samples at most this many dB above the clipping level, where you know how deep "
                        "it went (default: no limit)")
    p.add_argument("--overwrite", action="store_true")

    p = sub.add_parser("estimate", help="estimate a chain's parameters from wet audio alone (blind)")
    p.add_argument("input", help="processed (wet) audio")
    p.add_argument("--setting", default="chain", choices=["eq", "compressor", "clipper", "chain"],
                   help="which bundled estimator: one effect, or the chain EQ > compressor > clipper")
    p.add_argument("--for-inversion", action="store_true",
                   help="the weights drywet invert --estimate uses (tuned to undo each stage; the default ones "
                        "re-synthesize the wet best): for a preset to pass to drywet invert --estimated")
    p.add_argument("-o", "--output", help="preset to write (.yaml or .json)")
    p.add_argument("--report", help="optional HTML report path")
    p.add_argument("--overwrite", action="store_true")

    p = sub.add_parser("eval-estimation", help="evaluate the bundled blind estimators on a folder of music")
    p.add_argument("--data", required=True, help="folder of music the models never saw")
    p.add_argument("--settings", default="eq,compressor,clipper,chain")
    p.add_argument("--weights", help="folder of <setting>.safetensors to evaluate instead of the bundled ones "
                   "(what benchmarks/train_blind.py --out writes)")
    p.add_argument("--items", type=int, default=64, help="random chains per setting")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("proxy", help="train or evaluate a neural proxy of an effect")
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

    p = sub.add_parser("model", help="neural model of a real device from paired recordings")
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

    p = sub.add_parser("demo", help="render a random chain on the bundled clip and write an HTML report")
    p.add_argument("-o", "--out", default="drywet_demo", help="output folder (default: drywet_demo)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--effects", default=DEFAULT_EFFECTS)
    p.add_argument("--no-estimate", action="store_true", help="skip the blind and informed estimation")
    p.add_argument("--overwrite", action="store_true")
    return parser


def _format_warning(message, category, filename, lineno, line=None) -> str:
    return f"drywet: warning: {message}\n"


def main(argv: Sequence[str] | None = None) -> int:
    warnings.formatwarning = _format_warning  # one readable line on stderr, no source dump
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    try:
        if args.command == "apply":
            return cmd_apply(args, extra, parser.apply_parser)
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        handler = {"effects": cmd_effects, "random-chain": cmd_random_chain, "metrics": cmd_metrics, "demo": cmd_demo,
                   "match": cmd_match, "augment": cmd_augment, "invariance": cmd_invariance, "invert": cmd_invert, "declip": cmd_declip,
                   "estimate": cmd_estimate, "eval-estimation": cmd_eval_estimation, "proxy": cmd_proxy,
                   "model": cmd_model}
        return handler[args.command](args)
    except DrywetError as exc:
        print(f"drywet: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into a reader that stopped (drywet effects | head)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit would raise again
        return 0


if __name__ == "__main__":
    sys.exit(main())
