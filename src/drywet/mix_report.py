"""HTML report of a mixing session: per track its strip settings with units, the curves its
effects declare (EQ response, compressor curve), pan, sends and levels; the master; a mix
overview (spectral balance and stereo width per octave band, momentary loudness); players for the mix and every
stem. One self-contained file: figures are embedded, audio is referenced by relative path."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import numpy as np

from .metrics.loudness import integrated_loudness, momentary_loudness
from .report import STYLE, chain_table, curves_figure, figure_png


def _overview_figure(mix: np.ndarray, sample_rate: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .mixing.auto import mix_features

    features = mix_features(mix, sample_rate)
    centres = 31.25 * 2.0 ** (np.arange(10) + 0.5)
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(13, 3.2))
    a.semilogx(centres, features["balance_db"], marker="o")
    a.set(xlabel="octave band (Hz)", ylabel="dB re. total", title="spectral balance (mid)")
    b.semilogx(centres, features["width_db"], marker="o")
    b.set(xlabel="octave band (Hz)", ylabel="side / mid (dB)", title="stereo width per band")
    loud = momentary_loudness(mix, sample_rate=sample_rate, hop_s=0.1)
    c.plot(np.arange(loud.size) * 0.1, loud)
    c.set(xlabel="time (s)", ylabel="LUFS", title="momentary loudness (400 ms)")
    for ax in (a, b, c):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _level(x: np.ndarray, sample_rate: int) -> str:
    peak = float(np.abs(x).max(initial=0.0))
    lufs = integrated_loudness(x, sample_rate=sample_rate) if peak > 0 else -np.inf
    return f"{lufs:.1f} LUFS, peak {20 * np.log10(max(peak, 1e-12)):+.1f} dBFS"


def write_mix_report(path: Any, session, mix: np.ndarray, stems: np.ndarray, sample_rate: int, *, mix_file: str,
                     reference: tuple[np.ndarray, str] | None = None, title: str = "drywet mix") -> Path:
    """Write the report of ``session`` rendered to ``mix`` (2, T) from ``stems`` (tracks, C, T).

    Args:
        path: output .html.
        mix_file: the mix's audio file (its player's source).
        reference: (audio, file) of a reference or real mix, shown and played beside it.
    """
    path = Path(path)
    graph = session.graph()
    here = path.parent.resolve()

    def rel(p) -> str:
        return os.path.relpath(Path(p).resolve(), here)

    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
             f"<p>{len(session.tracks)} tracks, {mix.shape[1] / sample_rate:.1f} s at {sample_rate} Hz; "
             f"mix {_level(mix, sample_rate)}.</p><h2>Audio</h2><div class='players'>",
             f"<div><b>mix</b><br><audio controls src='{html.escape(rel(mix_file))}'></audio></div>"]
    if reference is not None:
        parts.append(f"<div><b>reference</b><br><audio controls src='{html.escape(rel(reference[1]))}'></audio></div>")
    parts.append("</div>")
    parts.append(f"<h2>Mix overview</h2><img alt='mix overview' src='data:image/png;base64,{figure_png(_overview_figure(mix, sample_rate))}'>")
    if reference is not None:
        parts.append("<p>Reference:</p><img alt='reference overview' "
                     f"src='data:image/png;base64,{figure_png(_overview_figure(reference[0], sample_rate))}'>")
    for t, (name, node) in enumerate(graph.tracks.named_children()):
        track = session.tracks[t]
        sends = ", ".join(f"{bus} {db:+.1f} dB" for bus, db in track.sends.items()) or "none"
        parts.append(f"<h2>Track {html.escape(name)}</h2><p>stem <code>{html.escape(track.stem)}</code>: "
                     f"{_level(stems[t], sample_rate)}; sends: {html.escape(sends)}</p>"
                     f"<audio controls src='{html.escape(rel(session.root / track.stem))}'></audio>" + chain_table(node))
        curves, caption = curves_figure(node, sample_rate)
        if curves is not None:
            parts.append(f"<img alt='{html.escape(caption)}' src='data:image/png;base64,{figure_png(curves)}'>")
    for bus in graph.buses:
        parts.append(f"<h2>Bus {html.escape(bus.key)}</h2>" + chain_table(bus.ret))
    parts.append("<h2>Master</h2>" + (chain_table(graph.master) if graph.master.stages else "<p>no processing</p>"))
    curves, caption = curves_figure(graph.master, sample_rate)
    if curves is not None:
        parts.append(f"<img alt='{html.escape(caption)}' src='data:image/png;base64,{figure_png(curves)}'>")
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path
