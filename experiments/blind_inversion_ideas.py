"""Ideas for blind inversion, measured (the numbers are in the team's issue notes); only
partial-compressor was adopted (drywet.invert.BLIND_DYNAMICS_STRENGTH). Each compares against
invert_chain(..., estimated=True) with the bundled estimator (for inversion) and the exact dynamics inverse
(partial-eq: with half of it); ratio = log-mel L1 of x_hat to x over that of y to x (the #6
target: at most 0.5).

    python experiments/blind_inversion_ideas.py peel                  # stage-by-stage estimation
    python experiments/blind_inversion_ideas.py windows               # inference windows of the EQ
    python experiments/blind_inversion_ideas.py partial-compressor test|valid
    python experiments/blind_inversion_ideas.py partial-eq test|valid
    python experiments/blind_inversion_ideas.py partial-clipper test|valid
    python experiments/blind_inversion_ideas.py amplified-eq test|valid
    python experiments/blind_inversion_ideas.py two-eq-estimates test|valid
    python experiments/blind_inversion_ideas.py spectrum-prior test|valid
    python experiments/blind_inversion_ideas.py music-spectra test|valid      # why blind EQ is hard, in dB
    python experiments/blind_inversion_ideas.py window-responses test|valid
    python experiments/blind_inversion_ideas.py eq-augment test|valid     # test-time augmentation by known EQs
    python experiments/blind_inversion_ideas.py eq-shape-checks test|valid   # shrinking, averaging; does disagreement predict harm?
    python experiments/blind_inversion_ideas.py bands test|valid     # where in frequency x_hat's distance lies; a calibration EQ
    python experiments/blind_inversion_ideas.py chain-weights DIR [valid]  # the bundled chain estimator for inversion against DIR's
    python experiments/blind_inversion_ideas.py chain-average test|valid DIR|resynthesis ...  # against the average of its q and theirs

test: the two test recordings (Brahms, the Bach mix), the draws of eval_invert's section 4.
valid: 10 s (from 30 s) of the Bearlin Roads mix and of each held-out game track in
.blinddata/rest_valid (recipes/blind_extra_music.py --rest), 3 draws each.
"""

from __future__ import annotations

import collections
import sys
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evaluations"))  # the evaluation it builds on
from eval_invert import BLIND_SETTINGS, SHARED, blind_test_excerpts  # noqa: E402

from drywet import io
from drywet.chain import Chain, Stage
from drywet.estimate.blind import SETTINGS, bundled_estimator
from drywet.estimate.blind import model as blind_model
from drywet.datasets import music_files, split_files
from drywet.invert import BLIND_DYNAMICS_STRENGTH, InversionWarning, invert_chain
from drywet.metrics import logmel_l1

SR = 44100
REPO = Path(__file__).resolve().parents[1]


def log_mel(x, a) -> float:
    return float(logmel_l1(torch.tensor(x), torch.tensor(np.asarray(a), dtype=torch.float32), sample_rate=SR))


def invert(y, stages, dynamics_strength: float = 1.0) -> np.ndarray:
    return invert_chain(y, Chain(list(stages)), sample_rate=SR, estimated=True, dynamics_strength=dynamics_strength).audio


def summary(name: str, ratios) -> None:
    r = np.array(ratios)
    print(f"   {name:26s} median {np.median(r):.3f}  mean {r.mean():.3f}  <= 0.5: {np.mean(r <= 0.5):.0%}  > 1: {np.mean(r > 1):.0%}", flush=True)


def clips(split: str):
    """(peak-normalized clips, draws per clip, generator)."""
    if split == "test":
        return [x / np.abs(x).max() for x, _ in blind_test_excerpts()], 8, np.random.default_rng(1)
    files = split_files(SHARED, "valid") + music_files(REPO / ".blinddata" / "rest_valid")
    out = []
    for f in files:
        x, _ = io.read_audio(f, sample_rate=SR)
        start = min(30 * SR, max(0, x.shape[-1] - 10 * SR))
        x = np.ascontiguousarray(x[:, start : start + 10 * SR])
        out.append(x / np.abs(x).max())
    return out, 3, np.random.default_rng(11)


