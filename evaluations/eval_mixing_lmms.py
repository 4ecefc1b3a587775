"""How close automatic mixers come to the LMMS authors' per-track gains and pans.

    python recipes/lmms_multitracks.py OUT_DIR            # renders the songs (once)
    python evaluations/eval_mixing_lmms.py OUT_DIR [--methods rules,random,unity]

For every song's instrument tracks with a stem (settings.json), each method's gains are compared
with the author's after removing the median difference (a mix's overall level is free): the
median absolute gain error (dB) and pan error (of the -1..1 range), per song, then the median and
a 95 % bootstrap interval over the songs. ``unity`` (every track at 0 dB, centred) is the
do-nothing reference. No method here trains, so every song is a test song.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from drywet import io
from drywet.mixing.auto import rules_settings
from drywet.mixing.session import stack_stems


def method_gains(method: str, stems: np.ndarray, sr: int, rng) -> tuple[np.ndarray, np.ndarray]:
    if method == "unity":
        return np.zeros(len(stems)), np.zeros(len(stems))
    if method == "random":
        return rng.uniform(-12, 12, len(stems)), rng.uniform(-1, 1, len(stems))
    settings, _ = rules_settings(stems, sr)
    return np.array([s["gain"]["gain_db"] for s in settings]), np.array([s["pan"]["pan"] for s in settings])


def bootstrap(values, rng, n=2000):
    values = np.asarray(values)
    meds = [np.median(rng.choice(values, values.size)) for _ in range(n)]
    return float(np.median(values)), float(np.percentile(meds, 2.5)), float(np.percentile(meds, 97.5))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--methods", default="rules,random,unity")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = {m: {"gain": [], "pan": []} for m in args.methods.split(",")}
    songs = sorted(p.parent for p in args.data.glob("*/settings.json"))
    for song in songs:
        record = json.loads((song / "settings.json").read_text())
        tracks = [t for t in record["tracks"] if t.get("stem") and not t["muted"]]
        if len(tracks) < 2:
            continue
        stems, sr = stack_stems([(t["stem"], *io.read_audio(song / "stems" / t["stem"])) for t in tracks], log=lambda m: None)
        keep = [i for i, s in enumerate(stems) if np.any(s)]  # a silent stem has no gain to find
        truth_gain = np.array([tracks[i]["gain_db"] for i in keep])
        truth_pan = np.array([tracks[i]["pan"] for i in keep])
        for m in rows:
            gain, pan = method_gains(m, stems[keep], sr, rng)
            diff = gain - truth_gain
            rows[m]["gain"].append(float(np.median(np.abs(diff - np.median(diff)))))
            rows[m]["pan"].append(float(np.median(np.abs(pan - truth_pan))))
    print(f"{len(rows[next(iter(rows))]['gain'])} songs of {args.data}")
    print("| method | median gain error dB [95 % CI] | median pan error [95 % CI] |")
    print("|---|---|---|")
    for m, r in rows.items():
        g, p = bootstrap(r["gain"], rng), bootstrap(r["pan"], rng)
        print(f"| {m} | {g[0]:.2f} [{g[1]:.2f}, {g[2]:.2f}] | {p[0]:.2f} [{p[1]:.2f}, {p[2]:.2f}] |")


if __name__ == "__main__":
    main()
