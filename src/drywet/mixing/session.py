"""Mixing sessions: the stems (paths), each strip's settings in physical units, the buses and
the master, in a YAML file a user edits by hand and renders again (``drywet mix render``).

::

    drywet_session: 1
    sample_rate: 44100            # optional: the first stem's rate
    strip: [gain, parametric_eq, compressor, pan]
    tracks:
    - name: vocals
      stem: stems/vocals.wav      # relative to the session file
      settings: {gain: {gain_db: -3.0}, pan: {pan: 0.2}}
      sends: {reverb: -18.0}
    buses:
    - name: reverb
      effects: [{effect: noise_reverb, params: {mix: 1.0}}]
    master: [{effect: limiter, params: {threshold_db: -1.0}}]
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import io
from ..dsp.declip import find_clipped
from ..errors import AudioError, DrywetError
from ..graph import Chain, MixDown, Stage
from ..preset_files import read_preset, write_preset
from .console import DEFAULT_STRIP, MAX_TRACKS, console

SESSION_VERSION = 1
SILENT_PEAK = 1e-6
CLIPPED_RUN = 3  # samples held at a stem's extreme that count as clipping
CLIPPED_FRACTION = 0.001
FULL_MIX_CORRELATION = 0.95


@dataclass
class Track:
    name: str
    stem: str
    settings: dict = field(default_factory=dict)  # {processor: {param: value}}
    sends: dict = field(default_factory=dict)  # {bus: send level in dB}


@dataclass
class Bus:
    name: str
    effects: list = field(default_factory=list)  # [{effect, params, options}]


def _chain(entries: Sequence[Mapping], key: str) -> Chain:
    stages = []
    for i, e in enumerate(entries):
        if not isinstance(e, Mapping) or "effect" not in e:
            raise DrywetError(f"session {key} entry {i} needs an 'effect' name, e.g. {{effect: limiter}}")
        stages.append(Stage.create(e["effect"], e.get("params"), e.get("options")))
    return Chain(stages, key=key)


@dataclass
class Session:
    """A mixing session (see the module docstring for the file)."""

    tracks: list[Track]
    strip: list[str] = field(default_factory=lambda: list(DEFAULT_STRIP))
    buses: list[Bus] = field(default_factory=list)
    master: list = field(default_factory=list)
    sample_rate: int | None = None
    root: Path = field(default_factory=Path)  # stems are relative to it

    # -- files ---------------------------------------------------------------------------
    @classmethod
    def from_stems(cls, folder: Any, *, strip: Sequence[str] = DEFAULT_STRIP, files: Sequence[Path] | None = None) -> Session:
        """A session of every audio file in ``folder`` (or of ``files``) at the strip's defaults."""
        folder = Path(folder)
        files = list(files) if files is not None else (io.audio_files(folder) if folder.is_dir() else [])
        if not files:
            raise DrywetError(f"{folder} holds no stems (audio files: {', '.join(io.READ_FORMATS)})")
        names, tracks = set(), []
        for f in files:
            name = (f.parent.name + "_" + f.stem if f.parent != folder else f.stem).replace(".", "_").replace(" ", "_") or "track"
            while name in names:
                name += "_2"
            names.add(name)
            tracks.append(Track(name, str(Path(f).resolve().relative_to(folder.resolve()))))
        return cls(tracks, list(strip), root=folder)

    @classmethod
    def load(cls, path: Any) -> Session:
        path = Path(path)
        data = read_preset(path, "mixing session")
        if not isinstance(data, Mapping) or data.get("drywet_session") != SESSION_VERSION or "tracks" not in data:
            raise DrywetError(f"{path} is not a drywet mixing session (version {SESSION_VERSION}, with 'tracks'); "
                              "drywet mix init STEMS_DIR -o session.yaml writes one")
        try:
            tracks = [Track(t["name"], t["stem"], dict(t.get("settings") or {}), dict(t.get("sends") or {})) for t in data["tracks"]]
            buses = [Bus(b["name"], list(b.get("effects") or [])) for b in data.get("buses") or []]
        except (KeyError, TypeError) as exc:
            raise DrywetError(f"{path}: every track needs a name and a stem, every bus a name ({exc})") from None
        return cls(tracks, list(data.get("strip") or DEFAULT_STRIP), buses, list(data.get("master") or []),
                   data.get("sample_rate"), path.parent)

    def to_dict(self) -> dict:
        return {"drywet_session": SESSION_VERSION, "sample_rate": self.sample_rate, "strip": list(self.strip),
                "tracks": [{"name": t.name, "stem": t.stem, "settings": t.settings, "sends": t.sends} for t in self.tracks],
                "buses": [{"name": b.name, "effects": b.effects} for b in self.buses], "master": self.master}

    def save(self, path: Any, *, overwrite: bool = False) -> Path:
        """Write the session; stems are stored relative to its folder when they lie below it."""
        path = Path(path)
        data = self.to_dict()
        for t, entry in zip(self.tracks, data["tracks"]):
            stem = (self.root / t.stem).resolve()
            try:
                entry["stem"] = str(stem.relative_to(path.parent.resolve()))
            except ValueError:
                entry["stem"] = str(stem)
        return write_preset(path, data, overwrite=overwrite)

    # -- the console ---------------------------------------------------------------------
    def graph(self) -> MixDown:
        """The console these settings describe."""
        buses = {b.name: _chain(b.effects, b.name) for b in self.buses}
        sends = {b.name: {t.name: t.sends[b.name] for t in self.tracks if b.name in t.sends} for b in self.buses}
        unknown = sorted({bus for t in self.tracks for bus in t.sends} - set(buses))
        if unknown:
            raise DrywetError(f"tracks send to unknown buses {unknown}; add them under 'buses' or remove the sends")
        return console([t.name for t in self.tracks], processors=self.strip, settings={t.name: t.settings for t in self.tracks},
                       buses=buses, sends_db=sends, master=_chain(self.master, "master"))

    def read_stems(self, log=None) -> tuple[np.ndarray, int]:
        """The stems as one (tracks, channels, samples) array at one rate (see :func:`stack_stems`)."""
        if not self.tracks:
            raise DrywetError("the session has no tracks; add stems under 'tracks'")
        if len(self.tracks) > MAX_TRACKS:
            raise DrywetError(f"the session has {len(self.tracks)} tracks; the console takes at most {MAX_TRACKS}: submix some first")
        stems = []
        for t in self.tracks:
            path = self.root / t.stem
            if not path.is_file():
                raise DrywetError(f"track {t.name!r}: its stem {path} does not exist; fix the path in the session")
            stems.append((t.name, *io.read_audio(path)))
        return stack_stems(stems, self.sample_rate, log=log)

    def render(self, log=None) -> tuple[np.ndarray, int]:
        """The stereo mix (2, samples) and its sample rate."""
        x, sr = self.read_stems(log=log)
        return self.graph()(x, sample_rate=sr), sr


