"""HTML reports: chain table with units, effect curves, spectrograms and audio players.

Figures are drawn with matplotlib (Agg) and embedded as base64 PNG so the report is one
file next to the audio it plays (referenced by relative path).
"""

from __future__ import annotations

import base64
import html
import io as _io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .graph.chain import Chain
from .graph.effect_node import format_value


def figure_png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def curves_figure(chain: Chain, sample_rate: int):
    """One panel per plot that the chain's effects declare (``Effect.plots``: magnitude
    responses, static and transfer curves, decays), for stages with constant parameters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(key, s, plot) for key, s in chain.effect_stages() if not s.curves  # time-varying: no single curve
              for plot in s.effect.plots(s.params, s.options, sample_rate)]
    if not panels:
        return None, ""
    caption = ", ".join(f"{key} {plot.title}" for key, _, plot in panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), squeeze=False)
    for ax, (key, s, plot) in zip(axes[0], panels):
        title = key + (" (bypassed)" if s.bypass else "")
        draw = ax.semilogx if plot.log_x else ax.plot
        for label, y in plot.lines:
            draw(plot.x, y, label=label or None)
        if plot.identity:
            ax.plot(plot.x, plot.x, "--", color="gray", lw=0.8, label="unity" if any(lb for lb, _ in plot.lines) else None)
        if any(lb for lb, _ in plot.lines):
            ax.legend(fontsize=7)
        ax.set(xlabel=plot.xlabel, ylabel=plot.ylabel, title=f"{title}: {plot.title}")
        low, high = min(float(np.min(y)) for _, y in plot.lines), max(float(np.max(y)) for _, y in plot.lines)
        if high - low < plot.min_span:
            mid = 0.5 * (low + high)
            ax.set_ylim(mid - plot.min_span / 2, mid + plot.min_span / 2)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig, caption


def _spectrograms_figure(signals: Sequence[tuple[str, np.ndarray]], sample_rate: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.signal import spectrogram

    fig, axes = plt.subplots(1, len(signals), figsize=(4.6 * len(signals), 3.2), squeeze=False, sharey=True)
    for ax, (label, x) in zip(axes[0], signals):
        f, t, s = spectrogram(np.asarray(x, dtype=np.float64).mean(axis=0), fs=sample_rate, nperseg=2048, noverlap=1536)
        ax.pcolormesh(t, f, 10 * np.log10(s + 1e-12), shading="auto", vmin=-120, vmax=-20, cmap="magma")
        ax.set_yscale("symlog", linthresh=500)
        ax.set(title=label, xlabel="time (s)", ylim=(20, sample_rate / 2))
    axes[0][0].set_ylabel("frequency (Hz)")
    fig.tight_layout()
    return fig


def chain_table(chain: Chain, ranges: Sequence[dict] | None = None) -> str:
    """Parameters with units and spec ranges; ``ranges``: rows of
    :meth:`drywet.estimate.uncertainty.Uncertainty.intervals` (what sounds the same)."""
    rows = []
    i = 0
    for key, s in chain.effect_stages():
        spec = s.effect.spec
        for p in spec.params:
            same = ""
            if ranges is not None:
                r = ranges[i]
                same = f"<td>{r['low']:.4g} .. {r['high']:.4g}{'' if r['identifiable'] else ' (not identifiable)'}</td>"
            rows.append(
                f"<tr><td>{html.escape(key)}{' (bypassed)' if s.bypass else ''}</td><td>{p.name}</td>"
                f"<td>{html.escape(format_value(s.params[p.name]))}</td><td>{html.escape(p.unit)}</td>"
                f"<td>{p.min:g} .. {p.max:g} ({p.scale})</td>{same}</tr>"
            )
            i += 1
    extra = "<th>sounds the same within</th>" if ranges is not None else ""
    return (
        f"<table><tr><th>stage</th><th>parameter</th><th>value</th><th>unit</th><th>range</th>{extra}</tr>"
        + "".join(rows)
        + "</table>"
    )


def comparison_table(chains: dict[str, Chain]) -> str:
    """HTML table of the same chain's parameters under several labels (true, estimated, ...),
    with each estimate's distance to the first in normalized units |q - q_true|."""
    labels = list(chains)
    reference = chains[labels[0]]
    head = "".join(f"<th>{html.escape(label)}</th>" for label in labels)
    rows = []
    for i, s in enumerate(reference.stages):
        for p in s.effect.spec.params:
            cells = []
            for label in labels:
                value, reference_value = chains[label].stages[i].params[p.name], s.params[p.name]
                constant = not isinstance(value, tuple) and not isinstance(reference_value, tuple)
                err = "" if label == labels[0] or not constant else f" <small>(|dq| {abs(p.normalize(value) - p.normalize(reference_value)):.2f})</small>"
                cells.append(f"<td>{html.escape(format_value(value))}{err}</td>")
            rows.append(f"<tr><td>{html.escape(s.key)}</td><td>{p.name}</td><td>{html.escape(p.unit)}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>stage</th><th>parameter</th><th>unit</th>{head}</tr>{''.join(rows)}</table>"


STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}
th{background:#f3f3f3}img{max-width:100%}audio{width:100%}.players{display:flex;gap:2em}
.players div{flex:1}
"""


def write_report(
    path: Any,
    *,
    title: str,
    chain: Chain,
    sample_rate: int,
    signals: Sequence[tuple[str, np.ndarray, str]],
    metrics: dict[str, float] | None = None,
    notes: str = "",
    ranges: Sequence[dict] | None = None,
) -> Path:
    """Write an HTML report.

    Args:
        path: output .html.
        title: page title.
        chain: the chain whose parameters and curves are shown.
        sample_rate: Hz.
        signals: (label, audio (channels, samples), relative audio file path) for the players
            and spectrograms.
        metrics: optional name -> value table.
        notes: optional HTML paragraph.
        ranges: optional per-parameter ranges that sound the same (``Uncertainty.intervals()``).
    """
    path = Path(path)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"]
    if notes:
        parts.append(f"<p>{notes}</p>")
    parts.append("<h2>Audio</h2><div class='players'>")
    for label, _, rel in signals:
        parts.append(f"<div><b>{html.escape(label)}</b><br><audio controls src='{html.escape(rel)}'></audio></div>")
    parts.append("</div><h2>Chain</h2>" + chain_table(chain, ranges))
    curves, caption = curves_figure(chain, sample_rate)
    if curves is not None:
        parts.append(
            f"<h2>Effect curves</h2><p>{html.escape(caption)}</p>"
            f"<img alt='{html.escape(caption)}' src='data:image/png;base64,{figure_png(curves)}'>"
        )
    spec_fig = _spectrograms_figure([(label, x) for label, x, _ in signals], sample_rate)
    parts.append(f"<h2>Spectrograms</h2><img alt='spectrograms' src='data:image/png;base64,{figure_png(spec_fig)}'>")
    if metrics:
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.4g}</td></tr>" for k, v in metrics.items())
        parts.append(f"<h2>Metrics</h2><table><tr><th>metric</th><th>value</th></tr>{rows}</table>")
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path
