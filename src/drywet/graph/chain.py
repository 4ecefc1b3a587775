"""Serial chains: nodes applied one after the other, nesting to any depth.

The flat vector's names are ``<child key>.<name>`` in child order then spec order; its size is
the sum of the children's sizes. A chain of effects is what drywet called a chain from the
start; a chain may also hold parallel nodes, sends and other chains.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParameterError
from .effect_node import Stage
from .node import Node, graph_from_preset, node_from_dict, node_type, unique_keys


@node_type("chain")
class Chain(Node):
    """An ordered list of nodes.

    Args:
        stages: nodes (effect stages, chains, composites) or effect names (defaults for every
            parameter).
        key: this chain's key when it is nested in another node.
        bypass: render the input unchanged.
    """

    def __init__(self, stages: Iterable[Node | str] = (), *, key: str = "chain", bypass: bool = False):
        built = []
        for s in stages:
            if isinstance(s, str):
                s = Stage.create(s)
            elif not isinstance(s, Node):
                raise ParameterError(f"a chain holds nodes or effect names, got {type(s).__name__}")
            built.append(s)
        self.stages: tuple[Node, ...] = tuple(unique_keys(built))
        self.key = key
        self.bypass = bool(bypass)

    @classmethod
    def from_names(cls, names: str | Sequence[str]) -> Chain:
        """``"eq,compressor,clipper"`` or a list of names/aliases -> chain with defaults."""
        if isinstance(names, str):
            names = [n for n in names.split(",") if n.strip()]
        if not names:
            raise ParameterError("a chain needs at least one effect, e.g. 'eq,compressor,clipper'")
        return cls(list(names))

    # -- node protocol ---------------------------------------------------------------------
    def named_children(self) -> tuple[tuple[str, Node], ...]:
        return tuple((s.key, s) for s in self.stages)

    def rebuild(self, values, children, bypass=None) -> Chain:
        return Chain(children, key=self.key, bypass=self.bypass if bypass is None else bypass)

    def with_key(self, key: str) -> Chain:
        return Chain(self.stages, key=key, bypass=self.bypass)

    def output_channels(self, channels: int) -> int:
        for s in self.stages:
            channels = s.output_channels(channels)
        return channels

    def _numpy(self, x: Any, sample_rate: int) -> Any:
        for s in self.stages:
            x = s(x, sample_rate=sample_rate)
        return x

    def _torch(self, x, sample_rate, values, child_q, automation):
        for s, q in zip(self.stages, child_q):
            x = s._torch_q(x, sample_rate, q, self.child_automation(s.key, automation))
        return x

    def node_dict(self) -> dict:
        return {"type": "chain", "key": self.key, "bypass": self.bypass, "nodes": [s.node_dict() for s in self.stages]}

    @classmethod
    def from_node_dict(cls, d: Mapping, where: str) -> Chain:
        nodes = [node_from_dict(n, f"{where}.{i}") for i, n in enumerate(d.get("nodes", []))]
        return cls(nodes, key=d.get("key", "chain"), bypass=d.get("bypass", False))

    # -- what chains of effects always offered ------------------------------------------
    def effect_stages(self) -> list[tuple[str, Stage]]:
        """(nested key, stage) of every effect, depth first."""
        return list(walk_stages(self))

    def split_q(self, q: Any) -> list[dict[str, Any]]:
        """Split q (..., P) (numpy or torch) into one dict of physical values per child stage
        (a chain of effects; nested chains: use :meth:`torch` with the flat q)."""
        out, i = [], 0
        for s in self.stages:
            if not isinstance(s, Stage):
                raise ParameterError(f"split_q works on a chain of effects; {s.key} is a {type(s).__name__}")
            n = s.num_params
            out.append(s.effect.spec.denormalize(q[..., i : i + n]))
            i += n
        return out

    def sample(self, rng: np.random.Generator, *, random_order: bool = False, bypass_prob: float = 0.0) -> Chain:
        """New chain with every parameter drawn uniformly in normalized space.

        Args:
            rng: explicit numpy generator.
            random_order: shuffle the stages.
            bypass_prob: probability that each stage is bypassed.
        """
        if not isinstance(rng, np.random.Generator):
            raise ParameterError("sample() needs a numpy.random.Generator, e.g. np.random.default_rng(0)")
        if not 0.0 <= bypass_prob <= 1.0:
            raise ParameterError(f"bypass_prob must be in [0, 1], got {bypass_prob}")
        stages = [s.sample(rng).with_bypass(bool(rng.uniform() < bypass_prob)) for s in self.stages]
        if random_order:
            stages = [stages[i] for i in rng.permutation(len(stages))]
        return Chain(stages, key=self.key, bypass=self.bypass)

    def with_q(self, q: Any) -> Chain:
        return super().with_q(q)

    def apply_torch(self, x: Any, *, sample_rate: int, q: Any = None, automation: Mapping[str, Any] | None = None) -> Any:
        """Differentiable application. ``q``: (batch, P) or (P,) tensor; None uses stored values."""
        return self.torch(x, sample_rate=sample_rate, q=q, automation=automation)

    # -- presets --------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Chain:
        """A chain from a preset mapping (version 2, or a version-1 chain preset)."""
        node = graph_from_preset(data)
        if not isinstance(node, Chain):
            raise ParameterError(f"this preset describes a {type(node).__name__}, not a chain; load it with drywet.graph.load")
        return node

    @classmethod
    def load(cls, path: Any) -> Chain:
        from ..preset_files import read_preset

        return cls.from_dict(read_preset(Path(path)))

    def describe(self) -> list[dict]:
        """Rows (stage, parameter, value, unit) for tables and reports."""
        rows = []
        for key, s in self.effect_stages():
            for p in s.effect.spec.params:
                rows.append({"stage": key, "param": p.name, "value": s.params[p.name], "unit": p.unit, "bypass": s.bypass})
        return rows

    def __len__(self) -> int:
        return len(self.stages)

    def __repr__(self) -> str:
        if not self.stages:
            return "Chain()"
        lines = ["  " + line for s in self.stages for line in repr(s).splitlines()]
        return "Chain(\n" + "\n".join(lines) + "\n)"


def walk_stages(node: Node, prefix: str = ""):
    """(nested key, stage) of every effect below ``node``, depth first."""
    for key, child in node.named_children():
        path = f"{prefix}.{key}" if prefix and key else (key or prefix)
        if isinstance(child, Stage):
            yield path, child
        else:
            yield from walk_stages(child, path)
