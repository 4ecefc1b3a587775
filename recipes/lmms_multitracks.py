"""Multitracks with real mixing decisions from the demo projects of Debian's LMMS package.

    apt-get install lmms lmms-common
    python recipes/lmms_multitracks.py OUT_DIR [--only NAME,...] [--list]

Per project (the demos and shorties under /usr/share/lmms/projects, except the six kept for an
independent check), it writes ``OUT_DIR/SONG/`` in the layout ``drywet mix eval`` reads:

- ``mix.wav``: the author's mix (``lmms render``, 32-bit float, so nothing clips);
- ``stems/*.wav``: the dry stems: a copy of the project with every top-level instrument track
  at volume 100 % and pan 0, every track routed to the master, every effect chain and mixer
  effect removed and every mixer channel at unity, rendered per track (``lmms rendertracks``);
- ``settings.json``: the author's per-track settings from the project XML (volume, pan, mixer
  channel and its volume, the effects removed) and the gain (dB) and pan they amount to, the
  ground truth of the gain/pan part of a mix; plus the command, the LMMS version and the peaks.

Found when trying it: LMMS runs headless as ``QT_QPA_PLATFORM=offscreen lmms --allowroot``;
``rendertracks`` needs its output folder to exist; a song renders in about 2 minutes here; a
synth whose effects are removed can output NaN: that stem is dropped and listed in ``broken_stems``. Tracks inside
beat/bassline containers keep their own volumes (they are part of that container's stem).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf

from drywet import io

PROJECTS = Path("/usr/share/lmms/projects")
HELD_OUT = ("CapDan-ReggaeTry", "DirtyLove", "Greshz-CoolSnip", "Skiessi-C64", "Surrender-Main", "Thomasso-AxeFromThe80s")
ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def projects() -> list[Path]:
    found = sorted(p for folder in ("demos", "shorties") for p in (PROJECTS / folder).rglob("*.mmp*"))
    return [p for p in found if p.name.split(".")[0] not in HELD_OUT]


def read_project(path: Path) -> ET.ElementTree:
    data = path.read_bytes()
    text = zlib.decompress(data[4:]) if path.suffix == ".mmpz" else data  # .mmpz: a 4-byte length, then zlib
    return ET.ElementTree(ET.fromstring(text))


def mixer_channels(root: ET.Element) -> dict[int, ET.Element]:
    return {int(c.get("num", 0)): c for c in root.iter("fxchannel")}


def author_settings(root: ET.Element) -> list[dict]:
    """The author's settings of each top-level instrument track."""
    channels = mixer_channels(root)
    out = []
    for track in root.find("song").find("trackcontainer").findall("track"):
        inst = track.find("instrumenttrack")
        if track.get("type") != "0" or inst is None:
            continue
        ch = channels.get(int(inst.get("fxch", 0)))
        ch_volume = float(ch.get("volume", 1.0)) if ch is not None else 1.0
        vol = float(inst.get("vol", 100.0)) / 100.0
        effects = [e.get("name") for e in track.iter("effect")] + ([e.get("name") for e in ch.iter("effect")] if ch is not None else [])
        out.append({"name": track.get("name"), "muted": track.get("muted") == "1", "vol_percent": 100 * vol,
                    "pan_percent": float(inst.get("pan", 0.0)), "mixer_channel": int(inst.get("fxch", 0)),
                    "mixer_volume": ch_volume, "effects_removed": effects,
                    "gain_db": 20 * math.log10(max(vol * ch_volume, 1e-6)), "pan": float(inst.get("pan", 0.0)) / 100.0})
    return out


def dry_copy(tree: ET.ElementTree) -> ET.ElementTree:
    """The project with unity gains, centred pans, no effects, everything to the master."""
    root = tree.getroot()
    for track in root.find("song").find("trackcontainer").findall("track"):
        inst = track.find("instrumenttrack")
        if inst is not None:
            inst.set("vol", "100")
            inst.set("pan", "0")
    for inst in root.iter("instrumenttrack"):
        inst.set("fxch", "0")
    for parent in list(root.iter()):
        for chain in parent.findall("fxchain"):
            for effect in chain.findall("effect"):
                chain.remove(effect)
            chain.set("enabled", "0")
            chain.set("numofeffects", "0")
    for ch in root.iter("fxchannel"):
        ch.set("volume", "1")
        for send in ch.findall("send"):
            ch.remove(send)
    head = root.find("head")
    if head is not None and head.find("mastervol") is not None:
        head.find("mastervol").set("value", "100")
    return tree


def lmms(*args: str) -> None:
    subprocess.run(["lmms", "--allowroot", *args], env=ENV, check=True, capture_output=True, timeout=3600)


def render_song(project: Path, out: Path) -> dict:
    song = out / project.name.split(".")[0]
    if (song / "settings.json").exists():  # done before: a killed run resumes with the next song
        return json.loads((song / "settings.json").read_text())
    (song / "stems").mkdir(parents=True, exist_ok=True)
    tree = read_project(project)
    settings = author_settings(tree.getroot())
    lmms("render", str(project), "-f", "wav", "-a", "-o", str(song / "mix.wav"))
    with tempfile.TemporaryDirectory() as tmp:
        dry = Path(tmp) / "dry.mmp"
        dry_copy(tree).write(dry, encoding="utf-8", xml_declaration=True)
        lmms("rendertracks", str(dry), "-f", "wav", "-a", "-o", str(song / "stems") + "/")
    mix, sr = io.read_audio(song / "mix.wav")
    files = sorted(io.audio_files(song / "stems"), key=lambda p: int(p.name.split("_", 1)[0]))  # "N_<track name>.wav"
    broken = []
    for f in list(files):  # a synth without its effects can blow up: such a stem is dropped and recorded
        if not np.all(np.isfinite(sf.read(f, dtype="float32")[0])):
            broken.append(f.name)
            files.remove(f)
            f.unlink()
    peaks = {p.name: float(np.abs(io.read_audio(p)[0]).max()) for p in files}
    unused = list(files)
    for track in settings:  # each instrument track's stem, by name in track order (containers have stems too)
        match = next((f for f in unused if f.name.split("_", 1)[1] == f"{track['name']}.wav"), None)
        track["stem"] = match.name if match else None
        if match:
            unused.remove(match)
    record = {"project": str(project), "command": " ".join(sys.argv), "lmms": "1.2.2", "sample_rate": sr,
              "mix_peak": float(np.abs(mix).max()), "stem_peaks": peaks, "broken_stems": broken, "tracks": settings}
    (song / "settings.json").write_text(json.dumps(record, indent=1))  # written last: its presence means done
    return record


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--only", help="comma-separated project names")
    parser.add_argument("--list", action="store_true", help="list the projects and exit")
    args = parser.parse_args()
    chosen = projects()
    if args.only:
        wanted = set(args.only.split(","))
        chosen = [p for p in chosen if p.name.split(".")[0] in wanted]
    for p in chosen:
        if args.list:
            print(p)
            continue
        record = render_song(p, args.out)
        print(f"{p.name}: {len(record['tracks'])} instrument tracks, mix peak {record['mix_peak']:.2f}", flush=True)