def skip_draws(rng, setting: str, count: int) -> None:
    """Consume the draws eval_invert's section 4 makes before ``setting``'s row."""
    for earlier in BLIND_SETTINGS[: BLIND_SETTINGS.index(setting)]:
        for _ in range(count):
            Chain.from_names(SETTINGS[earlier]).sample(rng)


def peel() -> None:
    """The chain estimated stage by stage with the single-effect estimators, each on the audio
    with the later stages already inverted (clipper on y, compressor, then EQ)."""
    xs, per, rng = clips("test")
    skip_draws(rng, "chain", len(xs) * per)
    est = {s: bundled_estimator(s, for_inversion=True) for s in SETTINGS}
    ratios = {"chain estimator (today)": [], "peeled": []}
    for x in xs:
        for _ in range(per):
            y = Chain.from_names(SETTINGS["chain"]).sample(rng)(x, sample_rate=SR)
            before = log_mel(x, y)
            ratios["chain estimator (today)"].append(log_mel(x, invert(y, est["chain"].estimate(y, sample_rate=SR).stages)) / before)
            a = invert(y, est["clipper"].estimate(y, sample_rate=SR).stages)
            b = invert(a, est["compressor"].estimate(a, sample_rate=SR).stages)
            ratios["peeled"].append(log_mel(x, invert(b, est["eq"].estimate(b, sample_rate=SR).stages)) / before)
    print("chain row, test recordings:")
    for name, r in ratios.items():
        summary(name, r)


def windows() -> None:
    """The blind EQ's analysis windows on 10 s clips: length and how many of the loudest."""
    xs, per, rng = clips("test")
    est = bundled_estimator("eq", for_inversion=True)
    configs = [(1.5, 8), (1.5, 100), (3.0, 8), (5.0, 8), (10.0, 1)]
    ratios = {c: [] for c in configs}
    default = (est.window, blind_model.MAX_WINDOWS)
    try:
        for x in xs:
            for _ in range(per):
                y = Chain.from_names(SETTINGS["eq"]).sample(rng)(x, sample_rate=SR)
                before = log_mel(x, y)
                for seconds, count in configs:
                    est.window, blind_model.MAX_WINDOWS = int(seconds * SR), count
                    ratios[seconds, count].append(log_mel(x, invert(y, est.estimate(y, sample_rate=SR).stages)) / before)
    finally:
        est.window, blind_model.MAX_WINDOWS = default
    print("eq row, test recordings (today: 1.5 s windows, the 8 loudest):")
    for (seconds, count), r in ratios.items():
        summary(f"{seconds:g} s windows, {count} loudest", r)


def compare_on_row(split: str, row: str, variants: dict) -> None:
    """Print the ratio of each variant(y, estimated stages) -> x_hat on a setting's draws."""
    xs, per, rng = clips(split)
    if split == "test":
        skip_draws(rng, row, len(xs) * per)
    est = bundled_estimator(row, for_inversion=True)
    ratios = {name: [] for name in variants}
    for x in xs:
        for _ in range(per):
            y = Chain.from_names(SETTINGS[row]).sample(rng)(x, sample_rate=SR)
            stages = est.estimate(y, sample_rate=SR).stages
            before = log_mel(x, y)
            for name, variant in variants.items():
                ratios[name].append(log_mel(x, variant(y, stages)) / before)
    print(f"{row} row, {split}:")
    for name, r in ratios.items():
        summary(name, r)


def partial_compressor(split: str) -> None:
    """Add back only a fraction of the gain the estimated compressor took (1: the inverse), on
    the compressor row and on the chain row (invert_chain's dynamics_strength). This chose
    drywet.invert.BLIND_DYNAMICS_STRENGTH."""
    variants = {f"fraction {f:g} of the gain": lambda y, stages, f=f: invert(y, stages, dynamics_strength=f)
                for f in (1.0, 0.75, 0.5, 0.25)}
    for row in ("compressor", "chain"):
        compare_on_row(split, row, variants)


def _blended_clipper_inverse(y, stages, fraction):
    """Undo the estimated clipper (the last stage) only by ``fraction``: y + fraction (inverse(y) - y),
    then the earlier stages as drywet invert --estimate does."""
    *rest, clipper = stages
    restored = invert(y, [clipper])
    return invert(y + fraction * (restored - y), rest, dynamics_strength=BLIND_DYNAMICS_STRENGTH) if rest else y + fraction * (restored - y)


