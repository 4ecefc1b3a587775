"""A neural proxy: a trained network standing in for an effect (or a chain) of drywet.

``Proxy(x, q)`` is differentiable with respect to both the audio and the normalized
parameters q, whatever the effect it imitates (a codec, a plugin, a DSP compressor whose exact
gradient is costly). Channels are processed independently (folded into the batch). The model
is stored as safetensors + JSON bound to the effects' specs (:mod:`drywet.weights`).
"""

from __future__ import annotations

from itertools import permutations
from pathlib import Path
from typing import Any

import numpy as np

from .. import weights
from ..audio import as_batch, check_sample_rate
from ..chain import Chain, Stage
from ..errors import ParameterError
from ..nn import NETWORKS, run_padded

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "proxy"


def order_permutations(num_stages: int) -> list[tuple[int, ...]]:
    """The stage orders a chain proxy with order conditioning knows, in a fixed order."""
    return list(permutations(range(num_stages)))


class Proxy:
    """Network + the chain whose parameters condition it.

    Args:
        network: a :class:`~drywet.nn.TCN` or ``WaveUNet``.
        chain: the effects it imitates (their specs define q); empty for a device model.
        sample_rate: the rate it was trained at (input must match).
        config: architecture keywords (to rebuild it when loading).
        order_conditioning: q is followed by a one-hot over the stage orders.
        meta: training command and results.
        direction: ``"forward"`` (dry -> wet, a proxy) or ``"inverse"`` (wet -> dry, a restoration
            network conditioned on the chain's parameters).
    """

    def __init__(self, network, chain: Chain, *, sample_rate: int, config: dict, order_conditioning: bool = False,
                 meta: dict | None = None, direction: str = "forward"):
        self.direction = direction
        self.network = network
        self.chain = chain
        self.sample_rate = sample_rate
        self.config = dict(config)
        self.order_conditioning = order_conditioning
        self.meta = dict(meta or {})

    @classmethod
    def build(cls, chain: Chain, *, sample_rate: int, network: str = "tcn", order_conditioning: bool = False, **config) -> Proxy:
        if network not in NETWORKS:
            raise ParameterError(f"network must be one of {list(NETWORKS)}, not {network!r}")
        extra = len(order_permutations(len(chain))) if order_conditioning else 0
        net = NETWORKS[network](chain.num_params + extra, **config)
        return cls(net, chain, sample_rate=sample_rate, config={"network": network, **config}, order_conditioning=order_conditioning)

    @property
    def num_conditions(self) -> int:
        return self.network.num_params

    @property
    def receptive_field(self) -> int:
        return int(self.network.receptive_field)

    def condition(self, q: Any, order: Any = None) -> Any:
        """q (B, P) [+ one-hot of ``order`` (B,) indices into order_permutations] -> (B, P')."""
        import torch

        if not self.order_conditioning:
            return q
        n = len(order_permutations(len(self.chain)))
        if order is None:
            order = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
        onehot = torch.nn.functional.one_hot(torch.as_tensor(order, device=q.device).long(), n).to(q.dtype)
        return torch.cat([q, onehot], dim=-1)

    def __call__(self, x: Any, q: Any = None, *, sample_rate: int, order: Any = None) -> Any:
        """Differentiable same-length output.

        Args:
            x: (batch, channels, samples) or (channels, samples) tensor.
            q: (batch, P) or (P,) normalized parameters (None for an unconditional model).
            sample_rate: must equal the proxy's rate.
            order: (batch,) stage-order indices for an order-conditioned chain proxy.
        """
        import torch

        x3, was_2d = as_batch(x)
        if check_sample_rate(sample_rate) != self.sample_rate:
            raise ParameterError(f"this proxy was trained at {self.sample_rate} Hz; resample the audio to it (got {sample_rate} Hz)")
        b, c, t = x3.shape
        p = self.chain.num_params
        if p:
            if q is None:
                raise ParameterError(f"this proxy needs q with {p} normalized parameters per item")
            q = torch.as_tensor(q, dtype=x3.dtype, device=x3.device)
            q = q.expand(b, -1) if q.ndim == 1 else q
            if q.shape != (b, p):
                raise ParameterError(f"q must have shape ({b}, {p}), got {tuple(q.shape)}")
            cond = self.condition(q, order).repeat_interleave(c, dim=0)
        else:
            cond = None
        y = run_padded(self.network, x3.reshape(b * c, 1, t), cond).reshape(b, c, t)
        return y[0] if was_2d else y

    def process(self, x: np.ndarray, *, sample_rate: int, **params: Any) -> np.ndarray:
        """Numpy convenience: (channels, samples) audio and physical values -> audio.

        Parameters are named as in the chain's flat vector (``compressor.ratio``); for a
        one-stage proxy the bare name (``ratio``) works too; missing ones take defaults.
        """
        import torch

        q = None
        if self.chain.num_params:
            stage_params: dict[str, dict] = {}
            for key, value in params.items():
                stage, _, name = key.rpartition(".")
                stage_params.setdefault(stage or self.chain.stages[0].key, {})[name] = value
            q = np.concatenate([s.effect.spec.normalize(stage_params.get(s.key, {})) for s in self.chain.stages])
            q = torch.from_numpy(q[None].astype(np.float32))
        with torch.no_grad():
            return self(torch.from_numpy(np.asarray(x, dtype=np.float32)), q, sample_rate=sample_rate).numpy()

    # -- storage ---------------------------------------------------------------------------
    def save(self, path: Any) -> Path:
        info = {
            "chain": [s.effect.name for s in self.chain.stages],
            "options": {s.key: dict(s.options) for s in self.chain.stages},
            "spec": weights.chain_spec(self.chain),
            "sample_rate": self.sample_rate,
            "config": self.config,
            "order_conditioning": self.order_conditioning,
            "direction": self.direction,
            "receptive_field": self.receptive_field,
            "parameters": int(sum(p.numel() for p in self.network.parameters())),
            **self.meta,
        }
        return weights.save(path, self.network, info)

    @classmethod
    def load(cls, path: Any) -> Proxy:
        path, info = weights.read_info(path)
        options = info.get("options", {})
        chain = Chain([Stage.create(name, options=options.get(name)) for name in info["chain"]])
        weights.check_spec(info, chain, path, "drywet proxy train")
        config = dict(info["config"])
        proxy = cls.build(chain, sample_rate=info["sample_rate"], network=config.pop("network"),
                          order_conditioning=info.get("order_conditioning", False), **config)
        proxy.direction = info.get("direction", "forward")
        weights.load_state(proxy.network, path)
        proxy.network.eval()
        proxy.meta = {k: v for k, v in info.items() if k not in ("chain", "options", "spec", "sample_rate", "config", "order_conditioning", "direction")}
        return proxy


def bundled_proxy(name: str) -> Proxy:
    """A shipped proxy by name (e.g. ``"compressor"``)."""
    path = BUNDLED / f"{name}.safetensors"
    if not path.is_file():
        known = sorted(p.stem for p in BUNDLED.glob("*.safetensors"))
        raise ParameterError(f"no bundled proxy {name!r}; shipped: {known}; train one with `drywet proxy train`")
    return Proxy.load(path)
