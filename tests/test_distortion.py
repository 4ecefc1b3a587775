"""Memoryless distortions against closed forms (numpy.polynomial, np.tanh, np.clip) and pedalboard."""

import numpy as np
import pytest
import torch
from numpy.polynomial import chebyshev, polynomial

from drywet import get_effect

SR = 44100
X = np.linspace(-2.0, 2.0, 2001)[None]


def test_clipper_hardness_0_is_tanh_with_dc_removal():
    g, o = 10 ** (6 / 20), 0.3
    y = get_effect("clipper")(X, sample_rate=SR, drive_db=6.0, offset=0.3, hardness=0.0)
    assert np.allclose(y, (np.tanh(g * X + o) - np.tanh(o)) / g, atol=1e-12)


def test_clipper_hardness_1_is_cubic_and_2_is_hard():
    g, o = 10 ** (3 / 20), 0.2
    u = g * X + o

    def cubic(v):
        v = np.clip(v, -1.5, 1.5)
        return v - 4 * v**3 / 27

    y1 = get_effect("clipper")(X, sample_rate=SR, drive_db=3.0, offset=0.2, hardness=1.0)
    assert np.allclose(y1, (cubic(u) - cubic(o)) / g, atol=1e-12)
    y2 = get_effect("clipper")(X, sample_rate=SR, drive_db=3.0, offset=0.2, hardness=2.0)
    assert np.allclose(y2, (np.clip(u, -1, 1) - o) / g, atol=1e-12)


def test_clipper_blends_linearly_between_curves():
    e = get_effect("clipper")
    y0, y1, yh = (e(X, sample_rate=SR, drive_db=10.0, hardness=h) for h in (0.0, 1.0, 0.25))
    assert np.allclose(yh, 0.75 * y0 + 0.25 * y1, atol=1e-12)


def test_taylor_and_chebyshev_match_numpy_polynomials():
    rng = np.random.default_rng(0)
    coeffs = rng.uniform(-1, 1, 24)
    params = {f"c{h}": c for h, c in enumerate(coeffs, start=1)}
    u = np.clip(X, -1, 1)
    y = get_effect("taylor_waveshaper")(X, sample_rate=SR, **params)
    assert np.allclose(y, polynomial.polyval(u, np.concatenate([[0.0], coeffs])), atol=1e-10)
    y = get_effect("chebyshev_waveshaper")(X, sample_rate=SR, **params)
    assert np.allclose(y, chebyshev.chebval(u, np.concatenate([[0.0], coeffs])), atol=1e-10)


def test_polynomials_are_identity_at_default():
    x = np.linspace(-1, 1, 101)[None]
    for name in ("taylor_waveshaper", "chebyshev_waveshaper"):
        assert np.allclose(get_effect(name)(x, sample_rate=SR), x, atol=1e-15)


def test_hard_clip_and_tanh():
    y = get_effect("hard_clip")(X, sample_rate=SR, threshold_db=-6.0)
    assert np.allclose(y, np.clip(X, -(10 ** (-6 / 20)), 10 ** (-6 / 20)))
    y = get_effect("tanh_overdrive")(X, sample_rate=SR, drive_db=20.0)
    assert np.allclose(y, np.tanh(10 * X))


def test_bitcrusher_levels_and_hold():
    x = np.linspace(-1, 1, 10001)[None]
    y = get_effect("bitcrusher")(x, sample_rate=SR, bit_depth=4, downsample=1)
    assert len(np.unique(y)) == 2**4 + 1  # round-to-nearest levels from -1 to 1 step 1/8
    y = get_effect("bitcrusher")(x, sample_rate=SR, bit_depth=24, downsample=4)
    assert np.all(y[0, 0:4] == y[0, 0]) and y.shape == x.shape


@pytest.mark.parametrize("name", ["clipper", "hard_clip", "tanh_overdrive", "taylor_waveshaper", "chebyshev_waveshaper"])
def test_torch_twin_matches_numpy_over_random_draws(name):
    """Tolerance: 1e-12 absolute (float64), 50 random draws."""
    effect = get_effect(name)
    rng = np.random.default_rng(9)
    draws = [effect.spec.sample(rng) for _ in range(50)]
    batch = {k: torch.tensor([d[k] for d in draws], dtype=torch.float64) for k in draws[0]}
    yt = effect(torch.tensor(X).expand(50, 1, -1), sample_rate=SR, **batch).numpy()
    for i, d in enumerate(draws):
        assert np.max(np.abs(yt[i] - effect(X, sample_rate=SR, **d))) < 1e-12


def test_against_pedalboard_clipping_and_distortion(music):
    pb = pytest.importorskip("pedalboard")
    x, sr = music
    x = (x * 4).astype(np.float32)
    ref = pb.Clipping(threshold_db=-6.0)(x, sr)
    assert np.allclose(get_effect("hard_clip")(x, sample_rate=sr, threshold_db=-6.0), ref, atol=1e-6)
    ref = pb.Distortion(drive_db=20.0)(x, sr)
    assert np.allclose(get_effect("tanh_overdrive")(x, sample_rate=sr, drive_db=20.0), ref, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("numba_passes", [True, False])
def test_clipper_node_matches_the_composed_graph(dtype, numba_passes):
    """The torch clipper's hand-written backward against autograd through the composed curves:
    output and the gradients of input, drive, offset and hardness, in the three blend regimes
    (tanh + cubic, cubic + hard, mostly hard) and both clamp regions; the CPU node (numba
    passes) and its torch-ops version used on other devices."""
    from drywet.effects.distortion import _clipper_function, clipper_curve

    rng = np.random.default_rng(0)
    x = torch.tensor(rng.uniform(-1.2, 1.2, (3, 2, 2000)), dtype=dtype)
    drive_db = torch.tensor([-6.0, 6.0, 15.0], dtype=dtype)
    offset = torch.tensor([0.0, 0.3, 0.8], dtype=dtype)
    hardness = torch.tensor([0.3, 1.4, 1.9], dtype=dtype)
    upstream = torch.tensor(rng.standard_normal(x.shape), dtype=dtype)

    def composed(x, drive_db, offset, hardness):
        g, o, h = (p[:, None, None] for p in (10.0 ** (drive_db / 20.0), offset, hardness))
        return (clipper_curve(g * x + o, h) - clipper_curve(o, h)) / g

    def node(x, drive_db, offset, hardness):
        if numba_passes:
            return get_effect("clipper").torch_kernel(x, sample_rate=SR, drive_db=drive_db, offset=offset, hardness=hardness)
        return _clipper_function(False).apply(x, 10.0 ** (drive_db / 20.0), offset, hardness)

    results = []
    for fn in (node, composed):
        leaves = [t.clone().requires_grad_() for t in (x, drive_db, offset, hardness)]
        y = fn(*leaves)
        (y * upstream).sum().backward()
        results.append([y.detach()] + [t.grad for t in leaves])
    tol = 1e-10 if dtype == torch.float64 else 1e-4
    for ours, reference in zip(*results):
        torch.testing.assert_close(ours, reference, rtol=tol, atol=tol * float(reference.abs().max()))