def partial_clipper(split: str) -> None:
    """Undo only a fraction of the estimated clipper (blending its inverse with y), on the
    clipper and chain rows."""
    variants = {f"fraction {f:g} of the clipper": lambda y, stages, f=f: _blended_clipper_inverse(y, stages, f)
                for f in (1.0, 0.75, 0.5)}
    for row in ("clipper", "chain"):
        compare_on_row(split, row, variants)


def _scaled_eq_inverse(y, stages, fraction):
    """Invert with each estimated EQ gain (dB) times ``fraction``, clipped to the spec's range."""
    eq, *rest = stages
    spec = eq.effect.spec
    scaled = {k: float(np.clip(fraction * v, spec.param(k).min, spec.param(k).max)) if k.endswith("gain_db") else v
              for k, v in eq.params.items()}
    return invert(y, [Stage.create(eq.effect.name, scaled), *rest], dynamics_strength=0.5)


def _compare_eq_fractions(split: str, fractions) -> None:
    variants = {f"fraction {f:g} of the EQ gains": lambda y, stages, f=f: _scaled_eq_inverse(y, stages, f) for f in fractions}
    for row in ("eq", "chain"):
        compare_on_row(split, row, variants)


def partial_eq(split: str) -> None:
    """Invert only a fraction of each estimated EQ gain (in dB), on the EQ and chain rows."""
    _compare_eq_fractions(split, (1.0, 0.75, 0.5))


def amplified_eq(split: str) -> None:
    """Invert more than each estimated EQ gain (a network trained with MSE may shrink toward the
    prior's mean), on the EQ and chain rows."""
    _compare_eq_fractions(split, (1.0, 1.25, 1.5))


def two_eq_estimates(split: str) -> None:
    """On the chain row, the chain estimator's EQ averaged (in dB, by cascading each inverse at
    half its gains) with the EQ-only estimator's reading of the same wet audio."""
    eq_only = bundled_estimator("eq", for_inversion=True)

    def halved(stage):
        return Stage.create(stage.effect.name, {k: 0.5 * v if k.endswith("gain_db") else v for k, v in stage.params.items()})

    def averaged(y, stages):
        other = eq_only.estimate(y, sample_rate=SR).stages[0]
        return invert(y, [halved(other), halved(stages[0]), *stages[1:]], dynamics_strength=0.5)

    compare_on_row(split, "chain", {"chain estimator's EQ": lambda y, stages: invert(y, stages, dynamics_strength=0.5),
                                    "averaged with the EQ estimator": averaged})


NFFT, HOP = 4096, 1024


def long_term_spectrum_db(x) -> np.ndarray:
    """Mean power spectrum (dB, rfft bins of NFFT) of the mono RMS-normalized signal,
    smoothed over 1/3 octave."""
    mono = x.mean(0)
    mono = mono / (np.sqrt(np.mean(mono**2)) + 1e-12)
    frames = np.lib.stride_tricks.sliding_window_view(mono, NFFT)[::HOP] * np.hanning(NFFT)
    db = 10 * np.log10(np.mean(np.abs(np.fft.rfft(frames, axis=-1)) ** 2, axis=0) + 1e-10)
    freqs = np.fft.rfftfreq(NFFT, 1 / SR)
    lo, hi = freqs * 2 ** (-1 / 6), np.maximum(freqs * 2 ** (1 / 6), 1.5 * freqs[1])
    cumulative = np.concatenate([[0.0], np.cumsum(db)])
    a, b = np.searchsorted(freqs, lo), np.searchsorted(freqs, hi, side="right")
    return np.where(b > a, (cumulative[b] - cumulative[a]) / np.maximum(b - a, 1), db)


def training_music_spectrum() -> np.ndarray:
    """The mean long-term spectrum (dB) of the training music (Hobbs, MacLeod and the game
    music of .blinddata), first 2 min of each recording."""
    train = [f for f in split_files(SHARED, "train") if "music" in str(f)]
    train += music_files(REPO / ".blinddata" / "extra") + music_files(REPO / ".blinddata" / "rest_train")
    spectra = []
    for f in train:
        x, _ = io.read_audio(f, sample_rate=SR)
        if x.shape[-1] > 10 * SR:
            spectra.append(long_term_spectrum_db(x[:, : 120 * SR]))
    print(f"mean spectrum of {len(spectra)} training recordings")
    return np.mean(spectra, axis=0)


