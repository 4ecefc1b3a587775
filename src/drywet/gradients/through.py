"""A chain whose stages each pick how gradients flow through them.

Methods per stage (the four families compared in the seeds, and DeepAFx-ST's hybrids):

* ``"autodiff"``: the torch twin (exact gradients; EQ-type stages in their FIR mode).
* ``"spsa"`` / ``"fd"``: the real effect forward, approximated gradients (:mod:`.approx`).
* ``"proxy"``: a neural proxy in place of the effect, in training and at inference.
* ``"half_hybrid"``: the proxy while training (``module.train()``), the real DSP at inference
  (``module.eval()``): cheap training, true sound at the end.
* ``"full_hybrid"``: straight-through: the value is the real DSP's output, the gradient is the
  proxy's, ``y = proxy(x) + stop_grad(dsp(x) - proxy(x))``, in training and at inference.

The real DSP of proxy-based stages runs the numpy kernel (so black boxes work) without
gradient.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..chain import Chain, Stage
from ..errors import BlackBoxError, ParameterError
from .approx import ApproxGradEffect

METHODS = ("autodiff", "spsa", "fd", "proxy", "half_hybrid", "full_hybrid")
NEEDS_PROXY = ("proxy", "half_hybrid", "full_hybrid")


def _dsp(stage: Stage, x: Any, q: Any, sample_rate: int) -> Any:
    """The real effect on numpy, per batch item, no gradient."""
    import torch

    spec = stage.effect.spec
    x_np, q_np = x.detach().cpu().numpy(), q.detach().cpu().double().numpy()
    out = []
    for b in range(x_np.shape[0]):
        params = {k: float(v) for k, v in spec.denormalize(np.clip(q_np[b], 0.0, 1.0)).items()}
        out.append(stage.effect.numpy(x_np[b], sample_rate=sample_rate, **params, **stage.options))
    return torch.from_numpy(np.stack(out)).to(device=x.device, dtype=x.dtype)


class ThroughChain:
    """Apply ``chain`` at normalized parameters with a gradient method per stage.

    Args:
        chain: the effects (their stored values are ignored; q drives them).
        sample_rate: Hz.
        methods: one method for every stage, or {stage key: method} (others: autodiff when
            the effect has a torch twin, else spsa).
        proxies: {stage key: Proxy} for proxy-based methods.
        approx: keyword arguments for :class:`ApproxGradEffect` (epsilon, samples, ...).

    ``ThroughChain(x, q)`` takes x (B, C, T) and q (B, P) tensors. ``train()``/``eval()``
    switch half-hybrid stages between proxy and DSP.
    """

    def __init__(self, chain: Chain, *, sample_rate: int, methods: str | Mapping[str, str] = "autodiff",
                 proxies: Mapping[str, Any] | None = None, approx: Mapping[str, Any] | None = None):
        self.chain, self.sample_rate = chain, sample_rate
        self.proxies = dict(proxies or {})
        self.training = True
        self.methods: dict[str, str] = {}
        for s in chain.stages:
            default = "autodiff" if s.effect.torch_kernel is not None else "spsa"
            m = methods if isinstance(methods, str) else methods.get(s.key, default)
            if m not in METHODS:
                raise ParameterError(f"{s.key}: gradient method must be one of {METHODS}, not {m!r}")
            if m == "autodiff" and s.effect.torch_kernel is None:
                raise ParameterError(f"{s.key} ({s.effect.name}) has no torch twin; use spsa, fd or a proxy method")
            if m in NEEDS_PROXY:
                proxy = self.proxies.get(s.key)
                if proxy is None:
                    raise ParameterError(f"{s.key}: method {m!r} needs proxies={{{s.key!r}: Proxy}} (train one with `drywet proxy train`)")
                if [st.effect.name for st in proxy.chain.stages] != [s.effect.name]:
                    raise ParameterError(f"{s.key}: the proxy imitates {[st.effect.name for st in proxy.chain.stages]}, not {s.effect.name}")
                if proxy.sample_rate != sample_rate:
                    raise ParameterError(f"{s.key}: the proxy runs at {proxy.sample_rate} Hz, the chain at {sample_rate} Hz")
            self.methods[s.key] = m
        self.approx = {
            s.key: ApproxGradEffect(s.effect, sample_rate=sample_rate, method=self.methods[s.key], options=dict(s.options), **dict(approx or {}))
            for s in chain.stages if self.methods[s.key] in ("spsa", "fd")
        }

    def train(self, mode: bool = True) -> ThroughChain:
        self.training = mode
        return self

    def eval(self) -> ThroughChain:
        return self.train(False)

    def __call__(self, x: Any, q: Any) -> Any:
        if q.shape[-1] != self.chain.num_params:
            raise ParameterError(f"q must have {self.chain.num_params} values per item, got {q.shape[-1]}")
        y, i = x, 0
        for s in self.chain.stages:
            n = s.effect.spec.num_params
            qs = q[..., i : i + n]
            i += n
            if not s.bypass:
                y = self._stage(s, y, qs)
        return y

    def _stage(self, s: Stage, x: Any, q: Any) -> Any:
        method = self.methods[s.key]
        if method == "autodiff":
            options = dict(s.options)
            if "mode" in options:
                options["mode"] = "fir"
            return s.effect.torch(x, sample_rate=self.sample_rate, **s.effect.spec.denormalize(q), **options)
        if method in ("spsa", "fd"):
            return self.approx[s.key](x, q)
        proxy = self.proxies[s.key]
        if method == "half_hybrid" and not self.training:
            return _dsp(s, x, q, self.sample_rate)
        y_proxy = proxy(x, q, sample_rate=self.sample_rate)
        if method == "full_hybrid":
            return y_proxy + (_dsp(s, x, q, self.sample_rate) - y_proxy).detach()
        return y_proxy


__all__ = ["METHODS", "BlackBoxError", "ThroughChain"]
