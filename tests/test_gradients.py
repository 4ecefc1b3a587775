"""Gradient approximation (SPSA, finite differences) and per-stage gradient methods."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drywet.blackbox import black_box
from drywet.chain import Chain
from drywet.errors import BlackBoxError, ParameterError
from drywet.gradients import ApproxGradEffect, ThroughChain
from drywet.registry import get_effect


@pytest.fixture(scope="module")
def setup(music_short):
    x, sr = music_short
    xt = torch.from_numpy(x[:1].astype(np.float64))[None]
    eff = get_effect("compressor")
    q_true = torch.tensor([[0.6, 0.3, 0.5, 0.6, 0.2, 0.5]], dtype=torch.float64)
    target = eff.torch(xt, sample_rate=sr, **eff.spec.denormalize(q_true)).detach()
    return eff, xt, sr, target


def _exact_grad(eff, xt, sr, target, q):
    q = q.clone().requires_grad_(True)
    torch.mean((eff.torch(xt, sample_rate=sr, **eff.spec.denormalize(q)) - target) ** 2).backward()
    return q.grad


@pytest.mark.parametrize("method, samples, minimum", [("fd", 1, 0.999), ("spsa", 200, 0.9)])
def test_approximate_gradient_agrees_with_autodiff(setup, method, samples, minimum):
    eff, xt, sr, target = setup
    q = torch.tensor([[0.4, 0.5, 0.3, 0.4, 0.5, 0.3]], dtype=torch.float64)
    exact = _exact_grad(eff, xt, sr, target, q)
    approx = ApproxGradEffect(eff, sample_rate=sr, method=method, samples=samples, epsilon=0.005, seed=0)
    q_var = q.clone().requires_grad_(True)
    y = approx(xt, q_var)
    np.testing.assert_allclose(y.detach().numpy(), eff.torch(xt, sample_rate=sr, **eff.spec.denormalize(q)).numpy(), atol=1e-5)
    torch.mean((y - target) ** 2).backward()
    cosine = torch.nn.functional.cosine_similarity(q_var.grad, exact).item()
    assert cosine >= minimum
    expected_evals = 1 + (2 * 6 if method == "fd" else 2 * samples)
    assert approx.evaluations == expected_evals


def test_spsa_input_gradient_points_the_right_way(music_short):
    x, sr = music_short
    eff = get_effect("gain")
    # SPSA on D samples with K draws has cosine ~ sqrt(K / (K + D)) with the true gradient
    xt = torch.from_numpy(x[:1, 1000:1100].astype(np.float64))[None].requires_grad_(True)
    approx = ApproxGradEffect(eff, sample_rate=sr, input_grad="spsa", samples=300, seed=1)
    q = torch.tensor([[eff.spec.param("gain_db").normalize(6.0)]], dtype=torch.float64)
    y = approx(xt, q)
    (y**2).sum().backward()
    exact = 2 * (10 ** (6 / 20)) ** 2 * xt.detach()
    assert torch.nn.functional.cosine_similarity(xt.grad.flatten(), exact.flatten(), dim=0) > 0.7


def test_spsa_solves_a_small_estimation_problem(music_short):
    """Recover a black-box gain+tone setting from a target with SPSA gradients alone."""
    x, sr = music_short
    eff = get_effect("parametric_eq")
    box = black_box(lambda a, rate, p: eff.numpy(a, sample_rate=rate, **p), eff.spec, name="eq_box")
    xt = torch.from_numpy(x[:1].astype(np.float32))[None]
    q_true = torch.full((1, eff.spec.num_params), 0.5)
    q_true[0, 0] = 0.85  # low shelf +6 dB
    target = torch.from_numpy(eff.numpy(x[:1].astype(np.float32), sample_rate=sr, **{k: float(v) for k, v in eff.spec.denormalize(q_true[0].double().numpy()).items()}))[None]
    logits = torch.zeros(1, eff.spec.num_params, requires_grad=True)
    approx = ApproxGradEffect(box, sample_rate=sr, samples=4, epsilon=0.02, seed=0)
    opt = torch.optim.Adam([logits], lr=0.05)
    losses = []
    for _ in range(60):
        loss = torch.mean((approx(xt, torch.sigmoid(logits)) - target) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]
    assert abs(torch.sigmoid(logits)[0, 0].item() - 0.85) < 0.1


def test_thread_pool_gives_the_same_gradient(setup):
    eff, xt, sr, target = setup
    q = torch.tensor([[0.4, 0.5, 0.3, 0.4, 0.5, 0.3]], dtype=torch.float64)
    grads = []
    for workers in (1, 2):
        q_var = q.clone().requires_grad_(True)
        approx = ApproxGradEffect(eff, sample_rate=sr, method="fd", workers=workers)
        torch.mean((approx(xt, q_var) - target) ** 2).backward()
        grads.append(q_var.grad)
    torch.testing.assert_close(grads[0], grads[1])


def test_approx_argument_and_black_box_errors(music_short):
    _, sr = music_short
    eff = get_effect("gain")
    for kwargs, message in [({"method": "adjoint"}, "method"), ({"epsilon": 0.7}, "epsilon"), ({"input_grad": "x"}, "input_grad"),
                            ({"samples": 0}, "at least 1")]:
        with pytest.raises(ParameterError, match=message):
            ApproxGradEffect(eff, sample_rate=sr, **kwargs)
    local = black_box(lambda a, rate, p: a, eff.spec, name="local_only")
    with pytest.raises(ParameterError, match="not a registered effect"):
        ApproxGradEffect(local, sample_rate=sr, workers=2, pool="process")
    nan_box = black_box(lambda a, rate, p: a * np.nan, eff.spec, name="nan_box")
    with pytest.raises(BlackBoxError, match="NaN"):
        ApproxGradEffect(nan_box, sample_rate=sr)(torch.zeros(1, 1, 100), torch.full((1, 1), 0.5))


def test_through_chain_methods_and_hybrids(music_short):
    from drywet.neural.proxy import bundled_proxy

    proxy = bundled_proxy("compressor")
    x, _ = music_short
    from drywet import io

    sr = proxy.sample_rate
    xt = torch.from_numpy(io.resample(x[:1], 44100, sr))[None].float()
    chain = Chain.from_names("gain,compressor")
    q = torch.rand(1, chain.num_params, generator=torch.Generator().manual_seed(0))
    exact = chain.with_q(q[0].double().numpy())(xt[0].numpy(), sample_rate=sr)
    for method in ("autodiff", "spsa", "full_hybrid", "half_hybrid", "proxy"):
        through = ThroughChain(chain, sample_rate=sr, methods={"compressor": method}, proxies={"compressor": proxy})
        qv = q.clone().requires_grad_(True)
        y = through(xt, qv)
        y.abs().mean().backward()
        assert torch.isfinite(qv.grad).all() and qv.grad.abs().sum() > 0, method
        error = float(np.abs(y.detach().numpy()[0] - exact).mean())
        if method in ("autodiff", "spsa", "full_hybrid"):  # the value is the real effect's
            assert error < 1e-4, method
        else:  # the proxy's value: close (MAE of the shipped proxy) but not equal
            assert 1e-5 < error < 0.05, method
        if method == "half_hybrid":
            through.eval()
            assert float(np.abs(through(xt, q).numpy()[0] - exact).mean()) < 1e-4
    with pytest.raises(ParameterError, match="needs proxies"):
        ThroughChain(chain, sample_rate=sr, methods={"compressor": "proxy"})
    with pytest.raises(ParameterError, match="runs at"):
        ThroughChain(chain, sample_rate=44100, methods={"compressor": "proxy"}, proxies={"compressor": proxy})
    with pytest.raises(ParameterError, match="imitates"):
        ThroughChain(chain, sample_rate=sr, methods={"gain": "proxy"}, proxies={"gain": proxy})
    with pytest.raises(ParameterError, match="no torch twin"):
        ThroughChain(Chain.from_names("mp3"), sample_rate=sr, methods="autodiff")