def spectrum_prior(split: str) -> None:
    """After today's inversion, move the long-term spectrum part of the way toward the mean
    of the training music's."""
    prior = training_music_spectrum()

    def toward_prior(y, strength):
        gain = np.clip(strength * (prior - long_term_spectrum_db(y)), -24, 24)
        gain -= np.median(gain)
        spectrum = np.fft.rfft(y, axis=-1)
        gain = np.interp(np.fft.rfftfreq(y.shape[-1], 1 / SR), np.fft.rfftfreq(NFFT, 1 / SR), gain)
        return np.fft.irfft(spectrum * 10 ** (gain / 20), y.shape[-1], axis=-1)

    xs, per, rng = clips(split)
    est = bundled_estimator("eq", for_inversion=True)
    strengths = (0.0, 0.15, 0.25, 0.5)
    ratios = {s: [] for s in strengths}
    for x in xs:
        for _ in range(per):
            y = Chain.from_names(SETTINGS["eq"]).sample(rng)(x, sample_rate=SR)
            x_hat = invert(y, est.estimate(y, sample_rate=SR).stages)
            before = log_mel(x, y)
            for s in strengths:
                ratios[s].append(log_mel(x, toward_prior(x_hat, s) if s else x_hat) / before)
    print(f"eq row, {split} (strength 0: today's inversion):")
    for s, r in ratios.items():
        summary(f"strength {s:g}", r)


MEL_GRID_HZ = 700 * (10 ** (np.linspace(2595 * np.log10(1 + 30 / 700), 2595 * np.log10(1 + 18000 / 700), 96) / 2595) - 1)


def _shape_error_db(curves) -> float:
    """Mean |dB| over the mel-spaced grid after removing each curve's median: the error of a
    spectral shape, ignoring the overall level (which log-mel distances after RMS normalization,
    like the #6 target's, also ignore)."""
    curves = np.atleast_2d(curves)
    return float(np.mean(np.abs(curves - np.median(curves, axis=-1, keepdims=True))))


def _eq_response_db(stage) -> np.ndarray:


    return 20 * np.log10(np.abs(stage.effect.frequency_response(stage.params, MEL_GRID_HZ, SR)) + 1e-12)


def music_spectra(split: str) -> None:
    """Why blind EQ estimation is hard: the spectral shape of random EQs (what the estimator
    must find), against how far music's own long-term spectrum is from the training music's
    mean (what hides it), and the shape error of the bundled estimators' EQ on the EQ and
    chain rows' draws (test: eval_invert's section 4 draws and the 56 of chain-weights)."""
    prior = np.interp(MEL_GRID_HZ, np.fft.rfftfreq(NFFT, 1 / SR), training_music_spectrum())
    rng = np.random.default_rng(0)
    eq = Chain.from_names("parametric_eq")
    print(f"{split}: shape error (dB, mean over a 96-point mel grid 30 Hz-18 kHz, median removed)")
    print(f"   random EQs (an estimate of 0 dB)                {_shape_error_db([_eq_response_db(eq.sample(rng).stages[0]) for _ in range(300)]):.2f}")
    xs = clips(split)[0]
    for seconds in (1.5, 10.0):
        n = int(seconds * SR)
        spectra = [np.interp(MEL_GRID_HZ, np.fft.rfftfreq(NFFT, 1 / SR), long_term_spectrum_db(x[:, s : s + n]))
                   for x in xs for s in range(0, x.shape[-1] - n + 1, max(n, SR))]
        print(f"   music's spectrum - training mean, {seconds:4g} s clips  {_shape_error_db(np.array(spectra) - prior):.2f}  ({len(spectra)} clips)")
    for row, (clip_set, per, draw_rng) in (("eq", clips(split)), ("chain", _chain_row_clips(split))):
        if split == "test" and row == "eq":
            skip_draws(draw_rng, row, len(clip_set) * per)
        chain, est = Chain.from_names(SETTINGS[row]), bundled_estimator(row, for_inversion=True)
        errors = []
        for x in clip_set:
            for _ in range(per):
                true = chain.sample(draw_rng)
                guess = est.estimate(true(x, sample_rate=SR), sample_rate=SR)
                errors.append(_eq_response_db(guess.stages[0]) - _eq_response_db(true.stages[0]))
        print(f"   bundled {row:5s} estimator's EQ, {row} row ({len(errors):2d} draws) {_shape_error_db(errors):.2f}")


