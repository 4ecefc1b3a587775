"""Parallel nodes on one signal: branches summed, and a send/return (dry plus an effect return).

``Parallel([Chain([]), reverb])`` is dry + reverb; ``SendReturn(reverb, send_db=-12)`` is the
same with the level sent to the return as a parameter that gradients can fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..dsp.curves import curve_to_samples_torch
from ..errors import AudioError, ParameterError
from ..spec import Param
from .node import Node, check_key, node_from_dict, node_type, unique_keys

SEND_DB = Param("send_db", "dB", -60.0, 12.0, -12.0, doc="level sent to the return (post-fader send)")


def _sum(outputs: Sequence[Any], key: str) -> Any:
    channels = {y.shape[-2] for y in outputs}
    if len(channels) > 1:
        raise AudioError(
            f"{key}: the branches give {sorted(channels)} channels; make them agree (pan mono branches, "
            "or add a stereo_width/pan stage) before they are summed"
        )
    total = outputs[0]
    for y in outputs[1:]:
        total = total + y
    return total


@node_type("parallel")
class Parallel(Node):
    """Every branch gets the same input; the outputs are summed (pedalboard's ``Mix``).

    Args:
        branches: nodes; an empty ``Chain()`` is the dry path.
        key: this node's key.
    """

    def __init__(self, branches: Iterable[Node], *, key: str = "parallel", bypass: bool = False):
        branches = list(branches)
        if not branches or not all(isinstance(b, Node) for b in branches):
            raise ParameterError("Parallel needs a list of nodes (e.g. [Chain(), Chain(['noise_reverb'])])")
        self.branches = tuple(unique_keys(branches))
        self.key = check_key(key)
        self.bypass = bool(bypass)

    @classmethod
    def from_node_dict(cls, d, where) -> Parallel:
        branches = [node_from_dict(n, f"{where}.{i}") for i, n in enumerate(d["branches"])]
        return cls(branches, key=d.get("key", "parallel"), bypass=d.get("bypass", False))

    def named_children(self):
        return tuple((b.key, b) for b in self.branches)

    def rebuild(self, values, children, bypass=None) -> Parallel:
        return Parallel(children, key=self.key, bypass=self.bypass if bypass is None else bypass)

    def with_key(self, key: str) -> Parallel:
        return Parallel(self.branches, key=key, bypass=self.bypass)

    def output_channels(self, channels: int) -> int:
        return self.branches[0].output_channels(channels)

    def _numpy(self, x, sample_rate):
        return _sum([b(x, sample_rate=sample_rate) for b in self.branches], self.key)

    def _torch(self, x, sample_rate, values, child_q, automation):
        outs = [b._torch_q(x, sample_rate, q, self.child_automation(b.key, automation)) for b, q in zip(self.branches, child_q)]
        return _sum(outs, self.key)

    def node_dict(self) -> dict:
        return {"type": "parallel", "key": self.key, "bypass": self.bypass, "branches": [b.node_dict() for b in self.branches]}


@node_type("send")
class SendReturn(Node):
    """``y = x + ret(g * x)``: the dry signal plus an effect return fed at ``send_db``.

    Args:
        ret: the return's node (a reverb, a delay, a chain).
        send_db: the send level (dB, ``SEND_DB``'s range).
    """

    def __init__(self, ret: Node, *, send_db: float = SEND_DB.default, key: str = "send", bypass: bool = False):
        if not isinstance(ret, Node):
            raise ParameterError(f"SendReturn needs a node as its return, got {type(ret).__name__}")
        self.ret = ret
        self.send_db = float(SEND_DB.validate(send_db, key))
        self.key = check_key(key)
        self.bypass = bool(bypass)

    @classmethod
    def from_node_dict(cls, d, where) -> SendReturn:
        return cls(node_from_dict(d["return"], f"{where}.return"), send_db=d.get("params", {}).get("send_db", SEND_DB.default),
                   key=d.get("key", "send"), bypass=d.get("bypass", False))

    def local_params(self):
        return (SEND_DB,)

    def local_values(self):
        return {"send_db": self.send_db}

    def named_children(self):
        return (("return", self.ret),)

    def rebuild(self, values, children, bypass=None) -> SendReturn:
        return SendReturn(children[0], send_db=values["send_db"], key=self.key,
                          bypass=self.bypass if bypass is None else bypass)

    def with_key(self, key: str) -> SendReturn:
        return SendReturn(self.ret, send_db=self.send_db, key=key, bypass=self.bypass)

    def _numpy(self, x, sample_rate):
        wet = self.ret(x * 10.0 ** (self.send_db / 20.0), sample_rate=sample_rate)
        return _sum([x, wet], self.key)

    def _torch(self, x, sample_rate, values, child_q, automation):
        gain = 10.0 ** (values["send_db"] / 20.0)
        gain = gain[:, None, None] if gain.ndim == 1 else curve_to_samples_torch(gain, x.shape[-1])[:, None, :]
        wet = self.ret._torch_q(x * gain, sample_rate, child_q[0], self.child_automation("return", automation))
        return _sum([x, wet], self.key)

    def node_dict(self) -> dict:
        return {"type": "send", "key": self.key, "bypass": self.bypass, "params": {"send_db": self.send_db},
                "return": self.ret.node_dict()}
