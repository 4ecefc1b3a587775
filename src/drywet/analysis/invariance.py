"""How much does a feature extractor or a model move when audio is degraded? (the "horse"
test: a model that is right for the wrong reason falls over under a harmless change.)

Every effect whose spec declares a strength parameter is applied at several levels between
its mild and strong ends (a line in normalized parameter space); for each level the table
gives the relative distance ||f(y) - f(x)|| / ||f(x)|| between the features of the degraded
and the clean audio (mean and standard deviation over files) and, for a classifier, the
agreement of its top-1 class with the clean input's.

Extractors: built-in ``mfcc`` (mean and standard deviation of 20 MFCCs over frames) and
``logmel`` (of 64 log-mel bands), a model path (TorchScript ``model.pt`` or torch.export
``model.pt2``, called with a (1, channels, samples) float32 tensor), or a Python callable ``module:function`` /
``file.py:function`` taking ``(audio (channels, samples) numpy, sample_rate)``.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DrywetError
from ..registry import EFFECTS, get_effect

DEFAULT_LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)
NEEDS_FOLDER = {"noise_file": "noise_dir", "room_ir": "ir_dir"}
N_MFCC = 20
N_MELS = 64


def _log_mel(x: np.ndarray, sample_rate: int, n_mels: int = N_MELS) -> np.ndarray:
    import torch

    from ..metrics.spectral import mel_power

    mono = torch.tensor(x.mean(axis=0), dtype=torch.float32)
    n_fft = 1 << int(np.ceil(np.log2(0.032 * sample_rate)))  # ~32 ms frames
    return np.log(mel_power(mono, sample_rate, n_fft=n_fft, hop=n_fft // 4, n_mels=n_mels).numpy() + 1e-8)


def logmel_stats(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean and standard deviation over frames of 64 log-mel bands, shape (128,)."""
    m = _log_mel(x, sample_rate)
    return np.concatenate([m.mean(axis=-1), m.std(axis=-1)])