def _chain_row_clips(split: str):
    """test: more draws than section 4's 16, 8 chains on each of 7 10 s excerpts of the test
    recordings (Brahms from 0, 12, 24, 35 s; the Bach mix from 0, 5, 10 s), seed 21. valid:
    clips("valid"), 3 chains each."""
    from eval_invert import excerpt

    if split != "test":
        return clips("valid")
    brahms, bach = SHARED / "music" / "brahms_hungarian_dance_5.ogg", SHARED / "multitrack" / "rendered_bwv66.6" / "bwv66.6_mix.flac"
    xs = [excerpt(brahms, s)[0] for s in (0.0, 12.0, 24.0, 35.0)] + [excerpt(bach, s)[0] for s in (0.0, 5.0, 10.0)]
    return [x / np.abs(x).max() for x in xs], 8, np.random.default_rng(21)


def _compare_chain_estimators(split: str, predictors: dict) -> None:
    """The chain row inverted as drywet invert --estimate does with each predictor (y -> q); the
    first is the reference the others are counted against."""
    xs, per, rng = _chain_row_clips(split)
    chain = Chain.from_names(SETTINGS["chain"])
    ratios = {name: [] for name in predictors}
    for x in xs:
        for _ in range(per):
            y = chain.sample(rng)(x, sample_rate=SR)
            before = log_mel(x, y)
            for name, predict in predictors.items():
                stages = chain.with_q(predict(y)).stages
                ratios[name].append(log_mel(x, invert(y, stages, BLIND_DYNAMICS_STRENGTH)) / before)
    reference, *others = ratios
    print(f"chain row, {len(ratios[reference])} draws on the {split} recordings:")
    for name, r in ratios.items():
        summary(name[-26:], r)
    for name in others:
        wins = np.mean(np.array(ratios[name]) < np.array(ratios[reference]))
        print(f"   {name} lower on {wins:.0%} of the draws")


def _load_chain_estimator(folder: str):
    """DIR/chain.safetensors, or the bundled re-synthesis weights for 'resynthesis'."""
    from drywet.estimate.blind import BlindEstimator

    return bundled_estimator("chain") if folder == "resynthesis" else BlindEstimator.load(Path(folder) / "chain.safetensors")


def chain_weights(folder: str, split: str = "test") -> None:
    """The bundled chain estimator for inversion against DIR/chain.safetensors."""
    estimators = {"bundled": bundled_estimator("chain", for_inversion=True), folder: _load_chain_estimator(folder)}
    _compare_chain_estimators(split, {name: partial(est.predict_q, sample_rate=SR) for name, est in estimators.items()})


def chain_average(split: str, folders: list) -> None:
    """The bundled chain estimator for inversion against the average of its q and the q of
    each DIR's chain estimator ('resynthesis': the bundled re-synthesis weights)."""
    estimators = [bundled_estimator("chain", for_inversion=True)] + [_load_chain_estimator(f) for f in folders]

    def averaged(y):
        return np.mean([est.predict_q(y, SR) for est in estimators], axis=0)

    _compare_chain_estimators(split, {"bundled": partial(estimators[0].predict_q, sample_rate=SR), "averaged": averaged})


