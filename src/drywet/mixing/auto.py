"""Automatic mixing without training: the knowledge-based ``rules`` mixer after Perez-Gonzalez &
Reiss, and the baselines of the learning-to-mix thesis (mono sum, random mix).

Each method reads the stems and writes a session's settings (so its mix can be edited and
rendered like any other); :func:`auto_mix` runs one by name.

``rules``, per track, from measurements of its stem:
- loudness balance: every track to the same integrated loudness (BS.1770);
- panning by spectral content: tracks whose energy sits below 250 Hz (bass, kick) stay
  centred; the others alternate left and right, further out the higher their spectral
  centroid (0.2 to 0.6 of the range);
- EQ against masking: the tracks that are not low-end get a 3 dB low-shelf cut, which leaves
  the low end to the bass and kick;
- gentle compression of dynamic tracks: a crest factor above 18 dB gets a 3:1 compressor whose
  threshold sits 8 dB above the track's RMS level;
- a reverb send (-18 dB) for the tracks that are not low-end, to one filtered-noise reverb bus;
- the master: a gain that brings the mix to -16 LUFS, then a limiter at -1 dBFS; where transients
  still pass -1 dBFS, a trim after the limiter brings the peak to it (less loud, never clipped).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import DrywetError
from ..metrics.loudness import integrated_loudness
from .session import Bus, Session

METHODS = ("rules", "mono", "random")
RULES_STRIP = ("gain", "parametric_eq", "compressor", "pan")
MIX_LUFS = -16.0
CEILING_DB = -1.0  # the master's peak ceiling, which wins over MIX_LUFS
TRACK_LUFS = -30.0
LOW_END_HZ = 250.0
LOW_END_SHARE = 0.5
DYNAMIC_CREST_DB = 18.0
REVERB_SEND_DB = -18.0


def _low_share_and_centroid(x: np.ndarray, sample_rate: int) -> tuple[float, float]:
    """Share of the energy below LOW_END_HZ and the spectral centroid (Hz) of a stem (C, T)."""
    mono = x.mean(0)
    spectrum = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(mono.size, 1.0 / sample_rate)
    total = spectrum.sum()
    if total <= 0:
        return 0.0, 0.0
    return float(spectrum[freqs < LOW_END_HZ].sum() / total), float((freqs * spectrum).sum() / total)


def _crest_and_rms_db(x: np.ndarray) -> tuple[float, float]:
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    peak = float(np.abs(x).max())
    if rms <= 0:
        return 0.0, -120.0
    return 20 * np.log10(peak / rms), 20 * np.log10(rms)


def _balance_gain(x: np.ndarray, loudness: float, sample_rate: int) -> float:
    """The gain (dB) that brings a stem to TRACK_LUFS. BS.1770's absolute gate (-70 LUFS) lets
    more blocks of a sparse stem in once it is louder, so one correction follows the first guess."""
    if not np.isfinite(loudness):
        return -24.0
    gain = float(np.clip(TRACK_LUFS - loudness, -24.0, 24.0))
    after = integrated_loudness(x * 10 ** (gain / 20), sample_rate=sample_rate)
    return float(np.clip(gain + TRACK_LUFS - after, -24.0, 24.0)) if np.isfinite(after) else gain


def rules_settings(stems: np.ndarray, sample_rate: int) -> tuple[list[dict], list[dict]]:
    """Per-track settings {processor: {param: value}} and sends of the rules mixer, for
    (tracks, channels, samples) stems."""
    analysis = []
    for x in stems:
        share, centroid = _low_share_and_centroid(x, sample_rate)
        crest, rms_db = _crest_and_rms_db(x)
        loud = integrated_loudness(x, sample_rate=sample_rate) if np.any(x) else -np.inf
        analysis.append({"low": share >= LOW_END_SHARE, "centroid": centroid, "crest": crest, "rms_db": rms_db, "lufs": loud})
    others = sorted((i for i, a in enumerate(analysis) if not a["low"]), key=lambda i: analysis[i]["centroid"])
    pans = {i: 0.0 for i in range(len(analysis))}
    for rank, i in enumerate(others):
        width = 0.2 + 0.4 * (rank + 1) / max(len(others), 1)
        pans[i] = width if rank % 2 == 0 else -width
    settings, sends = [], []
    for i, a in enumerate(analysis):
        gain = _balance_gain(stems[i], a["lufs"], sample_rate)
        track = {"gain": {"gain_db": gain}, "pan": {"pan": pans[i]},
                 "parametric_eq": {} if a["low"] else {"low_shelf_gain_db": -3.0, "low_shelf_freq_hz": 120.0}}
        if a["crest"] > DYNAMIC_CREST_DB:
            threshold = float(np.clip(a["rms_db"] + gain + 8.0, -40.0, 0.0))
            track["compressor"] = {"threshold_db": threshold, "ratio": 3.0, "attack_ms": 10.0, "release_ms": 120.0, "knee_db": 6.0}
        settings.append(track)
        sends.append({} if a["low"] else {"reverb": REVERB_SEND_DB})
    return settings, sends


def auto_mix(session: Session, method: str = "rules", *, seed: int = 0, log=None) -> Session:
    """A copy of ``session`` whose strips (and buses, master) the method set."""
    if method not in METHODS:
        raise DrywetError(f"method must be one of {METHODS}, not {method!r}")
    stems, sr = session.read_stems(log=log)
    out = Session([type(t)(t.name, t.stem) for t in session.tracks], root=session.root, sample_rate=sr)
    if method == "mono":  # every stem at unity, centred: the plain sum
        out.strip = ["gain"]
    elif method == "random":  # the thesis' random mix: gain within +-12 dB, any pan
        rng = np.random.default_rng(seed)
        out.strip = ["gain", "pan"]
        for t in out.tracks:
            t.settings = {"gain": {"gain_db": float(rng.uniform(-12, 12))}, "pan": {"pan": float(rng.uniform(-1, 1))}}
    else:
        out.strip = list(RULES_STRIP)
        settings, sends = rules_settings(stems, sr)
        for t, s, send in zip(out.tracks, settings, sends):
            t.settings, t.sends = s, send
        out.buses = [Bus("reverb", [{"effect": "noise_reverb", "params": {"mix": 1.0}}])]
        mix = out.graph()(stems, sample_rate=sr)  # before the master: its gain comes from this level
        loud = integrated_loudness(mix, sample_rate=sr) if np.any(mix) else MIX_LUFS
        gain = float(np.clip(MIX_LUFS - loud, -24.0, 24.0))
        limiter = {"effect": "limiter", "params": {"threshold_db": CEILING_DB, "attack_ms": 0.1, "release_ms": 100.0}}
        out.master = [{"effect": "gain", "params": {"gain_db": gain}}, limiter]
        peak_db = 20 * np.log10(max(float(np.abs(out.graph()(stems, sample_rate=sr)).max()), 1e-12))
        if peak_db > CEILING_DB:  # transients the limiter's attack lets through: a trim after it, less loud, never clipped
            out.master.append({"effect": "gain", "params": {"gain_db": float(max(CEILING_DB - peak_db, -24.0))}})
    return out


def mix_features(mix: np.ndarray, sample_rate: int) -> dict[str, np.ndarray | float]:
    """What mixing engineers read from a stereo mix (2, T): loudness (LUFS), octave-band
    spectral balance (dB re. the total), stereo width per octave band (side/mid energy, dB) and
    crest factor (dB)."""
    if mix.shape[0] != 2:
        raise DrywetError(f"mix features need a stereo mix, got {mix.shape[0]} channels")
    mid, side = 0.5 * (mix[0] + mix[1]), 0.5 * (mix[0] - mix[1])
    freqs = np.fft.rfftfreq(mix.shape[1], 1.0 / sample_rate)
    pm, ps = np.abs(np.fft.rfft(mid)) ** 2, np.abs(np.fft.rfft(side)) ** 2
    edges = 31.25 * 2.0 ** np.arange(11)
    bands_m = np.array([pm[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in zip(edges[:-1], edges[1:])]) + 1e-12
    bands_s = np.array([ps[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in zip(edges[:-1], edges[1:])]) + 1e-12
    crest, _ = _crest_and_rms_db(mix)
    return {"lufs": integrated_loudness(mix, sample_rate=sample_rate), "balance_db": 10 * np.log10(bands_m / bands_m.sum()),
            "width_db": 10 * np.log10(bands_s / bands_m), "crest_db": crest}


def feature_errors(mix: np.ndarray, reference: np.ndarray, sample_rate: int) -> dict[str, float]:
    """Per-feature errors of a mix against a reference mix (see :func:`mix_features`)."""
    a, b = mix_features(mix, sample_rate), mix_features(reference, sample_rate)
    return {"loudness_error_lu": abs(a["lufs"] - b["lufs"]),
            "spectral_balance_error_db": float(np.sqrt(np.mean((a["balance_db"] - b["balance_db"]) ** 2))),
            "width_error_db": float(np.sqrt(np.mean((a["width_db"] - b["width_db"]) ** 2))),
            "crest_error_db": abs(a["crest_db"] - b["crest_db"])}


def stereo_distance(mix: np.ndarray, reference: np.ndarray, sample_rate: int) -> float:
    """The thesis' stereo loss (MR-STFT on the sum and the difference, eq. 5.3), after both
    mixes are brought to the same loudness (a mix's level is the engineer's last fader)."""
    import torch

    from ..metrics.losses import stereo_mrstft

    n = min(mix.shape[1], reference.shape[1])
    a, b = mix[:, :n].astype(np.float64), reference[:, :n].astype(np.float64)
    la, lb = integrated_loudness(a, sample_rate=sample_rate), integrated_loudness(b, sample_rate=sample_rate)
    a = a * 10 ** ((lb - la) / 20)
    return float(stereo_mrstft(torch.tensor(b)[None], torch.tensor(a)[None]))


def methods_table(rows: Sequence[dict]) -> str:
    keys = ["method", "song", "stereo_mrstft", "loudness_error_lu", "spectral_balance_error_db", "width_error_db", "crest_error_db"]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]) for k in keys) + " |")
    return "\n".join(lines)
