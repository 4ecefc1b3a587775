"""The node protocol shared by an effect, a chain and every composite.

A node has a ``key``, may be bypassed, and holds parameters of its own (``local_params``, e.g.
a send level) and child nodes (``named_children``). Everything else is written once here:

- nested parameter keys: a child's names are prefixed by its key (``"vocals.eq.band1_gain_db"``);
- the normalized vector ``q``: this node's own parameters first, then each child's, in order;
- ``values`` / ``with_params`` / ``to_q`` / ``with_q`` / ``sample`` on the nested names;
- the torch call: ``q`` of shape (batch, P) is split between the node and its children, and
  ``automation`` (a normalized curve per key, shape (batch, points)) is routed to the effect
  whose parameter it drives.

Subclasses implement ``_numpy`` (stored values) and ``_torch`` (values from q), ``rebuild`` and
``node_dict``. Nodes are immutable: every ``with_*`` returns a new node.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..audio import is_tensor
from ..errors import DrywetError, ParameterError
from ..spec import Param

PRESET_VERSION = 2  # what drywet writes; it reads READS
READS = (1, 2)
# node type name in presets -> f(mapping, where) -> Node; each node class registers itself
NODE_TYPES: dict[str, Callable[[Mapping, str], Node]] = {}


class Node:
    """Base class of every processing node (see the module docstring)."""

    key: str = ""
    bypass: bool = False
    takes_tracks: bool = False  # input is (batch, tracks, channels, samples)

    # -- what a subclass declares --------------------------------------------------------
    def local_params(self) -> tuple[Param, ...]:
        """Parameters of this node itself, in q order (an effect: its spec's)."""
        return ()

    def local_values(self) -> Mapping[str, Any]:
        """Current physical values of :meth:`local_params`."""
        return {}

    def named_children(self) -> tuple[tuple[str, Node], ...]:
        """(prefix, child) pairs in q order; an empty prefix puts the child's names at this level."""
        return ()

    def rebuild(self, values: Mapping[str, Any], children: Sequence[Node], bypass: bool | None = None) -> Node:
        """A copy with new own values and children (same structure)."""
        raise NotImplementedError

    def _numpy(self, x: Any, sample_rate: int) -> Any:
        raise NotImplementedError

    def _torch(self, x: Any, sample_rate: int, values: Mapping[str, Any], child_q: list, automation: Mapping) -> Any:
        raise NotImplementedError

    def output_channels(self, channels: int) -> int:
        return channels

    def node_dict(self) -> dict:
        raise NotImplementedError

    # -- nested names ---------------------------------------------------------------------
    @property
    def param_names(self) -> list[str]:
        names = [p.name for p in self.local_params()]
        for prefix, child in self.named_children():
            names += [join_key(prefix, n) for n in child.param_names]
        return names

    @property
    def num_params(self) -> int:
        return len(self.local_params()) + sum(c.num_params for _, c in self.named_children())

    def values(self) -> dict[str, Any]:
        """Every physical value by its nested key."""
        out = dict(self.local_values())
        for prefix, child in self.named_children():
            out.update({join_key(prefix, k): v for k, v in child.values().items()})
        return out

    def param(self, key: str) -> Param:
        """The spec entry of a nested key."""
        local = {p.name: p for p in self.local_params()}
        if key in local:
            return local[key]
        for prefix, sub, child in self._route(key):
            return child.param(sub)
        raise self._unknown([key])

    def with_params(self, values: Mapping[str, Any]) -> Node:
        """A copy with the given nested keys set (physical values, validated by the spec)."""
        values = dict(values)
        local_names = {p.name for p in self.local_params()}
        own = {**self.local_values(), **{k: v for k, v in values.items() if k in local_names}}
        rest = {k: v for k, v in values.items() if k not in local_names}
        children = []
        for prefix, child in self.named_children():
            names = set(child.param_names)
            mine = {}
            for k in list(rest):
                sub = strip_key(prefix, k)
                if sub is not None and sub in names:
                    mine[sub] = rest.pop(k)
            children.append(child.with_params(mine) if mine else child)
        if rest:
            raise self._unknown(list(rest))
        return self.rebuild(own, children)

    def _route(self, key: str):
        for prefix, child in self.named_children():
            sub = strip_key(prefix, key)
            if sub is not None and sub in child.param_names:
                yield prefix, sub, child

    def _unknown(self, keys: list[str]) -> ParameterError:
        names = self.param_names
        shown = names if len(names) <= 12 else names[:12] + [f"... ({len(names)} in all)"]
        return ParameterError(f"{self.key or type(self).__name__} has no parameter {keys}; its keys are {shown}")

    # -- the normalized vector -------------------------------------------------------------
    def to_q(self) -> np.ndarray:
        """The normalized vector q in [0, 1]^P of the current values (constant parameters only)."""
        curves = [k for k, v in self.values().items() if isinstance(v, tuple)]
        if curves:
            raise ParameterError(f"{curves} hold curves: a normalized vector describes constant parameters only")
        values = self.local_values()
        parts = [np.array([p.normalize(float(values[p.name])) for p in self.local_params()], dtype=np.float64)]
        parts += [child.to_q() for _, child in self.named_children()]
        return np.concatenate(parts) if parts else np.zeros(0)

    def with_q(self, q: Any) -> Node:
        """A copy whose parameters are set from q (numpy, shape (P,), values in [0, 1])."""
        q = np.asarray(q, dtype=np.float64)
        if q.shape != (self.num_params,):
            raise ParameterError(f"q must have shape ({self.num_params},) for this node, got {q.shape}")
        if not np.all(np.isfinite(q)) or np.any(q < -1e-9) or np.any(q > 1 + 1e-9):
            raise ParameterError("q values must be finite and in [0, 1]")
        q = np.clip(q, 0.0, 1.0)
        local = self.local_params()
        own = {p.name: float(p.denormalize(q[i])) for i, p in enumerate(local)}
        i, children = len(local), []
        for _, child in self.named_children():
            children.append(child.with_q(q[i : i + child.num_params]))
            i += child.num_params
        return self.rebuild(own, children)

    def sample(self, rng: np.random.Generator) -> Node:
        """A copy with every parameter drawn uniformly in normalized space."""
        if not isinstance(rng, np.random.Generator):
            raise ParameterError("sample() needs a numpy.random.Generator, e.g. np.random.default_rng(0)")
        own = {p.name: p.sample(rng) for p in self.local_params()}
        return self.rebuild(own, [child.sample(rng) for _, child in self.named_children()])

    def with_bypass(self, bypass: bool = True) -> Node:
        return self.rebuild(self.local_values(), [c for _, c in self.named_children()], bypass=bool(bypass))

    # -- processing -------------------------------------------------------------------------
    def __call__(self, x: Any, *, sample_rate: int) -> Any:
        """Render with the stored values: numpy kernels for arrays, torch twins for tensors."""
        if self.bypass:
            return x.clone() if is_tensor(x) else x.copy()
        return self._numpy(x, sample_rate)

    def torch(self, x: Any, *, sample_rate: int, q: Any = None, automation: Mapping[str, Any] | None = None) -> Any:
        """Differentiable rendering.

        Args:
            x: audio tensor in this node's layout ((batch, channels, samples), or
                (batch, tracks, channels, samples) when ``takes_tracks``).
            sample_rate: Hz.
            q: (batch, P) or (P,) normalized parameters in :attr:`param_names` order; None
                renders the stored values.
            automation: nested key -> normalized curve (batch, points) or (points,) in [0, 1]
                that replaces that parameter's constant; the points are spread evenly over the
                signal and interpolated linearly (the numpy path's curve rule).
        """
        automation = dict(automation or {})
        if q is None:
            if automation:
                q = self._stored_q_tensor(x)
            else:
                return self(x, sample_rate=sample_rate)
        if q.shape[-1] != self.num_params:
            raise ParameterError(f"q must have {self.num_params} values per item for this node, got {q.shape[-1]}")
        batch = x.shape[0]
        if q.ndim == 1:
            q = q.expand(batch, -1)
        elif q.shape[0] != batch:
            raise ParameterError(f"q has {q.shape[0]} rows for a batch of {batch}; give one row per item or a (P,) vector")
        unknown = [k for k in automation if k not in self.param_names]
        if unknown:
            raise self._unknown(unknown)
        return self._torch_q(x, sample_rate, q, automation)

    def _torch_q(self, x: Any, sample_rate: int, q: Any, automation: Mapping[str, Any]) -> Any:
        if self.bypass:
            return x.clone()
        values = self._local_torch_values(q, automation)
        i, child_q = len(self.local_params()), []
        for _, child in self.named_children():
            child_q.append(q[:, i : i + child.num_params])
            i += child.num_params
        return self._torch(x, sample_rate, values, child_q, automation)

    def _local_torch_values(self, q: Any, automation: Mapping[str, Any]) -> dict[str, Any]:
        """This node's own physical values from q (batch,) or, when automated, (batch, points)."""
        values = {}
        for i, p in enumerate(self.local_params()):
            if p.name in automation:
                values[p.name] = p.denormalize(_curve_rows(automation[p.name], q.shape[0]))
            else:
                values[p.name] = p.denormalize(q[:, i])
        return values

    @staticmethod
    def child_automation(prefix: str, automation: Mapping[str, Any], child: Node | None = None) -> dict:
        """The automation entries of one child, with its prefix removed (with an empty prefix,
        those among ``child``'s names)."""
        if not automation:
            return {}
        names = set(child.param_names) if child is not None and not prefix else None
        out = {}
        for k, v in automation.items():
            sub = strip_key(prefix, k)
            if sub is not None and (names is None or sub in names):
                out[sub] = v
        return out

    def _stored_q_tensor(self, x: Any) -> Any:
        import torch

        return torch.as_tensor(self.to_q(), dtype=x.dtype, device=x.device)

    # -- presets -------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The preset mapping (version 2) that describes this node and its values."""
        return {"drywet_preset": PRESET_VERSION, "graph": self.node_dict()}

    def save(self, path: Any, *, overwrite: bool = False):
        """Write a YAML (.yaml/.yml) or JSON (.json) preset (version 2); floats round-trip exactly."""
        from ..preset_files import write_preset

        return write_preset(path, self.to_dict(), overwrite=overwrite)

    # -- comparison ---------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and type(other) is type(self) and self.node_dict() == other.node_dict()

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        own = ", ".join(f"{k}={v:.4g}" for k, v in self.local_values().items())
        inner = []
        for prefix, child in self.named_children():
            lines = repr(child).splitlines()
            label = f"{prefix} = " if prefix and prefix != child.key else ""
            inner += [f"  {label}{lines[0]}"] + [f"  {line}" for line in lines[1:]]
        head = f"{type(self).__name__}({self.key}{' (bypassed)' if self.bypass else ''}{': ' + own if own else ''}"
        return head + ("\n" + "\n".join(inner) + "\n)" if inner else ")")


def join_key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def strip_key(prefix: str, key: str) -> str | None:
    """``key`` without ``prefix.``, or None when it does not start with it ('' matches all)."""
    if not prefix:
        return key
    return key[len(prefix) + 1 :] if key.startswith(prefix + ".") else None


def _curve_rows(curve: Any, batch: int) -> Any:
    if curve.ndim == 1:
        curve = curve[None].expand(batch, -1)
    if curve.ndim != 2 or curve.shape[0] != batch:
        raise ParameterError(f"an automation curve must be (points,) or ({batch}, points), got {tuple(curve.shape)}")
    return curve.clamp(0.0, 1.0)


def check_key(key: str, what: str = "node") -> str:
    """A node or track key: non-empty, no dots (dots separate the levels of nested keys)."""
    if not isinstance(key, str) or not key or "." in key:
        raise ParameterError(f"{what} key {key!r} must be a non-empty name without dots, e.g. 'vocals'")
    return key


def unique_keys(nodes: Sequence[Node]) -> list[Node]:
    """Give repeated keys distinct names (eq, eq_2, ...), as chains always did."""
    seen: dict[str, int] = {}
    out = []
    for node in nodes:
        n = seen.get(node.key, 0) + 1
        seen[node.key] = n
        out.append(node if n == 1 else node.with_key(f"{node.key}_{n}"))
    return out


# -- presets: reading any graph ----------------------------------------------------------------
def node_type(name: str):
    """Class decorator: the class's ``from_node_dict`` builds preset entries of ``type: name``."""

    def register(cls):
        NODE_TYPES[name] = cls.from_node_dict
        return cls

    return register


def node_from_dict(d: Any, where: str) -> Node:
    """The node one preset entry describes; ``where`` names it in errors."""
    if not isinstance(d, Mapping) or "type" not in d:
        raise DrywetError(f"preset {where} needs a mapping with a 'type' (one of {sorted(NODE_TYPES)})")
    kind = d["type"]
    if kind not in NODE_TYPES:
        raise DrywetError(f"preset {where} has unknown node type {kind!r}; use one of {sorted(NODE_TYPES)}")
    try:
        return NODE_TYPES[kind](d, where)
    except KeyError as exc:
        raise DrywetError(f"preset {where} ({kind}) lacks the entry {exc}; write it as drywet saves it") from None


def graph_from_preset(data: Any) -> Node:
    """The node a preset mapping describes (version 2, or a version-1 chain preset)."""
    if not isinstance(data, Mapping) or ("chain" not in data and "graph" not in data):
        raise DrywetError("not a drywet preset: expected a mapping with a 'graph' (version 2) or 'chain' (version 1)")
    _check_tree(data, "preset", ())
    version = data.get("drywet_preset", 1 if "chain" in data else PRESET_VERSION)
    if version not in READS:
        raise DrywetError(f"preset version {version} is not supported (this drywet reads versions {list(READS)}); "
                          "upgrade drywet to read it")
    if version == 1:  # a list of effect stages
        if not isinstance(data.get("chain"), list):
            raise DrywetError("a version-1 preset needs a 'chain' list of stages")
        stages = [{**entry, "type": "effect"} if isinstance(entry, Mapping) else entry for entry in data["chain"]]
        return node_from_dict({"type": "chain", "nodes": stages}, "preset")
    return node_from_dict(data["graph"], "graph")


def _check_tree(d: Any, where: str, stack: tuple) -> None:
    """Refuse a preset that contains itself (YAML anchors can write one): a graph is a tree."""
    if isinstance(d, (Mapping, list)):
        if id(d) in stack:
            raise DrywetError(f"{where} contains itself (a cycle, e.g. a YAML alias inside its own anchor); "
                              "a graph must be a tree: write the repeated node out again instead of aliasing it")
        items = d.items() if isinstance(d, Mapping) else enumerate(d)
        for k, v in items:
            _check_tree(v, f"{where}.{k}", stack + (id(d),))
