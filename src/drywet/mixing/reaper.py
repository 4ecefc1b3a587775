"""Export a mixing session to a Reaper project (``.rpp``, a text format) that references the
stems: one track per stem with its name, volume (the strip's ``gain``), pan (``pan``) and
polarity (``polarity``), each stem an item at time 0. The EQ, compressor, width, sends, buses
and master are not exported (Reaper's own plug-ins differ from drywet's): render them with
``drywet mix render``. Reaper applies its project pan law to ``pan``; drywet's is constant power.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from ..errors import DrywetError


def _value(track, processor: str, param: str, default: float) -> float:
    return float(track.settings.get(processor, {}).get(param, default))


def write_rpp(session, path: Any, *, overwrite: bool = False) -> Path:
    """Write ``session`` as a Reaper project; never replaces a file unless ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise DrywetError(f"{path} exists; pass --overwrite or choose another name")
    rate = session.sample_rate
    lines = ['<REAPER_PROJECT 0.1 "6.0/drywet" 0']
    if rate:
        lines.append(f"  SAMPLERATE {int(rate)} 0 0")
    for t in session.tracks:
        stem = (session.root / t.stem).resolve()
        length = _duration(stem)
        volume = 10.0 ** (_value(t, "gain", "gain_db", 0.0) / 20.0)
        pan = _value(t, "pan", "pan", 0.0)
        lines += ["  <TRACK", f'    NAME "{t.name}"', f"    VOLPAN {volume:.9g} {pan:.9g} -1 -1 1",
                  f"    IPHASE {1 if _value(t, 'polarity', 'invert', 0.0) >= 0.5 else 0}",
                  "    <ITEM", "      POSITION 0", f"      LENGTH {length:.6f}", f'      NAME "{stem.name}"',
                  "      <SOURCE WAVE", f'        FILE "{stem}"', "      >", "    >", "  >"]
    lines.append(">")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _duration(path: Path) -> float:
    import soundfile as sf

    try:
        return float(sf.info(str(path)).duration)
    except RuntimeError as exc:
        raise DrywetError(f"cannot read the stem {path}: {exc}") from None


def read_rpp(path: Any) -> list[dict]:
    """The tracks of a Reaper project: name, volume_db, pan, invert and the stem file."""
    text = Path(path).read_text()
    if not text.lstrip().startswith("<REAPER_PROJECT"):
        raise DrywetError(f"{path} is not a Reaper project (it does not start with <REAPER_PROJECT)")
    tracks = []
    for block in re.split(r"^\s*<TRACK\b", text, flags=re.M)[1:]:
        name = re.search(r'^\s*NAME "(.*)"', block, re.M)
        volpan = re.search(r"^\s*VOLPAN ([-\d.e+]+) ([-\d.e+]+)", block, re.M)
        phase = re.search(r"^\s*IPHASE (\d)", block, re.M)
        source = re.search(r'^\s*FILE "(.*)"', block, re.M)
        volume = float(volpan.group(1)) if volpan else 1.0
        tracks.append({"name": name.group(1) if name else "", "volume_db": 20.0 * math.log10(max(volume, 1e-12)),
                       "pan": float(volpan.group(2)) if volpan else 0.0, "invert": bool(phase and phase.group(1) == "1"),
                       "file": source.group(1) if source else None})
    return tracks
