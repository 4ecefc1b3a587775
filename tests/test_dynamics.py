"""Dynamics against closed forms: Giannoulis' static curve, one-pole time constants, and
the numba kernel against torchcomp's recursion."""

import math

import numpy as np
import pytest
import torch

from drywet import get_effect

SR = 44100


def giannoulis_output_db(level_db, threshold, ratio, knee):
    """Eq. (4) of Giannoulis, Massberg & Reiss (2012), written out independently."""
    if 2 * (level_db - threshold) < -knee:
        return level_db
    if 2 * abs(level_db - threshold) <= knee:
        return level_db + (1 / ratio - 1) * (level_db - threshold + knee / 2) ** 2 / (2 * knee)
    return threshold + (level_db - threshold) / ratio


@pytest.mark.parametrize("level_db", [-35.0, -24.0, -21.0, -18.0, -10.0, -3.0])
@pytest.mark.parametrize("knee", [0.0, 6.0])
def test_static_curve_on_dc(level_db, knee):
    comp = get_effect("compressor")
    x = np.full((1, SR), 10 ** (level_db / 20))
    y = comp(x, sample_rate=SR, threshold_db=-20.0, ratio=4.0, attack_ms=5.0, release_ms=50.0, knee_db=knee, makeup_db=3.0)
    out_db = 20 * np.log10(y[0, -100:].mean())
    assert out_db == pytest.approx(giannoulis_output_db(level_db, -20.0, 4.0, knee) + 3.0, abs=0.1)