def _fit_eq_q(chain: Chain, q_start: np.ndarray, target_db: np.ndarray, steps: int = 200) -> np.ndarray:
    """The EQ part of q (the chain's first stage) whose response shape best fits ``target_db``
    on MEL_GRID_HZ (L1, medians removed), from ``q_start``."""
    from drywet.effects.filters import peq_sos

    n = chain.stages[0].effect.spec.num_params
    z = torch.logit(torch.tensor(q_start[:n], dtype=torch.float64).clamp(1e-4, 1 - 1e-4)).requires_grad_()
    target = torch.tensor(target_db - np.median(target_db))
    z1 = torch.polar(torch.ones(len(MEL_GRID_HZ), dtype=torch.float64), torch.tensor(-2 * np.pi * MEL_GRID_HZ / SR))
    optimizer = torch.optim.Adam([z], lr=0.05)
    for _ in range(steps):
        params = Chain([chain.stages[0]]).split_q(torch.sigmoid(z)[None])[0]
        sos = peq_sos(params, SR, torch)[0]
        h = ((sos[:, 0, None] + sos[:, 1, None] * z1 + sos[:, 2, None] * z1**2)
             / (sos[:, 3, None] + sos[:, 4, None] * z1 + sos[:, 5, None] * z1**2)).prod(0)
        db = 20 * torch.log10(h.abs())
        loss = (db - db.median() - target).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    q = q_start.copy()
    q[:n] = torch.sigmoid(z).detach().numpy()
    return q


def window_responses(split: str) -> None:
    """The chain estimator's EQ from the median, over its analysis windows, of each window's EQ
    response (refitted with the parametric EQ), instead of the EQ of the windows' mean q."""
    est = bundled_estimator("chain", for_inversion=True)
    chain = est.chain

    def per_window_q(y):
        with torch.no_grad():
            return est.network(torch.from_numpy(est._windows(y.mean(0).astype(np.float32))[:, None])).numpy()

    def median_response(y):
        qs = per_window_q(y)
        curves = [_eq_response_db(chain.with_q(q).stages[0]) for q in qs]
        return _fit_eq_q(chain, qs.mean(0), np.median(curves, axis=0))

    _compare_chain_estimators(split, {"bundled (mean q)": lambda y: est.predict_q(y, SR), "median EQ response": median_response})


def eq_augment(split: str, count: int = 8, scale: float = 0.3) -> None:
    """Test-time augmentation by known EQs: the chain estimator also reads y through ``count``
    mild random parametric EQs a_k (gains scaled by ``scale``), each reading's EQ response minus
    a_k's is an estimate of the chain's EQ; their mean (dB) is refitted with the parametric EQ.
    The dynamics part of q is the mean over the readings."""
    est = bundled_estimator("chain", for_inversion=True)
    chain, eq = est.chain, Chain.from_names("parametric_eq")
    gains = [i for i, p in enumerate(eq.stages[0].effect.spec.params) if p.name.endswith("_gain_db")]
    aug_rng = np.random.default_rng(5)

    def augmented(y):
        q0 = est.predict_q(y, SR)
        qs, curves = [q0], [_eq_response_db(chain.with_q(q0).stages[0])]
        for _ in range(count):
            a = aug_rng.uniform(size=eq.num_params)
            a[gains] = 0.5 + scale * (a[gains] - 0.5)
            shaped = eq.with_q(a)
            q = est.predict_q(shaped(y, sample_rate=SR), SR)
            qs.append(q)
            curves.append(_eq_response_db(chain.with_q(q).stages[0]) - _eq_response_db(shaped.stages[0]))
        q = np.mean(qs, axis=0)
        return _fit_eq_q(chain, q, np.mean(curves, axis=0)) if count else q

    _compare_chain_estimators(split, {"bundled": lambda y: est.predict_q(y, SR), f"{count} EQ readings": augmented})


def _band_centers_hz(n_mels: int = 128) -> np.ndarray:
    from drywet.metrics.spectral import hz_to_mel, mel_to_hz

    return mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SR / 2), n_mels + 2))[1:-1]


def _logmel_errors(split: str, true_eq: bool = False) -> list:
    """Per chain-row draw: (log-mel of y - x, of x_hat - x), each (n_mels, channels x frames),
    x_hat as drywet invert --estimate makes it (with the true EQ if ``true_eq``)."""
    from drywet.metrics.losses import logmel_features

    def features(a):
        f = logmel_features(torch.tensor(np.asarray(a), dtype=torch.float32)[None], sample_rate=SR)[0].numpy()
        return np.concatenate(list(f), axis=-1)  # the channels side by side: means over it are logmel_l1's

    est, chain = bundled_estimator("chain", for_inversion=True), Chain.from_names(SETTINGS["chain"])
    xs, per, rng = _chain_row_clips(split)
    out = []
    for x in xs:
        fx = features(x)
        for _ in range(per):
            true = chain.sample(rng)
            y = true(x, sample_rate=SR)
            stages = chain.with_q(est.predict_q(y, SR)).stages
            if true_eq:
                stages = true.stages[:1] + stages[1:]
            out.append((features(y) - fx, features(invert(y, stages, BLIND_DYNAMICS_STRENGTH)) - fx))
    return out


