"""Speed of drywet against the tools users would otherwise pick, in one run.

    python benchmarks/bench_speed.py            # needs: pip install -e ".[bench]"

Numpy effects: 60 s of real stereo music at 44.1 kHz (Hobbs, "Let's go fishin'", from
../shared/data/music), single thread, against pedalboard. Torch: batch 8 x 5 s mono,
forward + backward, against dasp-pytorch, auraloss and pyloudnorm. Prints "x real-time"
(audio seconds per wall second) for drywet and the anchor, and their ratio; an anchor that
is not installed is reported as skipped. Each timing is the best of several repeats.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import importlib.util  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from timing import best_time  # noqa: E402

from drywet import get_effect, io, metrics  # noqa: E402
from drywet.chain import Chain, Stage  # noqa: E402

torch.set_num_threads(1)
REPEATS = 7  # best of 7 for the torch cases: this shared machine's timings vary by +-20 % run to run
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SR = 44100


def have(module):
    return importlib.util.find_spec(module) is not None


def load_music():
    path = SHARED / "music" / "hobbs_lets_go_fishin.ogg"
    if path.exists():
        x, _ = io.read_audio(path, sample_rate=SR)
        return x[:, : 60 * SR].copy(), "hobbs_lets_go_fishin.ogg, first 60 s"
    x, _ = io.bundled_example()
    return np.tile(x, 4)[:, : 60 * SR].copy(), "bundled Brahms clip looped to 60 s (shared data absent)"


def load_ir():
    path = SHARED / "drywet" / "reverb_pairs" / "irs" / "ir_council_s1r1_ch1.flac"
    if path.exists():
        ir, _ = io.read_audio(path, sample_rate=SR)
        origin = "measured concert hall IR (1.6 s) zero-padded to 2 s"
    else:
        ir, _ = io.read_audio(io.bundled_impulse_response_path())
        origin = "bundled room IR (1 s) zero-padded to 2 s"
    return np.pad(ir, ((0, 0), (0, 2 * SR - ir.shape[1])))[:, : 2 * SR], origin


ROWS = []


def row(name, seconds_audio, ours, anchor_name, anchor):
    ours_rt = seconds_audio / ours
    if anchor is None:
        ROWS.append((name, ours_rt, anchor_name, None, None))
    else:
        anchor_rt = seconds_audio / anchor
        ROWS.append((name, ours_rt, anchor_name, anchor_rt, ours_rt / anchor_rt))
    print(f"  {name}: drywet {ours:.4f} s, {anchor_name} {anchor if anchor is None else round(anchor, 4)} s", flush=True)


# -- numpy effects vs pedalboard --------------------------------------------------------------
EQ = {"low_shelf_gain_db": 4.0, "low_shelf_freq_hz": 100.0, "low_shelf_q": 0.7,
      "peak1_gain_db": -6.0, "peak1_freq_hz": 400.0, "peak1_q": 1.0,
      "peak2_gain_db": 3.0, "peak2_freq_hz": 2000.0, "peak2_q": 1.2,
      "peak3_gain_db": -4.0, "peak3_freq_hz": 6000.0, "peak3_q": 0.9,
      "high_shelf_gain_db": 5.0, "high_shelf_freq_hz": 10000.0, "high_shelf_q": 0.7}
COMP = {"threshold_db": -24.0, "ratio": 4.0, "attack_ms": 5.0, "release_ms": 100.0, "knee_db": 6.0, "makeup_db": 0.0}
CLIP = {"drive_db": 12.0, "offset": 0.0, "hardness": 0.0}


def bench_numpy(x, ir):
    dur = x.shape[1] / SR
    pb = None
    if have("pedalboard"):
        import pedalboard as pb

    eq, comp, clip, conv = (get_effect(n) for n in ("parametric_eq", "compressor", "clipper", "convolution_reverb"))
    ours = {
        "parametric EQ (5 bands)": lambda: eq(x, sample_rate=SR, **EQ),
        "compressor (knee, attack, release)": lambda: comp(x, sample_rate=SR, **COMP),
        "parametric clipper": lambda: clip(x, sample_rate=SR, **CLIP),
        "convolution, 2 s IR": lambda: conv(x, sample_rate=SR, impulse_response=ir),
    }
    chain = Chain([Stage.create("parametric_eq", EQ), Stage.create("compressor", COMP), Stage.create("clipper", CLIP),
                   Stage.create("convolution_reverb", options={"impulse_response": ir})])
    ours["chain EQ > comp > clip > conv"] = lambda: chain(x, sample_rate=SR)
    anchors = {}
    if pb is not None:
        bands = [("low_shelf", pb.LowShelfFilter), ("peak1", pb.PeakFilter), ("peak2", pb.PeakFilter),
                 ("peak3", pb.PeakFilter), ("high_shelf", pb.HighShelfFilter)]
        pb_eq = [cls(cutoff_frequency_hz=EQ[f"{b}_freq_hz"], gain_db=EQ[f"{b}_gain_db"], q=EQ[f"{b}_q"]) for b, cls in bands]
        pb_comp = pb.Compressor(threshold_db=-24.0, ratio=4.0, attack_ms=5.0, release_ms=100.0)
        pb_dist = pb.Distortion(drive_db=12.0)
        pb_conv = pb.Convolution(ir[0].astype(np.float32)[None] if False else ir.astype(np.float32), sample_rate=SR, mix=1.0)
        xf = x.astype(np.float32)
        anchors = {
            "parametric EQ (5 bands)": ("pedalboard 5 filters", lambda: pb.Pedalboard(pb_eq)(xf, SR)),
            "compressor (knee, attack, release)": ("pedalboard Compressor", lambda: pb_comp(xf, SR)),
            "parametric clipper": ("pedalboard Distortion", lambda: pb_dist(xf, SR)),
            "convolution, 2 s IR": ("pedalboard Convolution", lambda: pb_conv(xf, SR)),
            "chain EQ > comp > clip > conv": ("pedalboard chain",
                                              lambda: pb.Pedalboard([*pb_eq, pb_comp, pb_dist, pb_conv])(xf, SR)),
        }
    for name, fn in ours.items():
        anchor_name, anchor_fn = anchors.get(name, ("pedalboard (not installed)", None))
        row(name, dur, best_time(fn), anchor_name, best_time(anchor_fn) if anchor_fn else None)


# -- torch: batch 8 x 5 s mono, forward + backward ------------------------------------------------
def bench_torch(x):
    batch, n = 8, 5 * SR
    mono = x.mean(0)
    xb = torch.tensor(np.stack([mono[i * n : (i + 1) * n] for i in range(batch)])[:, None], dtype=torch.float32)
    dur = batch * n / SR
    rng = np.random.default_rng(0)
    dasp = None
    if have("dasp_pytorch"):
        from dasp_pytorch import functional as dasp

    def params_of(spec):
        return {p.name: torch.tensor([p.sample(rng) for _ in range(batch)], dtype=torch.float32, requires_grad=True)
                for p in spec.params}

    def fwd_bwd(fn):
        def run():
            y = fn()
            y.square().mean().backward()
        return run

    eq, comp, clip, rev = (get_effect(n) for n in ("parametric_eq", "compressor", "clipper", "noise_reverb"))
    peq, pcomp, pclip, prev = (params_of(e.spec) for e in (eq, comp, clip, rev))
    cases = {
        "torch EQ (FIR mode)": fwd_bwd(lambda: eq(xb, sample_rate=SR, mode="fir", **peq)),
        "torch EQ (exact IIR)": fwd_bwd(lambda: eq(xb, sample_rate=SR, mode="iir", **peq)),
        "torch compressor": fwd_bwd(lambda: comp(xb, sample_rate=SR, **pcomp)),
        "torch chain EQ > comp > clip": fwd_bwd(lambda: clip(comp(eq(xb, sample_rate=SR, mode="fir", **peq), sample_rate=SR, **pcomp), sample_rate=SR, **pclip)),
        "torch chain, exact IIR EQ": fwd_bwd(lambda: clip(comp(eq(xb, sample_rate=SR, mode="iir", **peq), sample_rate=SR, **pcomp), sample_rate=SR, **pclip)),
        "torch noise reverb": fwd_bwd(lambda: rev(xb, sample_rate=SR, **prev)),
    }
    anchors = {}
    if dasp is not None:
        def t(lo, hi):
            return (lo + (hi - lo) * torch.rand(batch)).requires_grad_()

        dq = {"low_shelf_gain_db": t(-12, 12), "low_shelf_cutoff_freq": t(30, 160), "low_shelf_q_factor": t(0.3, 2)}
        for i, (lo, hi) in enumerate([(100, 2000), (500, 6000), (2000, 16000), (2000, 16000)]):
            dq.update({f"band{i}_gain_db": t(-12, 12), f"band{i}_cutoff_freq": t(lo, hi), f"band{i}_q_factor": t(0.3, 2)})
        dq.update({"high_shelf_gain_db": t(-12, 12), "high_shelf_cutoff_freq": t(5000, 20000), "high_shelf_q_factor": t(0.3, 2)})
        dc = {"threshold_db": t(-40, 0), "ratio": t(2, 10), "attack_ms": t(1, 60), "release_ms": t(10, 500), "knee_db": t(0, 12), "makeup_gain_db": t(0, 20)}
        dr = {f"band{i}_gain": t(0, 1) for i in range(12)} | {f"band{i}_decay": t(0, 1) for i in range(12)} | {"mix": t(0, 1)}
        dd = {"drive_db": t(0, 20)}
        eq_d = lambda: dasp.parametric_eq(xb, SR, **dq)  # noqa: E731
        comp_d = lambda: dasp.compressor(xb, SR, **dc)  # noqa: E731
        anchors = {
            "torch EQ (FIR mode)": ("dasp parametric_eq", fwd_bwd(eq_d)),
            "torch EQ (exact IIR)": ("dasp parametric_eq", fwd_bwd(eq_d)),
            "torch compressor": ("dasp compressor", fwd_bwd(comp_d)),
            "torch chain EQ > comp > clip": ("dasp eq > comp > distortion",
                                             fwd_bwd(lambda: dasp.distortion(dasp.compressor(dasp.parametric_eq(xb, SR, **dq), SR, **dc), SR, **dd))),
            "torch chain, exact IIR EQ": ("dasp eq > comp > distortion",
                                          fwd_bwd(lambda: dasp.distortion(dasp.compressor(dasp.parametric_eq(xb, SR, **dq), SR, **dc), SR, **dd))),
            "torch noise reverb": ("dasp noise_shaped_reverberation", fwd_bwd(lambda: dasp.noise_shaped_reverberation(xb, SR, **dr))),
        }
    for name, fn in cases.items():
        anchor_name, anchor_fn = anchors.get(name, ("dasp-pytorch (not installed)", None))
        # dasp's noise reverb takes minutes per call here: time it once, without warm-up
        slow = name == "torch noise reverb"
        anchor_time = best_time(anchor_fn, 1, warm_up=False) if (anchor_fn and slow) else best_time(anchor_fn, REPEATS) if anchor_fn else None
        row(name, dur, best_time(fn, REPEATS), anchor_name, anchor_time)

    target = xb.roll(1, dims=-1)
    est = xb.clone().requires_grad_()

    def ours_mr():
        metrics.mrstft(target, est).backward()

    anchor = None
    if have("auraloss"):
        import auraloss

        loss = auraloss.freq.MultiResolutionSTFTLoss()

        def anchor():
            loss(est, target).backward()

    row("MR-STFT loss fwd+bwd", dur, best_time(ours_mr, REPEATS), "auraloss MultiResolutionSTFTLoss" if anchor else "auraloss (not installed)",
        best_time(anchor, REPEATS) if anchor else None)


def bench_loudness(x):
    dur = x.shape[1] / SR
    anchor = None
    if have("pyloudnorm"):
        import pyloudnorm

        meter = pyloudnorm.Meter(SR)
        xt = x.T.astype(np.float64)

        def anchor():
            meter.integrated_loudness(xt)

    ours = best_time(lambda: metrics.integrated_loudness(x, sample_rate=SR))
    row("integrated loudness (60 s stereo)", dur, ours, "pyloudnorm" if anchor else "pyloudnorm (not installed)",
        best_time(anchor) if anchor else None)


def main():
    x, origin = load_music()
    ir, ir_origin = load_ir()
    print(f"audio: {origin}; IR: {ir_origin}; single thread; torch {torch.__version__}")
    bench_numpy(x, ir)
    bench_torch(x)
    bench_loudness(x)
    print(f"\n| {'case':36s} | {'drywet x RT':>11s} | {'anchor':34s} | {'anchor x RT':>11s} | {'ratio':>6s} |")
    print(f"|{'-' * 38}|{'-' * 13}|{'-' * 36}|{'-' * 13}|{'-' * 8}|")
    for name, ours_rt, anchor_name, anchor_rt, ratio in ROWS:
        a = f"{anchor_rt:11.1f}" if anchor_rt else f"{'skipped':>11s}"
        r = f"{ratio:6.2f}" if ratio else f"{'-':>6s}"
        print(f"| {name:36s} | {ours_rt:11.1f} | {anchor_name:34s} | {a} | {r} |")


if __name__ == "__main__":
    main()
