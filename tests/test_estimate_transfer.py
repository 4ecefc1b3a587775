"""The transfer-function initializer of informed estimation, against exact filter responses."""

import numpy as np
import pytest

from drywet import io
from drywet.chain import Chain
from drywet.estimate.transfer import (
    fit_linear_stages,
    linear_prefix,
    transfer_candidates,
    transfer_db,
)


@pytest.fixture(scope="module")
def clip():
    x, sr = io.bundled_example()
    return x[:, : 6 * sr].mean(axis=0, keepdims=True), sr


def exact_db(chain, freqs, sr):
    response = np.prod([s.effect.frequency_response(s.params, freqs, sr) for s in chain.stages], axis=0)
    return 20 * np.log10(np.abs(response))


def weighted_rms(diff, weight):
    diff = diff - np.average(diff, weights=weight)  # the level is free
    return float(np.sqrt(np.average(diff**2, weights=weight)))


@pytest.mark.parametrize("method", ["h1", "two_way"])
def test_transfer_of_an_eq_is_its_response(clip, method):
    x, sr = clip
    eq = Chain.from_names("eq").sample(np.random.default_rng(4))
    freqs, gain, weight = transfer_db(x, eq(x, sample_rate=sr), sr, method)
    assert weight.max() > 0.5
    diff, above = gain - exact_db(eq, freqs, sr), freqs > 100
    assert np.ptp(exact_db(eq, freqs, sr)) > 20  # dB: a strong curve
    # 11 Hz bins smear a resonant low shelf below 100 Hz (0.7 dB there), not above
    assert weighted_rms(diff[above], weight[above]) < 0.3
    assert weighted_rms(diff, weight) < 1.0


def test_two_way_ignores_a_time_varying_gain(clip):
    """A compressor-like broadband gain riding +-8 dB at 2 Hz biases H1 (about 1.1 dB here);
    the median polish removes it (about 0.07 dB)."""
    x, sr = clip
    eq = Chain.from_names("eq").sample(np.random.default_rng(5))
    t = np.arange(x.shape[1]) / sr
    y = eq(x, sample_rate=sr) * 10 ** (8 * np.sin(2 * np.pi * 2 * t) / 20)
    error = {}
    for method in ("h1", "two_way"):
        freqs, gain, weight = transfer_db(x, y, sr, method)
        above = freqs > 100
        error[method] = weighted_rms((gain - exact_db(eq, freqs, sr))[above], weight[above])
    assert error["two_way"] < 0.3, error
    assert error["h1"] > 0.5, error


def test_fit_matches_the_response(clip):
    _, sr = clip
    eq = Chain.from_names("eq").sample(np.random.default_rng(6))
    freqs = np.geomspace(40, 16000, 60)
    target = exact_db(eq, freqs, sr)
    fits = fit_linear_stages(Chain.from_names("eq"), sr, freqs, target, np.ones_like(freqs), keep=3)
    assert fits.shape == (3, 15) and np.all((fits > 0) & (fits < 1))
    best = Chain.from_names("eq").with_q(fits[0])
    flat = weighted_rms(target, np.ones_like(freqs))
    assert weighted_rms(exact_db(best, freqs, sr) - target, np.ones_like(freqs)) < 0.15 * flat


def test_linear_prefix_and_candidates(clip):
    x, sr = clip
    assert linear_prefix(Chain.from_names("eq,peak,compressor,eq")) == 2
    assert linear_prefix(Chain.from_names("compressor,eq")) == 0
    template = Chain.from_names("eq,compressor,clipper")
    y = template.sample(np.random.default_rng(7))(x, sample_rate=sr)
    fits = transfer_candidates(template, x, y, sr, keep=2)
    assert fits.shape == (4, 15)  # 2 per method, the EQ's 15 parameters
    assert transfer_candidates(Chain.from_names("compressor"), x, y, sr).size == 0
    # no usable band (silent dry signal): no fit rather than NaN
    assert fit_linear_stages(Chain.from_names("eq"), sr, np.array([100.0]), np.array([0.0]), np.array([0.0])).size == 0


def test_transfer_rejects_an_unknown_method(clip):
    x, sr = clip
    with pytest.raises(ValueError, match="two_way"):
        transfer_db(x, x, sr, "h2")