def stack_stems(stems: Sequence[tuple[str, np.ndarray, int]], sample_rate: int | None = None, log=None):
    """(name, audio, rate) stems -> (tracks, channels, samples) at ``sample_rate`` (default the
    first stem's): other rates are resampled, shorter stems zero-padded at the end, mono stems
    made dual mono when any stem is stereo; each change gets a note. Silent and clipped stems,
    and a stem that is the mix of the others, warn."""
    log = log or (lambda m: print(m, file=sys.stderr))
    rate = sample_rate or stems[0][2]
    out = []
    for name, x, sr in stems:
        if x.shape[0] > 2:
            raise AudioError(f"stem {name!r} has {x.shape[0]} channels; the console takes mono or stereo stems: downmix it")
        if sr != rate:
            x = io.resample(x, sr, rate)
            log(f"note: stem {name!r} was resampled from {sr} to {rate} Hz")
        if float(np.abs(x).max(initial=0.0)) < SILENT_PEAK:
            warnings.warn(f"stem {name!r} is silent; it adds nothing to the mix", stacklevel=2)
        else:
            clipped = float(find_clipped(x, min_run=CLIPPED_RUN).mean())
            if clipped > CLIPPED_FRACTION:
                warnings.warn(f"stem {name!r} is clipped ({100 * clipped:.2f} % of its samples held at its extremes); "
                              "restore it first (drywet declip) or the console spreads the distortion", stacklevel=2)
        out.append((name, x))
    length = max(x.shape[1] for _, x in out)
    channels = 2 if any(x.shape[0] == 2 for _, x in out) else 1
    stacked = np.zeros((len(out), channels, length), dtype=np.float32)
    for i, (name, x) in enumerate(out):
        if x.shape[1] < length:
            log(f"note: stem {name!r} is {x.shape[1] / rate:.2f} s, shorter than the longest ({length / rate:.2f} s): "
                "zero-padded at the end")
        stacked[i, :, : x.shape[1]] = x  # a mono stem broadcasts to both sides: dual mono
    _warn_full_mix(stacked, [name for name, _ in out])
    return stacked, rate


def _warn_full_mix(stacked: np.ndarray, names: Sequence[str]) -> None:
    """Warn about a stem that is the mix of the others (a folder of stems with the mix in it)."""
    if len(names) < 3:
        return
    mono = stacked.mean(1).astype(np.float64)
    total = mono.sum(0)
    for name, x in zip(names, mono):
        rest = total - x
        denom = np.sqrt(np.sum(x * x) * np.sum(rest * rest))
        if denom > 0 and float(np.sum(x * rest) / denom) > FULL_MIX_CORRELATION:
            warnings.warn(f"stem {name!r} looks like the full mix (it correlates above {FULL_MIX_CORRELATION} with the sum "
                          "of the other stems): remove it from the stems, or the mix holds everything twice", stacklevel=3)