def bands(split: str) -> None:
    """Where in frequency the chain row's log-mel distance lies (mean |difference| per mel
    band, grouped), for y, x_hat and x_hat with the true EQ; then a fixed per-band correction
    of x_hat's log-mel (the median difference over the validation draws, the L1-optimal
    constant) applied to both splits: does the blind inverse leave a bias that a calibration
    EQ would remove?"""
    hz = _band_centers_hz()
    draws, with_true_eq = _logmel_errors(split), _logmel_errors(split, true_eq=True)
    print(f"chain row, {len(draws)} draws on the {split} recordings: mean |log-mel difference| to x per band")
    print("   band (Hz)     bands    y   x_hat  x_hat, true EQ  x_hat - x (signed)  share of x_hat's distance")
    total = sum(np.abs(dh).mean(1) for _, dh in draws)
    edges = (0, 200, 500, 1000, 2000, 4000, 8000, 12000, 16000, SR // 2)
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (hz >= lo) & (hz < hi)
        y_err, xh_err = (np.mean([np.abs(d[m]).mean() for d in ds]) for ds in zip(*draws))
        print(f"   {lo:5d}-{hi:5d}  {m.sum():5d}  {y_err:5.2f}  {xh_err:5.2f}  {np.mean([np.abs(d[m]).mean() for _, d in with_true_eq]):13.2f}"
              f"  {np.mean([d[m].mean() for _, d in draws]):+17.2f}  {total[m].sum() / total.sum():24.0%}")
    valid = draws if split == "valid" else _logmel_errors("valid")
    fitted = np.median(np.concatenate([dh for _, dh in valid], axis=1), axis=1)
    for name, ds in {"valid": valid, split: draws}.items():
        summary(f"{name}: x_hat", [np.abs(dh).mean() / np.abs(dy).mean() for dy, dh in ds])
        summary(f"{name}: calibrated on valid", [np.abs(dh - fitted[:, None]).mean() / np.abs(dy).mean() for dy, dh in ds])

def _centered(curves) -> np.ndarray:
    curves = np.asarray(curves)
    return curves - np.median(curves, axis=-1, keepdims=True)


def _chain_row_readings(split: str) -> dict:
    """Per chain-row draw: the true EQ response, the responses estimated by the chain estimator
    for inversion, the re-synthesis one and the EQ-only one (dB on MEL_GRID_HZ, medians removed),
    the |dq| between the two chain estimators (all of q, and its dynamics part) and the ratio of
    x_hat as drywet invert --estimate makes it."""
    inv, res, eq = bundled_estimator("chain", for_inversion=True), bundled_estimator("chain"), bundled_estimator("eq", for_inversion=True)
    chain = inv.chain
    n_eq = chain.stages[0].effect.spec.num_params
    xs, per, rng = _chain_row_clips(split)
    rows = collections.defaultdict(list)
    for x in xs:
        for _ in range(per):
            true = chain.sample(rng)
            y = true(x, sample_rate=SR)
            qi, qr = inv.predict_q(y, SR), res.predict_q(y, SR)
            rows["true"].append(_eq_response_db(true.stages[0]))
            rows["inversion"].append(_eq_response_db(chain.with_q(qi).stages[0]))
            rows["resynthesis"].append(_eq_response_db(chain.with_q(qr).stages[0]))
            rows["eq"].append(_eq_response_db(eq.estimate(y, sample_rate=SR).stages[0]))
            rows["dq"].append(np.abs(qi - qr).mean())
            rows["dq_dynamics"].append(np.abs(qi[n_eq:] - qr[n_eq:]).mean())
            rows["ratio"].append(log_mel(x, invert(y, chain.with_q(qi).stages, BLIND_DYNAMICS_STRENGTH)) / log_mel(x, y))
    return {k: _centered(v) if k in ("true", "inversion", "resynthesis", "eq") else np.array(v) for k, v in rows.items()}


def eq_shape_checks(split: str) -> None:
    """The chain row's EQ shape error (mean |dB| on MEL_GRID_HZ, medians removed) of the chain
    estimator for inversion, against: a per-band shrink factor of its response fitted on valid
    (L1, 0 to 1.5), averages with the other estimators, shrinking where it disagrees with the
    EQ-only estimator (weight 1 / (1 + (d / tau)^2)); and where in frequency the error lies.
    Then whether the disagreement of the estimators tells the draws that inversion makes worse
    than y (ratio > 1): Spearman correlation with the ratio, and AUC."""
    from scipy.stats import rankdata, spearmanr

    valid = _chain_row_readings("valid")
    grid = np.linspace(0.0, 1.5, 31)
    shrink = np.array([grid[np.argmin([np.abs(valid["true"][:, k] - g * valid["inversion"][:, k]).mean() for g in grid])]
                       for k in range(len(MEL_GRID_HZ))])
    r = valid if split == "valid" else _chain_row_readings(split)
    t, h, e, s = r["true"], r["inversion"], r["eq"], r["resynthesis"]

    def error(curves):
        return np.abs(t - _centered(curves)).mean()

    print(f"chain row, {len(t)} draws on the {split} recordings: EQ shape error (dB)")
    for name, curves in {"0 dB (no estimate)": np.zeros_like(t), "estimator for inversion": h, "EQ-only estimator": e,
                         "re-synthesis estimator": s, "per-band shrink (valid)": shrink * h,
                         "mean of inversion, EQ-only": (h + e) / 2, "mean of the three": (h + e + s) / 3}.items():
        print(f"   {name:32s} {error(curves):.2f}")
    for tau in (2.0, 4.0, 8.0):
        weight = 1.0 / (1.0 + (np.abs(h - e) / tau) ** 2)
        print(f"   shrunk where they disagree, tau {tau:g} dB  {error(h * weight):.2f}")
    print("   per region (Hz): error of the estimate / of 0 dB")
    for lo, hi in ((30, 200), (200, 2000), (2000, 8000), (8000, 18001)):
        m = (MEL_GRID_HZ >= lo) & (MEL_GRID_HZ < hi)
        print(f"      {lo:5d}-{hi - 1:5d}  {np.abs(t - h)[:, m].mean():.2f} / {np.abs(t)[:, m].mean():.2f}")
    worse = r["ratio"] > 1
    print(f"   draws made worse than y: {worse.sum()} of {len(worse)}")
    for name in ("dq", "dq_dynamics"):
        signal = r[name]
        ranks = rankdata(signal)
        auc = (ranks[worse].sum() - worse.sum() * (worse.sum() + 1) / 2) / (worse.sum() * (~worse).sum())
        print(f"   |dq| between the chain estimators ({name}): Spearman {spearmanr(signal, r['ratio']).correlation:+.2f}, AUC {auc:.2f}")
    signal = np.abs(h - e).mean(-1)
    ranks = rankdata(signal)
    auc = (ranks[worse].sum() - worse.sum() * (worse.sum() + 1) / 2) / (worse.sum() * (~worse).sum())
    print(f"   EQ disagreement with the EQ-only estimator: Spearman {spearmanr(signal, r['ratio']).correlation:+.2f}, AUC {auc:.2f}")


IDEAS = {"partial-compressor": partial_compressor, "partial-eq": partial_eq, "amplified-eq": amplified_eq,
         "two-eq-estimates": two_eq_estimates, "spectrum-prior": spectrum_prior, "music-spectra": music_spectra,
         "partial-clipper": partial_clipper, "window-responses": window_responses, "eq-augment": eq_augment, "bands": bands, "eq-shape-checks": eq_shape_checks}


def main() -> None:
    warnings.simplefilter("ignore", InversionWarning)
    command, *rest = sys.argv[1:] or ["help"]
    if command == "peel":
        peel()
    elif command == "windows":
        windows()
    elif command == "chain-weights" and rest and rest[1:] in ([], ["test"], ["valid"]):
        chain_weights(*rest)
    elif command == "chain-average" and len(rest) > 1 and rest[0] in ("test", "valid"):
        chain_average(rest[0], rest[1:])
    elif command in IDEAS and rest and rest[0] in ("test", "valid"):
        IDEAS[command](rest[0])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