@pytest.mark.parametrize("peak_db", [-30.0, -12.0, -6.0])
def test_static_curve_on_long_sine(peak_db):
    comp = get_effect("compressor")
    t = np.arange(2 * SR) / SR
    x = (10 ** (peak_db / 20) * np.sin(2 * np.pi * 1000 * t))[None]
    y = comp(x, sample_rate=SR, threshold_db=-24.0, ratio=3.0, attack_ms=1.0, release_ms=500.0, knee_db=0.0, makeup_db=0.0)
    out_peak = 20 * np.log10(np.abs(y[0, -SR // 2 :]).max())
    assert out_peak == pytest.approx(giannoulis_output_db(peak_db, -24.0, 3.0, 0.0), abs=0.1)


def _reduction_db(y, x):
    return 20 * np.log10(x[0] / y[0])


@pytest.mark.parametrize("attack_ms, release_ms", [(5.0, 50.0), (20.0, 300.0)])
def test_attack_and_release_time_constants_on_a_step(attack_ms, release_ms):
    """The gain reduction reaches 1 - 1/e of its final value after one time constant."""
    comp = get_effect("compressor")
    n = SR
    x = np.full((1, 3 * n), 10 ** (-40 / 20))
    x[0, n : 2 * n] = 1.0  # 0 dBFS step: reduction target 30 dB with T=-40, ratio 4
    y = comp(x, sample_rate=SR, threshold_db=-40.0, ratio=4.0, attack_ms=attack_ms, release_ms=release_ms, knee_db=0.0, makeup_db=0.0)
    red = _reduction_db(y, x)
    final = red[2 * n - 1]
    assert final == pytest.approx(30.0, abs=0.01)
    t_attack = np.argmax(red[n:] >= final * (1 - math.exp(-1))) / SR * 1000
    t_release = np.argmax(red[2 * n :] <= final * math.exp(-1)) / SR * 1000
    assert t_attack == pytest.approx(attack_ms, rel=0.02)
    assert t_release == pytest.approx(release_ms, rel=0.02)


def test_compressor_is_stereo_linked(music):
    x, sr = music
    x = x.copy()
    x[1] *= 0.1
    y = get_effect("compressor")(x, sample_rate=sr, threshold_db=-30.0, ratio=8.0)
    gain = y / np.where(np.abs(x) > 1e-4, x, np.nan)
    assert np.nanmax(np.abs(gain[0] - gain[1])) < 1e-5  # the same gain curve on both channels


def test_limiter_and_expander_static_curves():
    lim = get_effect("limiter")
    x = np.full((1, SR), 10 ** (-3 / 20))
    y = lim(x, sample_rate=SR, threshold_db=-12.0)
    assert 20 * np.log10(y[0, -1]) == pytest.approx(-12.0, abs=0.01)
    exp = get_effect("expander")
    x = np.full((1, SR), 10 ** (-60 / 20))
    y = exp(x, sample_rate=SR, threshold_db=-50.0, ratio=2.0, range_db=40.0)
    assert 20 * np.log10(y[0, -1]) == pytest.approx(-70.0, abs=0.01)  # 10 dB under -> 20 dB under
    y = exp(x, sample_rate=SR, threshold_db=-30.0, ratio=20.0, range_db=40.0)
    assert 20 * np.log10(y[0, -1]) == pytest.approx(-100.0, abs=0.01)  # capped by range


def test_compressor_is_unity_at_default(music):
    x, sr = music
    assert np.array_equal(get_effect("compressor")(x, sample_rate=sr), x)


@pytest.mark.parametrize("name", ["compressor", "simple_compressor", "limiter", "expander"])
def test_torch_twin_matches_numpy_over_random_draws(name, music_short):
    """Tolerance: 1e-7 absolute in float64 over 50 random parameter draws."""
    x, sr = music_short
    effect = get_effect(name)
    rng = np.random.default_rng(8)
    draws = [effect.spec.sample(rng) for _ in range(50)]
    batch = {k: torch.tensor([d[k] for d in draws], dtype=torch.float64) for k in draws[0]}
    yt = effect(torch.tensor(x, dtype=torch.float64).expand(50, -1, -1), sample_rate=sr, **batch).numpy()
    for i, d in enumerate(draws):
        assert np.max(np.abs(yt[i] - effect(x.astype(np.float64), sample_rate=sr, **d))) < 1e-7


def test_release_receives_a_gradient(music_short):
    x, sr = music_short
    comp = get_effect("compressor")
    release = torch.tensor([80.0], dtype=torch.float64, requires_grad=True)
    y = comp(torch.tensor(x[None], dtype=torch.float64), sample_rate=sr, threshold_db=-30.0, ratio=6.0, release_ms=release)
    y.square().sum().backward()
    assert torch.isfinite(release.grad).all() and release.grad.abs().item() > 0


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_fused_smoother_matches_torchcomp(dtype):
    """The CPU smoother node (numba recursion and reverse-time adjoint) against torchcomp's
    compressor_core: the smoothed reduction and the gradients of the reduction and of both
    coefficients, on a reduction that rises and falls (both branches taken)."""
    from torchcomp import compressor_core

    from drywet.dsp.dynamics import smooth_torch

    rng = np.random.default_rng(0)
    target = torch.tensor(np.abs(np.cumsum(rng.standard_normal((3, 4000)), axis=1)), dtype=dtype)
    attack = torch.tensor([0.2, 0.05, 0.01], dtype=dtype)
    release = torch.tensor([0.01, 0.002, 0.001], dtype=dtype)
    upstream = torch.tensor(rng.standard_normal(target.shape), dtype=dtype)
    results = []
    for fn in (smooth_torch, lambda r, a, c: -compressor_core(-r, r.new_zeros(r.shape[0]), a, c)):
        leaves = [t.clone().requires_grad_() for t in (target, attack, release)]
        y = fn(*leaves)
        (y * upstream).sum().backward()
        results.append([y.detach()] + [t.grad for t in leaves])
    tol = 1e-9 if dtype == torch.float64 else 1e-3
    for ours, reference in zip(*results):
        torch.testing.assert_close(ours, reference, rtol=tol, atol=tol * float(reference.abs().max()))
    if dtype == torch.float64:  # and against finite differences
        assert torch.autograd.gradcheck(smooth_torch, [t[:, :300].clone().requires_grad_() for t in (target,)] + [
            attack.clone().requires_grad_(), release.clone().requires_grad_()])


@pytest.mark.parametrize("ratio, knee", [(4.0, 6.0), (2.0, 0.0), (math.inf, 0.0), (10.0, 12.0)])
def test_fused_curve_and_smoothing_matches_the_two_steps(ratio, knee):
    """The numpy path's one-pass kernel against compressor_curve followed by smooth_numpy."""
    from drywet.dsp import dynamics as dyn

    rng = np.random.default_rng(1)
    level = (-40.0 + 15.0 * np.cumsum(rng.standard_normal((2, 5000)), axis=1) / 30.0).astype(np.float64)
    two_steps = dyn.smooth_numpy(dyn.compressor_curve(level, -24.0, ratio, knee), 0.05, 0.002)
    one_pass = dyn.compressed_reduction_numpy(level, -24.0, ratio, knee, 0.05, 0.002)
    assert two_steps.max() > 1.0  # the curve was active
    np.testing.assert_allclose(one_pass, two_steps, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("channels", [1, 2])
def test_fused_compressor_node_matches_composed_graph(music, dtype, channels):
    """The CPU compressor node (one numba pass forward, one reverse pass for every gradient)
    against autograd through the composed ops: output, the gradient of the audio and of all six
    parameters, on real music with per-item parameters (knee 0 and wide, fast and slow times),
    a silent stretch (level floor) and a dual-mono item (ties share the peak's gradient)."""
    from drywet.effects.dynamics import compressor_composed_torch, compressor_torch

    x, sr = music
    audio = np.stack([x[:channels, :6000], x[:channels, 6000:12000], x[-1:, 20000:26000].repeat(channels, 0)])
    audio[1, :, 1000:1800] = 0.0
    names = ("threshold_db", "ratio", "attack_ms", "release_ms", "knee_db", "makeup_db")
    values = dict(zip(names, ([-30.0, -12.0, -24.0], [8.0, 2.5, 4.0], [2.0, 30.0, 0.5], [50.0, 400.0, 20.0],
                              [0.0, 12.0, 6.0], [3.0, 0.0, 10.0])))
    upstream = torch.tensor(np.random.default_rng(2).standard_normal(audio.shape), dtype=dtype)
    results = []
    for fn in (compressor_torch, compressor_composed_torch):
        leaves = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in values.items()}
        signal = torch.tensor(audio, dtype=dtype, requires_grad=True)
        y = fn(signal, sample_rate=sr, **leaves)
        (y * upstream).sum().backward()
        results.append([y.detach(), signal.grad] + [leaves[k].grad for k in names])
    assert type(compressor_torch(torch.tensor(audio, dtype=dtype, requires_grad=True), sample_rate=sr, **{
        k: torch.tensor(v, dtype=dtype) for k, v in values.items()}).grad_fn).__name__ == "CompressorBackward"
    tol = 1e-9 if dtype == torch.float64 else 2e-4
    for name, ours, reference in zip(("y", "x") + names, *results):
        assert reference.abs().max() > 0, name
        torch.testing.assert_close(ours, reference, rtol=tol, atol=tol * float(reference.abs().max()), msg=name)
    if dtype == torch.float64 and channels == 2:  # and against finite differences
        from drywet.dsp.dynamics import compress_torch

        short = torch.tensor(audio[:2, :, :200], dtype=dtype, requires_grad=True)
        params = [torch.tensor(v, dtype=dtype, requires_grad=True) for v in ([-30.0, -20.0], [4.0, 3.0], [6.0, 3.0],
                                                                               [0.3, 0.2], [0.01, 0.002], [2.0, 1.0])]
        assert torch.autograd.gradcheck(compress_torch, [short] + params)