def mfcc_stats(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean and standard deviation over frames of 20 MFCCs (orthonormal DCT-II), shape (40,)."""
    from scipy.fft import dct

    c = dct(_log_mel(x, sample_rate), type=2, norm="ortho", axis=0)[:N_MFCC]
    return np.concatenate([c.mean(axis=-1), c.std(axis=-1)])


BUILTIN = {"mfcc": mfcc_stats, "logmel": logmel_stats}


def load_extractor(spec: str | Callable) -> Callable[[np.ndarray, int], np.ndarray]:
    """A built-in name, a TorchScript path, ``module:function`` or ``file.py:function``."""
    if callable(spec):
        return spec
    if spec in BUILTIN:
        return BUILTIN[spec]
    if spec.endswith((".pt", ".pth", ".ts", ".pt2")):
        return _torch_model(spec)
    if ":" in spec:
        where, name = spec.rsplit(":", 1)
        if where.endswith(".py"):
            if not Path(where).is_file():
                raise DrywetError(f"feature file not found: {where}")
            module_spec = importlib.util.spec_from_file_location(Path(where).stem, where)
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            try:
                module = importlib.import_module(where)
            except ImportError as exc:
                raise DrywetError(f"cannot import {where!r} for the feature extractor: {exc}") from exc
        fn = getattr(module, name, None)
        if not callable(fn):
            raise DrywetError(f"{where} has no callable {name!r}")
        return fn
    raise DrywetError(f"unknown feature extractor {spec!r}: use {', '.join(BUILTIN)}, model.pt or module:function")


def _torch_model(path: str) -> Callable:
    """A TorchScript file (.pt, .pth, .ts) or a torch.export program (.pt2)."""
    import warnings

    import torch

    if not Path(path).is_file():
        raise DrywetError(f"model not found: {path}")
    try:
        if path.endswith(".pt2"):
            model = torch.export.load(path).module()
        else:
            with warnings.catch_warnings():  # deprecated in torch 2.13 but still the format users have
                warnings.simplefilter("ignore", DeprecationWarning)
                model = torch.jit.load(path, map_location="cpu").eval()
    except Exception as exc:  # torch raises RuntimeError subclasses for bad files
        raise DrywetError(f"cannot load model {path}: {exc}") from exc

    def run(x: np.ndarray, sample_rate: int) -> np.ndarray:
        with torch.no_grad():
            return model(torch.tensor(x[None], dtype=torch.float32)).reshape(-1).numpy()

    return run


def default_effects(**folders: Any) -> list[str]:
    """Effects with a strength, leaving out those that need a folder nobody gave."""
    return [
        name
        for name, e in EFFECTS.items()
        if e.spec.strength is not None and (name not in NEEDS_FOLDER or folders.get(NEEDS_FOLDER[name]))
    ]


def invariance(
    clips: Sequence[np.ndarray],
    sample_rate: int,
    extractor: Callable[[np.ndarray, int], np.ndarray],
    *,
    effects: Sequence[str] | None = None,
    levels: Sequence[float] = DEFAULT_LEVELS,
    classifier: bool = False,
    seed: int = 0,
    options: dict | None = None,
) -> list[dict]:
    """Rows (effect, level, param, value, distance mean/std, top-1 agreement) for a table.

    Args:
        clips: (channels, samples) float arrays at ``sample_rate``.
        extractor: features (or class scores) of one clip, any shape (flattened).
        effects: names (default: every effect with a strength).
        levels: strengths in [0, 1] (0 mild, 1 strong).
        classifier: also report top-1 agreement with the clean clip's class.
        seed: seed of the effects that draw noise.
        options: extra settings per effect name, e.g. {"noise_file": {"noise_dir": "noise/"}}.
    """
    if not clips:
        raise DrywetError("invariance needs at least one audio clip")
    options = options or {}
    names = list(effects) if effects else default_effects(**{k: v for o in options.values() for k, v in o.items()})
    clean = [_features(extractor, x, sample_rate, "clean audio") for x in clips]
    rows = []
    for name in names:
        effect = get_effect(name)
        if effect.spec.strength is None:
            raise DrywetError(f"{name} declares no strength parameter; choose among {', '.join(default_effects())}")
        settings = dict(options.get(effect.name, {}))
        if "seed" in effect.spec.option_names:
            settings.setdefault("seed", seed)
        for level in levels:
            params = effect.spec.at_strength(float(level))
            distances, agree = [], []
            for x, f in zip(clips, clean):
                y = effect(x, sample_rate=sample_rate, **params, **settings)
                g = _features(extractor, y, sample_rate, f"{name} at strength {level:g}")
                if g.shape != f.shape:
                    raise DrywetError(f"the feature extractor returned {g.size} values on {name} at strength {level:g} "
                                      f"but {f.size} on the clean clip; it must return one size for any audio")
                distances.append(float(np.linalg.norm(g - f) / max(np.linalg.norm(f), 1e-12)))
                if classifier:
                    agree.append(float(np.argmax(g) == np.argmax(f)))
            (param, value), = params.items()
            rows.append(
                {
                    "effect": effect.name,
                    "level": float(level),
                    "param": param,
                    "value": value,
                    "unit": effect.spec.param(param).unit,
                    "distance_mean": float(np.mean(distances)),
                    "distance_std": float(np.std(distances)),
                    "top1_agreement": float(np.mean(agree)) if classifier else None,
                }
            )
    return rows


def _features(extractor: Callable, x: np.ndarray, sample_rate: int, what: str) -> np.ndarray:
    """The extractor's output on ``x`` as a flat float64 array, or DrywetError saying what is
    wrong with a user extractor (its exception, a non-numeric or empty output, NaN or Inf)."""
    usage = "it must take (audio (channels, samples) float, sample_rate) and return an array of numbers"
    try:
        out = extractor(x, sample_rate)
    except Exception as exc:  # a user callable or model: report it with its cause
        raise DrywetError(f"the feature extractor failed on {what}: {type(exc).__name__}: {exc}; {usage}") from exc
    try:
        if out is None or isinstance(out, (str, bytes)):  # asarray would read None as NaN
            raise TypeError
        values = np.asarray(out.detach().cpu() if hasattr(out, "detach") else out, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise DrywetError(f"the feature extractor returned {type(out).__name__} on {what}; {usage}") from None
    if values.size == 0:
        raise DrywetError(f"the feature extractor returned no values on {what}; {usage}")
    if not np.all(np.isfinite(values)):
        raise DrywetError(f"the feature extractor returned NaN or Inf on {what}")
    return values


def format_table(rows: list[dict]) -> str:
    head = f"{'effect':22s} {'level':>5s} {'setting':>24s} {'distance':>17s}"
    classifier = rows and rows[0]["top1_agreement"] is not None
    lines = [head + (f" {'top-1 agree':>11s}" if classifier else "")]
    for r in rows:
        setting = f"{r['param']}={r['value']:.4g}{(' ' + r['unit']) if r['unit'] else ''}"
        line = f"{r['effect']:22s} {r['level']:5.2f} {setting:>24s} {r['distance_mean']:8.4f} +/- {r['distance_std']:.4f}"
        if classifier:
            line += f" {r['top1_agreement']:11.2f}"
        lines.append(line)
    return "\n".join(lines)


def write_outputs(rows: list[dict], out_dir: Path) -> list[Path]:
    """invariance.csv, invariance.json and invariance.png (distance vs strength per effect)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "invariance.json").write_text(json.dumps(rows, indent=1))
    with open(out_dir / "invariance.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    classifier = rows[0]["top1_agreement"] is not None
    fig, axes = plt.subplots(1, 2 if classifier else 1, figsize=(13 if classifier else 8, 6), squeeze=False)
    names = list(dict.fromkeys(r["effect"] for r in rows))
    cmap = plt.get_cmap("tab20")
    for i, name in enumerate(names):
        sub = [r for r in rows if r["effect"] == name]
        style = "-" if i < 20 else "--"
        axes[0, 0].plot([r["level"] for r in sub], [r["distance_mean"] for r in sub], style, color=cmap(i % 20), label=name, marker="o", ms=3)
        if classifier:
            axes[0, 1].plot([r["level"] for r in sub], [r["top1_agreement"] for r in sub], style, color=cmap(i % 20), marker="o", ms=3)
    axes[0, 0].set(xlabel="strength (0 mild, 1 strong)", ylabel="relative feature distance", yscale="log", title="feature movement")
    axes[0, 0].legend(fontsize=6, ncol=2)
    if classifier:
        axes[0, 1].set(xlabel="strength", ylabel="top-1 agreement with clean", ylim=(-0.05, 1.05), title="classifier agreement")
    fig.tight_layout()
    fig.savefig(out_dir / "invariance.png", dpi=110)
    plt.close(fig)
    return [out_dir / n for n in ("invariance.csv", "invariance.json", "invariance.png")]


def load_clips(folder: Any, sample_rate: int, crop_s: float, max_files: int | None = None) -> list[np.ndarray]:
    """Mono clips of at most ``crop_s`` seconds (the loudest part) from a folder."""
    from ..datasets import AudioFolder
    from ..io import read_audio

    files = AudioFolder(folder, sample_rate=sample_rate).files[:max_files]
    clips = []
    n = int(crop_s * sample_rate)
    for path in files:
        try:
            x, _ = read_audio(path, sample_rate=sample_rate, channels=1)
        except DrywetError:
            continue
        if x.shape[-1] > n:  # the loudest window: silence says nothing about invariance
            cumulative = np.concatenate([[0.0], np.cumsum(x[0].astype(np.float64) ** 2)])
            start = int(np.argmax(cumulative[n:] - cumulative[:-n]))
            x = x[:, start : start + n]
        if np.any(x):
            clips.append(np.ascontiguousarray(x))
    if not clips:
        raise DrywetError(f"no readable, non-silent audio in {folder}")
    return clips
