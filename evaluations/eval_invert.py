"""Model-based inversion on real music: chains, the compressor alone (exact and with noisy
parameters) and declipping.

    python evaluations/eval_invert.py            # about 3 minutes here
    python evaluations/eval_invert.py --blind-only     # section 4 alone
    python evaluations/eval_invert.py --blind-only eq  # its first row alone (the same draws)
    python evaluations/eval_invert.py --choose-slope   # how clipping.MIN_ESTIMATED_SLOPE was chosen
    python evaluations/eval_invert.py --blind-chain-parts  # where section 4's chain row loses (5 min)
    python evaluations/eval_invert.py --weights DIR --blind-chain-parts  # sections 4 and 4b with estimators you trained

Audio: 10 s excerpts (from 30 s) of the three songs in ../shared/data/music, stereo 44.1 kHz,
processed in float32 as files would be. Parameters are drawn uniformly in normalized space.

1. Chains EQ > compressor > clipper (4 per song), inverted with the true parameters:
   SI-SDR(x_hat, x), with the chains split by whether the clipper left flat (clipped) samples.
2. Compressor alone (8 per song): SNR of the recovered input with true parameters, and with
   every normalized parameter perturbed by N(0, sigma) (clipped to [0, 1]).
3. Hard clipping at several levels below the peak: SDR of the clipped signal and of the
   declipped one (S-SPADE).
4. Blind: each bundled setting (EQ, compressor, clipper, the chain, with the weights drywet invert
   --estimate uses; 8 per test recording: Brahms
   and the Bach chorale mix, which the bundled estimators never saw) estimated from the wet
   audio alone, then inverted with the estimates as they are, made consistent with the
   audio, and with that plus half the compressor's gain reduction added back (what drywet
   invert --estimate does): log-mel distance of x_hat and of y to x (the target: at most half).
   --blind-chain-parts: the chain row's draws inverted with some stages' parameters known,
   to show which estimate limits the blind chain inversion.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from drywet import EFFECTS, io
from drywet.chain import Chain
from drywet.invert import BLIND_DYNAMICS_STRENGTH, InversionWarning, invert_chain
from drywet.effects.distortion_inverse import invert_hard_clip
from drywet.dsp.declip import declip
from drywet.dsp.compressor_inverse import invert_compressor

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SONGS = sorted((SHARED / "music").glob("*.ogg"))


def excerpt(path, start_s=30.0, seconds=10.0):
    x, sr = io.read_audio(path)
    return np.ascontiguousarray(x[:, int(start_s * sr) : int((start_s + seconds) * sr)]), sr


def sdr(ref, est):
    return 10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / np.sum((ref.astype(np.float64) - est) ** 2))


def si_sdr(ref, est):
    ref, est = ref.astype(np.float64).ravel(), est.astype(np.float64).ravel()
    t = (ref @ est / (ref @ ref)) * ref
    return 10 * np.log10(np.sum(t**2) / np.sum((est - t) ** 2))


WEIGHTS: Path | None = None  # --weights DIR: blind estimators from DIR/<setting>.safetensors instead of the bundled ones


def blind_estimator(setting: str):
    from drywet.estimate.blind import BlindEstimator, bundled_estimator

    return bundled_estimator(setting, for_inversion=True) if WEIGHTS is None else BlindEstimator.load(WEIGHTS / f"{setting}.safetensors")


def main() -> None:
    import sys

    global WEIGHTS
    warnings.simplefilter("ignore", InversionWarning)
    if "--weights" in sys.argv:
        at = sys.argv.index("--weights")
        WEIGHTS = Path(sys.argv[at + 1])
        del sys.argv[at : at + 2]
    if "--choose-slope" in sys.argv:
        choose_slope(np.random.default_rng(5))
        return
    if "--blind-chain-parts" in sys.argv:
        blind_chain_parts(np.random.default_rng(1))
        return
    if "--blind-only" in sys.argv:
        chosen = sys.argv[sys.argv.index("--blind-only") + 1 :]
        blind_section(np.random.default_rng(1), settings=tuple(chosen) or BLIND_SETTINGS)
        return
    clips = [excerpt(p) for p in SONGS]
    rng = np.random.default_rng(0)

    print("1. EQ > compressor > clipper, true parameters: SI-SDR(x_hat, x) dB")
    flat, smooth = [], []
    for x, sr in clips:
        for _ in range(4):
            chain = Chain.from_names("parametric_eq,compressor,clipper").sample(rng)
            y = chain(x, sample_rate=sr)
            result = invert_chain(y, chain, sample_rate=sr)
            score = si_sdr(x, result.audio)
            clipped = any("clipped flat" in note for note in result.notes)
            (flat if clipped else smooth).append((si_sdr(x, y), score))
    for label, rows in (("clipper flat on < 0.1 %", smooth), ("clipper flat on > 0.1 %", flat)):
        if rows:
            before, after = np.array(rows).T
            print(f"   {label:26s} n={len(rows):2d}  wet {np.median(before):6.1f}  restored median {np.median(after):6.1f}  min {after.min():6.1f}  >= 30 dB: {np.mean(after >= 30):.0%}")
    every = np.array([r[1] for r in smooth + flat])
    print(f"   all chains                 n={every.size:2d}  restored median {np.median(every):6.1f}  >= 30 dB: {np.mean(every >= 30):.0%}")

    print("2. compressor alone: SNR of the recovered input (dB), median [min]")
    spec = EFFECTS["compressor"].spec
    for sigma in (0.0, 0.01, 0.03, 0.1):
        scores = []
        for x, sr in clips:
            for _ in range(8):
                params = spec.sample(rng)
                y = EFFECTS["compressor"](x, sample_rate=sr, **params)
                q = np.clip(spec.normalize(params) + sigma * rng.standard_normal(spec.num_params), 0.0, 1.0)
                noisy = {k: float(v) for k, v in spec.denormalize(q).items()}
                x_hat, _ = invert_compressor(y[None], sample_rate=sr, **noisy)
                scores.append(sdr(x, x_hat[0]))
        print(f"   sigma_q = {sigma:<5g}  {np.median(scores):7.1f} [{np.min(scores):7.1f}]")

    print("3. hard clipping at a level below the peak: SDR clipped -> declipped (dB), median over songs")
    for level_db in (-1.0, -3.0, -6.0, -10.0):
        before, after, fraction = [], [], []
        for x, sr in clips:
            mono = x[:1]
            threshold = 20 * np.log10(np.abs(mono).max()) + level_db
            y = EFFECTS["hard_clip"](mono, sample_rate=sr, threshold_db=threshold)
            x0, unreliable = invert_hard_clip(y, threshold_db=threshold)
            before.append(sdr(mono, y))
            after.append(sdr(mono, declip(x0, unreliable, sample_rate=sr)))
            fraction.append(unreliable.mean())
        print(f"   {level_db:5.0f} dB  clipped {100 * np.median(fraction):5.2f} %  SDR {np.median(before):6.2f} -> {np.median(after):6.2f}  (+{np.median(np.array(after) - before):.2f})")
    blind_section(np.random.default_rng(1))


BLIND_SETTINGS = ("eq", "compressor", "clipper", "chain")


def blind_section(rng, per_recording: int = 8, settings: tuple = BLIND_SETTINGS) -> None:
    """Settings are drawn in BLIND_SETTINGS order from one generator, so a leading subset
    (e.g. "eq" alone) sees the same chains as the full run."""
    import torch

    from drywet.estimate.blind import SETTINGS
    from drywet.metrics import logmel_l1

    print("4. blind estimation then inversion: log-mel L1 to x (lower is better); inverted with the estimates as")
    print("   they are, made consistent with the audio first (invert_chain(..., estimated=True)), and also adding back")
    print(f"   only {BLIND_DYNAMICS_STRENGTH:g} of the compressor's gain reduction in dB (dynamics_strength; drywet invert --estimate)")
    tests = blind_test_excerpts()
    unknown = set(settings) - set(BLIND_SETTINGS)
    if unknown:
        raise SystemExit(f"unknown settings {sorted(unknown)}; choose among {', '.join(BLIND_SETTINGS)}")
    for setting in BLIND_SETTINGS[: max(BLIND_SETTINGS.index(s) for s in settings) + 1]:
        estimator = blind_estimator(setting)
        rows = []
        for x, sr in tests:
            x = x / np.abs(x).max()  # the estimator was trained on peak-normalized dry signals
            def lm(a, x=x, sr=sr):
                return float(logmel_l1(torch.tensor(x), torch.tensor(a, dtype=torch.float32), sample_rate=sr))

            for _ in range(per_recording):
                chain = Chain.from_names(SETTINGS[setting]).sample(rng)
                y = chain(x, sample_rate=sr)
                estimate = estimator.estimate(y, sample_rate=sr)
                rows.append([lm(y)] + [lm(invert_chain(y, estimate, sample_rate=sr, estimated=e, dynamics_strength=d).audio)
                                       for e, d in ((False, 1.0), (True, 1.0), (True, BLIND_DYNAMICS_STRENGTH))])
        before, *afters = np.array(rows).T
        print(f"   {setting:8s} n={len(rows)}  loss(y, x) median {np.median(before):.3f}")
        for label, after in zip(("as estimated", "consistent", "+ partial"), afters):
            ratio = after / before
            print(f"     {label:13s} loss(x_hat, x) median {np.median(after):.3f}  ratio median {np.median(ratio):.2f}  "
                  f"mean {ratio.mean():.2f}  <= 0.5: {np.mean(ratio <= 0.5):.0%}  > 1: {np.mean(ratio > 1):.0%}")


def blind_test_excerpts() -> list:
    """The two test recordings the bundled estimators never saw: Brahms and the Bach mix."""
    return [excerpt(SHARED / "music" / "brahms_hungarian_dance_5.ogg", 10.0),
            excerpt(SHARED / "multitrack" / "rendered_bwv66.6" / "bwv66.6_mix.flac", 5.0)]


def blind_chain_parts(rng, per_recording: int = 8) -> None:
    """Section 4's chain row (the same draws), inverted with the blind estimates of some stages
    replaced by the true parameters: which estimate keeps the ratio above the target?"""
    import torch

    from drywet.estimate.blind import SETTINGS
    from drywet.metrics import logmel_l1

    tests = blind_test_excerpts()
    for setting in BLIND_SETTINGS[:-1]:  # skip the draws of the single-effect rows
        for _ in range(len(tests) * per_recording):
            Chain.from_names(SETTINGS[setting]).sample(rng)
    estimator = blind_estimator("chain")
    variants = {  # which stages are inverted, and with what: E estimated, T true
        "E E E  (section 4)": "EEE", "T T T  (all true)": "TTT", "T - -  (true EQ alone)": "T--",
        "T E E  (true EQ)": "TEE", "E T T  (true compressor and clipper)": "ETT", "E - -  (estimated EQ alone)": "E--",
        "T T E  (estimated clipper alone)": "TTE", "T E T  (estimated compressor alone)": "TET",
    }
    ratios = {name: [] for name in variants}
    for x, sr in tests:
        x = x / np.abs(x).max()
        for _ in range(per_recording):
            chain = Chain.from_names(SETTINGS["chain"]).sample(rng)
            y = chain(x, sample_rate=sr)
            estimate = estimator.estimate(y, sample_rate=sr)
            before = float(logmel_l1(torch.tensor(x), torch.tensor(y, dtype=torch.float32), sample_rate=sr))
            for name, code in variants.items():
                stages = [{"E": e, "T": t}[c] for c, e, t in zip(code, estimate.stages, chain.stages) if c != "-"]
                # estimates are inverted as drywet invert --estimate does; true ones exactly
                x_hat = invert_chain(y, Chain(stages), sample_rate=sr, estimated="E" in code,
                                     dynamics_strength=BLIND_DYNAMICS_STRENGTH if code[1] == "E" else 1.0).audio
                after = float(logmel_l1(torch.tensor(x), torch.tensor(x_hat, dtype=torch.float32), sample_rate=sr))
                ratios[name].append(after / before)
    print("4b. blind chain inversion by part, log-mel ratio loss(x_hat, x) / loss(y, x) over the chain row's 16 draws")
    for name, r in ratios.items():
        r = np.array(r)
        print(f"   {name:38s} median {np.median(r):.3f}  mean {r.mean():.3f}  <= 0.5: {np.mean(r <= 0.5):.0%}  > 1: {np.mean(r > 1):.0%}")


def choose_slope(rng, per_excerpt: int = 8) -> None:
    """How MIN_ESTIMATED_SLOPE was chosen: on the validation recording only (Bearlin Roads mix,
    two 10 s excerpts), the median log-mel ratio of blind inversion for several slopes."""
    import dataclasses

    import torch

    from drywet.estimate.blind import SETTINGS
    from drywet.effects.distortion_inverse import consistent_clipper_drive
    from drywet.metrics import logmel_l1

    slopes = (None, 0.5, 0.2, 0.1, 0.03)  # None: the estimate as it is
    valid = SHARED / "multitrack" / "bearlin_roads" / "dev1__bearlin-roads__snip_85_99__mix.flac"
    print("validation recording: median log-mel ratio loss(x_hat, x) / loss(y, x) by the slope bound")
    for setting in ("clipper", "chain"):
        estimator = blind_estimator(setting)
        ratios = {s: [] for s in slopes}
        for start in (0.0, 4.0):
            x, sr = excerpt(valid, start)
            x = x / np.abs(x).max()

            def lm(a, x=x, sr=sr):
                return float(logmel_l1(torch.tensor(x), torch.tensor(a, dtype=torch.float32), sample_rate=sr))

            for _ in range(per_excerpt):
                y = Chain.from_names(SETTINGS[setting]).sample(rng)(x, sample_rate=sr)
                estimate = estimator.estimate(y, sample_rate=sr)
                for slope in slopes:
                    stages = list(estimate.stages)
                    if slope is not None:
                        p = dict(stages[-1].params)
                        p["drive_db"] = consistent_clipper_drive(y, drive_db=p["drive_db"], offset=p["offset"],
                                                                 hardness=p["hardness"], min_slope=slope)
                        stages[-1] = dataclasses.replace(stages[-1], params=p)
                    ratios[slope].append(lm(invert_chain(y, Chain(stages), sample_rate=sr).audio) / lm(y))
        print(f"   {setting:8s} " + "  ".join(f"{'as is' if s is None else s}: {np.median(r):.3f}" for s, r in ratios.items()))


if __name__ == "__main__":
    main()
