"""Gradient approximation for black-box effects, as a torch autograd Function.

The forward pass runs the real effect (numpy) on each batch item. The backward pass estimates
the vector-Jacobian products the chain rule needs, from extra evaluations of the effect:

* parameters, SPSA (Spall 1992; used for audio effects by Ramirez et al., DeepAFx, ICASSP 2021):
  with a random sign vector d in {-1, 1}^P and step eps (in normalized q units),
  ``dL/dq ~ <g, f(q + eps d) - f(q - eps d)> / (2 eps) * d``, averaged over ``samples``
  draws; 2 evaluations per draw whatever P.
* parameters, central finite differences: the same with d = e_i for each i; 2P evaluations,
  deterministic, exact to O(eps^2).
* input audio: ``"spsa"`` applies the same estimator to x (a rank-one estimate per draw,
  noisy for long signals), ``"identity"`` passes g through (straight-through; right for effects
  close to the identity), ``"none"`` gives no gradient to x.

q is moved inside [eps, 1 - eps] before perturbing so both sides stay in the spec's range
(a small bias within eps of the range ends). Evaluations of one backward run in a thread or
process pool when ``workers > 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import numpy as np

from ..effects.base import Effect
from ..errors import ParameterError

METHODS = ("spsa", "fd")
INPUT_GRADS = ("spsa", "identity", "none")
_POOLS: dict[tuple[str, int], Executor] = {}


def _pool(kind: str, workers: int) -> Executor:
    key = (kind, workers)
    if key not in _POOLS:
        if kind == "process":
            import multiprocessing

            _POOLS[key] = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        else:
            _POOLS[key] = ThreadPoolExecutor(workers)
    return _POOLS[key]


def _render(effect: Effect | str, x: np.ndarray, sample_rate: int, params: dict, options: dict) -> np.ndarray:
    if isinstance(effect, str):  # process pools receive the registry name
        from ..registry import get_effect

        effect = get_effect(effect)
    return effect.numpy(x, sample_rate=sample_rate, **params, **options)


class _Evaluator:
    """Runs the effect on many (x, q) pairs, serially or in a pool."""

    def __init__(self, effect: Effect, sample_rate: int, options: dict, workers: int, pool: str):
        if pool not in ("thread", "process"):
            raise ParameterError(f"pool must be 'thread' or 'process', not {pool!r}")
        if pool == "process" and workers > 1:
            from ..registry import EFFECTS

            if EFFECTS.get(effect.name) is not effect:
                raise ParameterError(
                    f"{effect.name} is not a registered effect, so worker processes cannot rebuild it; "
                    "use pool='thread' or create it with register=True in a module the workers import"
                )
        self.effect, self.sample_rate, self.options = effect, sample_rate, dict(options)
        self.workers, self.pool = workers, pool

    def params(self, q: np.ndarray) -> dict:
        return {k: float(v) for k, v in self.effect.spec.denormalize(np.clip(q, 0.0, 1.0)).items()}

    def __call__(self, jobs: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        args = [(x, self.params(q)) for x, q in jobs]
        if self.workers <= 1 or len(jobs) < 2:
            return [_render(self.effect, x, self.sample_rate, p, self.options) for x, p in args]
        target = self.effect.name if self.pool == "process" else self.effect
        pool = _pool(self.pool, self.workers)
        futures = [pool.submit(_render, target, x, self.sample_rate, p, self.options) for x, p in args]
        return [f.result() for f in futures]


def approximate_gradient(
    evaluate: _Evaluator, x: np.ndarray, q: np.ndarray, g: np.ndarray, *, method: str, epsilon: float, samples: int,
    input_grad: str, input_epsilon: float, rng: np.random.Generator, want_q: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """(dL/dq (B, P), dL/dx (B, C, T) or None) for one batch, from upstream gradient g (B, C', T)."""
    batch, num_params = q.shape
    center = np.clip(q, epsilon, 1.0 - epsilon)
    directions: list[np.ndarray] = []  # (B, P) per evaluation pair
    if not want_q:
        pass
    elif num_params and method == "fd":
        directions = [np.tile(np.eye(num_params)[i], (batch, 1)) for i in range(num_params)]
    elif num_params:
        directions = [rng.choice([-1.0, 1.0], size=(batch, num_params)) for _ in range(samples)]
    jobs = []
    for d in directions:
        for b in range(batch):
            jobs += [(x[b], center[b] + epsilon * d[b]), (x[b], center[b] - epsilon * d[b])]
    x_dirs = [rng.choice([-1.0, 1.0], size=x.shape).astype(x.dtype) for _ in range(samples)] if input_grad == "spsa" else []
    for d in x_dirs:
        for b in range(batch):
            jobs += [(x[b] + input_epsilon * d[b], q[b]), (x[b] - input_epsilon * d[b], q[b])]
    outputs = evaluate(jobs)
    grad_q = np.zeros((batch, num_params))
    k = 0
    for d in directions:
        for b in range(batch):
            slope = float(np.sum(g[b] * (outputs[k] - outputs[k + 1]))) / (2 * epsilon)
            grad_q[b] += slope * d[b]  # d_i = 1/d_i for signs; FD: only coordinate i is non-zero
            k += 2
    if method == "spsa" and directions:
        grad_q /= len(directions)
    grad_x = None
    if input_grad == "identity":
        grad_x = g.copy() if g.shape == x.shape else None
    elif input_grad == "spsa":
        grad_x = np.zeros_like(x, dtype=np.float64)
        for d in x_dirs:
            for b in range(batch):
                slope = float(np.sum(g[b] * (outputs[k] - outputs[k + 1]))) / (2 * input_epsilon)
                grad_x[b] += slope * d[b]
                k += 2
        grad_x /= max(len(x_dirs), 1)
    return grad_q, grad_x


class ApproxGradEffect:
    """A black-box (or any) effect usable in a torch graph with approximated gradients.

    Args:
        effect: the effect (its numpy kernel runs in both passes).
        sample_rate: Hz.
        method: ``"spsa"`` or ``"fd"`` (central finite differences).
        epsilon: perturbation of q (normalized units, 0 < eps < 0.5).
        samples: SPSA draws per backward (also used for the input's SPSA).
        input_grad: ``"spsa"``, ``"identity"`` or ``"none"`` (see module doc).
        input_epsilon: perturbation of the audio for the input's SPSA.
        workers: evaluations in parallel (1: serial).
        pool: ``"thread"`` or ``"process"`` (registered effects only).
        options: the effect's non-normalized settings.
        seed: seed of the perturbation draws.

    Call it as ``y = approx(x, q)`` with x (B, C, T) and q (B, P) tensors.
    """

    def __init__(self, effect: Effect, *, sample_rate: int, method: str = "spsa", epsilon: float = 0.01, samples: int = 1,
                 input_grad: str = "identity", input_epsilon: float = 1e-3, workers: int = 1, pool: str = "thread",
                 options: dict | None = None, seed: int = 0):
        if method not in METHODS:
            raise ParameterError(f"method must be one of {METHODS}, not {method!r}")
        if input_grad not in INPUT_GRADS:
            raise ParameterError(f"input_grad must be one of {INPUT_GRADS}, not {input_grad!r}")
        if not 0.0 < epsilon < 0.5:
            raise ParameterError(f"epsilon must be in (0, 0.5) (normalized units), got {epsilon}")
        if samples < 1 or workers < 1:
            raise ParameterError("samples and workers must be at least 1")
        self.effect = effect
        self.sample_rate = sample_rate
        self.method, self.epsilon, self.samples = method, float(epsilon), int(samples)
        self.input_grad, self.input_epsilon = input_grad, float(input_epsilon)
        self.evaluate = _Evaluator(effect, sample_rate, options or {}, workers, pool)
        self.rng = np.random.default_rng(seed)
        self.evaluations = 0  # counted, to compare the cost of methods

    def __call__(self, x: Any, q: Any) -> Any:
        return _ApproxFunction.apply(x, q, self)

    def forward_numpy(self, x: np.ndarray, q: np.ndarray) -> np.ndarray:
        outs = self.evaluate([(x[b], q[b]) for b in range(x.shape[0])])
        self.evaluations += x.shape[0]
        return np.stack(outs)


def _torch_function():
    import torch

    class _Approx(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, q, owner):
            x_np = x.detach().cpu().numpy()
            q_np = q.detach().cpu().double().numpy()
            y = owner.forward_numpy(x_np, q_np)
            ctx.owner = owner
            ctx.save_for_backward(x, q)
            return torch.from_numpy(y).to(device=x.device, dtype=x.dtype)

        @staticmethod
        def backward(ctx, g):
            owner = ctx.owner
            x, q = ctx.saved_tensors
            need_q, need_x = ctx.needs_input_grad[1], ctx.needs_input_grad[0]
            method_input = owner.input_grad if need_x else "none"
            grad_q, grad_x = approximate_gradient(
                _Counting(owner), x.detach().cpu().numpy(), q.detach().cpu().double().numpy(),
                g.detach().cpu().numpy(), method=owner.method, epsilon=owner.epsilon, samples=owner.samples,
                input_grad=method_input, input_epsilon=owner.input_epsilon, rng=owner.rng, want_q=need_q,
            )
            gq = torch.from_numpy(grad_q).to(device=q.device, dtype=q.dtype) if need_q else None
            gx = torch.from_numpy(grad_x).to(device=x.device, dtype=x.dtype) if grad_x is not None else None
            return gx, gq, None

    return _Approx


class _Counting:
    def __init__(self, owner: ApproxGradEffect):
        self.owner = owner

    def __call__(self, jobs):
        self.owner.evaluations += len(jobs)
        return self.owner.evaluate(jobs)


class _Lazy:
    fn = None

    @classmethod
    def apply(cls, *args):
        if cls.fn is None:
            cls.fn = _torch_function()
        return cls.fn.apply(*args)


_ApproxFunction = _Lazy
