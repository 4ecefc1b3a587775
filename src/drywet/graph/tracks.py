"""Nodes on many tracks: audio shaped (batch, tracks, channels, samples).

- ``PerTrack``: one node applied to every track with its own parameters. The torch path folds
  the tracks into the batch, so the node's function (and any weights it holds) is shared and
  runs once for all tracks.
- ``Bus``: a send/return bus fed by every track at its own send level.
- ``MixDown``: the tracks (after their per-track node) summed to a stereo bus, plus the bus
  returns, followed by a master node (dasp-pytorch's ``stereo_bus`` is the model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..audio import as_tracks, is_tensor, unbatch
from ..dsp.curves import curve_to_samples_torch
from ..errors import AudioError, DrywetError, ParameterError
from ..spec import Param
from .node import Node, check_key, node_from_dict, node_type


def _track_names(tracks: Sequence[str] | int) -> tuple[str, ...]:
    if isinstance(tracks, int):
        if not 1 <= tracks:
            raise ParameterError(f"a track node needs at least one track, got {tracks}")
        return tuple(f"track{i + 1}" for i in range(tracks))
    names = tuple(check_key(t, "track") for t in tracks)
    if not names:
        raise ParameterError("a track node needs at least one track name, e.g. ['vocals', 'bass']")
    if len(set(names)) != len(names):
        raise ParameterError(f"track names must be unique, got {list(names)}")
    return names


def _check_track_count(x: Any, names: Sequence[str], where: str) -> None:
    if x.shape[1] != len(names):
        raise AudioError(
            f"{where} has parameters for {len(names)} tracks {list(names)} but the audio has {x.shape[1]} tracks; "
            "give audio shaped (batch, tracks, channels, samples) with one track per name, or rebuild the node "
            "for this many tracks"
        )


@node_type("per_track")
class PerTrack(Node):
    """``node`` applied to every track, each track with its own parameter values.

    Args:
        node: the template (its structure is shared; values are per track).
        tracks: track names (keys of the nested parameters: ``"vocals.eq.band1_gain_db"``),
            or a count (``track1``, ``track2``, ...).
        nodes: the per-track copies (when rebuilding); default: the template for every track.
    """

    takes_tracks = True

    def __init__(self, node: Node, tracks: Sequence[str] | int, *, nodes: Sequence[Node] | None = None,
                 key: str = "tracks", bypass: bool = False):
        if not isinstance(node, Node):
            raise ParameterError(f"PerTrack needs a node to apply to every track, got {type(node).__name__}")
        self.names = _track_names(tracks)
        nodes = list(nodes) if nodes is not None else [node] * len(self.names)
        if len(nodes) != len(self.names):
            raise ParameterError(f"PerTrack got {len(nodes)} nodes for {len(self.names)} tracks")
        structure = _structure(node)
        for name, n in zip(self.names, nodes):
            if _structure(n) != structure:
                raise ParameterError(f"track {name!r}: every track's node must have the template's structure")
        self.template, self.nodes = node, tuple(nodes)
        self.key = check_key(key)
        self.bypass = bool(bypass)

    @classmethod
    def from_node_dict(cls, d, where) -> PerTrack:
        template = node_from_dict(d["template"], f"{where}.template")
        tracks = d["tracks"]
        if not isinstance(tracks, Mapping):
            raise DrywetError(f"preset {where}: 'tracks' maps each track name to its node")
        nodes = [node_from_dict(n, f"{where}.{name}") for name, n in tracks.items()]
        return cls(template, list(tracks), nodes=nodes, key=d.get("key", "tracks"), bypass=d.get("bypass", False))

    def named_children(self):
        return tuple(zip(self.names, self.nodes))

    def rebuild(self, values, children, bypass=None) -> PerTrack:
        return PerTrack(self.template, self.names, nodes=children, key=self.key, bypass=self.bypass if bypass is None else bypass)

    def with_key(self, key: str) -> PerTrack:
        return PerTrack(self.template, self.names, nodes=self.nodes, key=key, bypass=self.bypass)

    def track(self, name: str) -> Node:
        if name not in self.names:
            raise ParameterError(f"no track {name!r}; tracks are {list(self.names)}")
        return self.nodes[self.names.index(name)]

    def output_channels(self, channels: int) -> int:
        return self.template.output_channels(channels)

    def __call__(self, x, *, sample_rate):
        x4, was_3d = as_tracks(x, name=f"{self.key} input")
        _check_track_count(x4, self.names, self.key)
        if self.bypass:
            return x.clone() if is_tensor(x) else x.copy()
        outs = [n(x4[:, t], sample_rate=sample_rate) for t, n in enumerate(self.nodes)]
        stack = __import__("torch").stack if is_tensor(x4) else np.stack
        return unbatch(stack(outs, 1), was_3d)

    def torch(self, x, *, sample_rate, q=None, automation=None):
        x4, was_3d = as_tracks(x, name=f"{self.key} input")
        _check_track_count(x4, self.names, self.key)
        return unbatch(super().torch(x4, sample_rate=sample_rate, q=q, automation=automation), was_3d)

    def _torch(self, x, sample_rate, values, child_q, automation):
        import torch

        batch, tracks = x.shape[:2]
        if any(n.bypass != self.template.bypass or _bypasses(n) != _bypasses(self.template) for n in self.nodes):
            outs = [n._torch_q(x[:, t], sample_rate, q, self.child_automation(name, automation))
                    for t, (name, n, q) in enumerate(zip(self.names, self.nodes, child_q))]
            return torch.stack(outs, 1)
        q = torch.stack(child_q, 1).reshape(batch * tracks, -1)  # tracks folded into the batch
        folded = {}
        for key in {k.split(".", 1)[1] for k in automation if "." in k}:
            rows = []
            for t, name in enumerate(self.names):
                full = f"{name}.{key}"
                if full in automation:
                    rows.append(_rows(automation[full], batch))
                else:  # a constant track: its q value held over the curve's points
                    i = self.template.param_names.index(key)
                    rows.append(child_q[t][:, i : i + 1])
            points = max(r.shape[-1] for r in rows)
            folded[key] = torch.stack([r.expand(batch, points) for r in rows], 1).reshape(batch * tracks, points)
        y = self.template._torch_q(x.reshape(batch * tracks, *x.shape[2:]), sample_rate, q, folded)
        return y.reshape(batch, tracks, *y.shape[1:])

    def node_dict(self) -> dict:
        return {"type": "per_track", "key": self.key, "bypass": self.bypass, "template": self.template.node_dict(),
                "tracks": {name: n.node_dict() for name, n in zip(self.names, self.nodes)}}


def _rows(curve, batch):
    return curve[None].expand(batch, -1) if curve.ndim == 1 else curve


def _structure(node: Node) -> Any:
    """What must agree between tracks for the batched torch path: types, keys, options."""
    d = node.node_dict()
    return _strip_values(d)


def _strip_values(d: Any) -> Any:
    if isinstance(d, Mapping):
        return {k: _strip_values(v) for k, v in d.items() if k not in ("params", "bypass")}
    if isinstance(d, list):
        return [_strip_values(v) for v in d]
    return d


def _bypasses(node: Node) -> list[bool]:
    out = [node.bypass]
    for _, child in node.named_children():
        out += _bypasses(child)
    return out


def _send_param(track: str) -> Param:
    return Param(f"{track}_send_db", "dB", -60.0, 12.0, -60.0, doc=f"level of {track} sent to the bus (post-fader)")


@node_type("bus")
class Bus(Node):
    """An effect bus: ``ret(sum_t g_t x_t)`` with one send level per track.

    Args:
        ret: the bus' node (a reverb, a delay, a chain).
        tracks: the names of the tracks that send to it.
        sends_db: {track: send level in dB}; missing tracks send nothing (-60 dB).
    """

    takes_tracks = True

    def __init__(self, ret: Node, tracks: Sequence[str] | int, *, sends_db: Mapping[str, float] | None = None,
                 key: str = "bus", bypass: bool = False):
        if not isinstance(ret, Node):
            raise ParameterError(f"Bus needs a node as its return, got {type(ret).__name__}")
        self.ret = ret
        self.names = _track_names(tracks)
        self._params = tuple(_send_param(t) for t in self.names)
        given = dict(sends_db or {})
        unknown = [t for t in given if t not in self.names]
        if unknown:
            raise ParameterError(f"bus {key!r}: sends to unknown tracks {unknown}; tracks are {list(self.names)}")
        self.sends_db = {p.name: float(p.validate(given.get(t, p.default), key)) for t, p in zip(self.names, self._params)}
        self.key = check_key(key)
        self.bypass = bool(bypass)

    @classmethod
    def from_node_dict(cls, d, where) -> Bus:
        names = list(d["tracks"])
        params = d.get("params", {})
        sends = {t: params[f"{t}_send_db"] for t in names if f"{t}_send_db" in params}
        return cls(node_from_dict(d["return"], f"{where}.return"), names, sends_db=sends, key=d.get("key", "bus"),
                   bypass=d.get("bypass", False))

    def local_params(self):
        return self._params

    def local_values(self):
        return self.sends_db

    def named_children(self):
        return (("return", self.ret),)

    def rebuild(self, values, children, bypass=None) -> Bus:
        sends = {t: values[p.name] for t, p in zip(self.names, self._params)}
        return Bus(children[0], self.names, sends_db=sends, key=self.key, bypass=self.bypass if bypass is None else bypass)

    def with_key(self, key: str) -> Bus:
        return Bus(self.ret, self.names, sends_db=self._sends_by_track(), key=key, bypass=self.bypass)

    def _sends_by_track(self) -> dict[str, float]:
        return {t: self.sends_db[p.name] for t, p in zip(self.names, self._params)}

    def output_channels(self, channels: int) -> int:
        return self.ret.output_channels(channels)

    def __call__(self, x, *, sample_rate):
        x4, was_3d = as_tracks(x, name=f"{self.key} input")
        _check_track_count(x4, self.names, self.key)
        gains = np.array([10.0 ** (self.sends_db[p.name] / 20.0) for p in self._params])
        fed = np.einsum("btcs,t->bcs", x4, gains).astype(x4.dtype, copy=False)
        if self.bypass:
            return unbatch(fed, was_3d)
        return unbatch(self.ret(fed, sample_rate=sample_rate), was_3d)

    def torch(self, x, *, sample_rate, q=None, automation=None):
        x4, was_3d = as_tracks(x, name=f"{self.key} input")
        _check_track_count(x4, self.names, self.key)
        return unbatch(super().torch(x4, sample_rate=sample_rate, q=q, automation=automation), was_3d)

    def _torch_q(self, x, sample_rate, q, automation):
        fed = _feed(x, self._local_torch_values(q, automation), self._params)
        if self.bypass:  # a bypassed bus still sums its sends
            return fed
        return self.ret._torch_q(fed, sample_rate, q[:, len(self._params):], self.child_automation("return", automation))

    def node_dict(self) -> dict:
        return {"type": "bus", "key": self.key, "bypass": self.bypass, "tracks": list(self.names),
                "params": dict(self.sends_db), "return": self.ret.node_dict()}


def _feed(x, values, params):
    import torch

    gains = []
    for p in params:
        g = 10.0 ** (values[p.name] / 20.0)
        gains.append(g[:, None, None] if g.ndim == 1 else curve_to_samples_torch(g, x.shape[-1])[:, None, :])
    return sum(x[:, t] * g for t, g in enumerate(gains)) if gains else torch.zeros_like(x[:, 0])


@node_type("mixdown")
class MixDown(Node):
    """Tracks -> stereo mix: per-track processing, the sum, the bus returns, the master.

    Input (batch, tracks, channels, samples); output (batch, 2, samples). Mono results of the
    per-track node are sent to both sides (dual mono); buses get the processed tracks.

    Args:
        tracks: a :class:`PerTrack` node (its track names name the nested keys at this level:
            ``"vocals.gain.gain_db"``).
        buses: :class:`Bus` nodes over the same tracks.
        master: the master node (a chain), or None.
    """

    takes_tracks = True

    def __init__(self, tracks: PerTrack, buses: Sequence[Bus] = (), master: Node | None = None, *,
                 key: str = "mix", bypass: bool = False):
        from .chain import Chain

        if not isinstance(tracks, PerTrack):
            raise ParameterError("MixDown needs a PerTrack node for its tracks, e.g. PerTrack(Chain(['gain', 'pan']), ['vocals', 'bass'])")
        self.tracks = tracks
        self.buses = tuple(buses)
        for b in self.buses:
            if not isinstance(b, Bus):
                raise ParameterError(f"MixDown buses must be Bus nodes, got {type(b).__name__}")
            if b.names != tracks.names:
                raise ParameterError(f"bus {b.key!r} is fed by {list(b.names)} but the mix has tracks {list(tracks.names)}")
        self.master = master if master is not None else Chain([], key="master")
        self.key = check_key(key)
        self.bypass = bool(bypass)
        taken = list(tracks.names) + [b.key for b in self.buses] + ["master"]
        clashes = sorted({k for k in taken if taken.count(k) > 1})
        if clashes:
            raise ParameterError(f"the keys {clashes} name both a track and a bus (or 'master'); rename one")

    @classmethod
    def from_node_dict(cls, d, where) -> MixDown:
        tracks = node_from_dict(d["tracks"], f"{where}.tracks")
        buses = [node_from_dict(b, f"{where}.buses.{i}") for i, b in enumerate(d.get("buses", []))]
        master = node_from_dict(d["master"], f"{where}.master") if d.get("master") else None
        return cls(tracks, buses, master, key=d.get("key", "mix"), bypass=d.get("bypass", False))

    def named_children(self):
        return (("", self.tracks),) + tuple((b.key, b) for b in self.buses) + (("master", self.master),)

    def rebuild(self, values, children, bypass=None) -> MixDown:
        return MixDown(children[0], children[1:-1], children[-1], key=self.key, bypass=self.bypass if bypass is None else bypass)

    def with_key(self, key: str) -> MixDown:
        return MixDown(self.tracks, self.buses, self.master, key=key, bypass=self.bypass)

    def output_channels(self, channels: int) -> int:
        return self.master.output_channels(2)

    def __call__(self, x, *, sample_rate):
        x4, was_3d = as_tracks(x, name=f"{self.key} input")
        _check_track_count(x4, self.tracks.names, self.key)
        if self.bypass:
            return unbatch(_stereo(x4).sum(1), was_3d)
        processed = _stereo(self.tracks(x4, sample_rate=sample_rate))
        mix = processed.sum(1)
        for b in self.buses:
            mix = mix + _stereo(b(processed, sample_rate=sample_rate)[:, None])[:, 0]
        return unbatch(self.master(mix, sample_rate=sample_rate), was_3d)

    def torch(self, x, *, sample_rate, q=None, automation=None):
        x4, was_3d = as_tracks(x, name=f"{self.key} input")
        _check_track_count(x4, self.tracks.names, self.key)
        if self.bypass:
            return unbatch(_stereo(x4).sum(1), was_3d)
        return unbatch(super().torch(x4, sample_rate=sample_rate, q=q, automation=automation), was_3d)

    def _torch(self, x, sample_rate, values, child_q, automation):
        processed = _stereo(self.tracks._torch_q(x, sample_rate, child_q[0], self.child_automation("", automation, self.tracks)))
        mix = processed.sum(1)
        for b, q in zip(self.buses, child_q[1:-1]):
            mix = mix + _stereo(b._torch_q(processed, sample_rate, q, self.child_automation(b.key, automation))[:, None])[:, 0]
        return self.master._torch_q(mix, sample_rate, child_q[-1], self.child_automation("master", automation))

    def node_dict(self) -> dict:
        return {"type": "mixdown", "key": self.key, "bypass": self.bypass, "tracks": self.tracks.node_dict(),
                "buses": [b.node_dict() for b in self.buses], "master": self.master.node_dict()}


def _stereo(x4):
    """(B, T, C, S) with C of 1 or 2 -> (B, T, 2, S) (dual mono)."""
    channels = x4.shape[2]
    if channels == 2:
        return x4
    if channels == 1:
        return x4.expand(-1, -1, 2, -1) if is_tensor(x4) else np.repeat(x4, 2, axis=2)
    raise AudioError(f"a stereo mix takes mono or stereo tracks, got {channels} channels; downmix them first")
