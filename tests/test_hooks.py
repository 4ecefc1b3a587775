"""Every hook an effect declares is checked against the effect itself, by walking the registry.

- ``inverse``: undoes the effect on real music (much closer to the dry signal than the wet one);
- ``frequency_response``: matches the response measured from the rendered impulse;
- ``static_curve``: matches the rendered steady state (dynamics: a long DC level after the
  smoothing settles; waveshapers: a ramp of sample values);
- ``report_plots`` / ``plots``: give finite panels of matching sizes;
- ``consistent``: returns values inside the spec's range.
"""

from __future__ import annotations

import numpy as np
import pytest

from drywet import io
from drywet.effects.base import InverseContext
from drywet.registry import EFFECTS

SR = 44100
WITH_INVERSE = sorted(n for n, e in EFFECTS.items() if e.inverse is not None)
WITH_RESPONSE = sorted(n for n, e in EFFECTS.items() if e.frequency_response is not None)
WITH_CURVE = sorted(n for n, e in EFFECTS.items() if e.static_curve is not None)
# inverses that are exact up to rounding; the others (declipping, deconvolution) are estimates
EXACT = {"gain", "polarity", "pan", "stereo_width", "parametric_eq", "graphic_eq", "peak", "lowshelf", "highshelf",
         "compressor", "simple_compressor", "limiter"}


def _options(name):
    """Options an effect needs to run at all (a measured room for the convolution reverb)."""
    return {"impulse_response": str(io.bundled_impulse_response_path())} if name == "convolution_reverb" else {}


def _snr_db(reference, estimate):
    return 10 * np.log10(np.sum(reference**2) / max(np.sum((reference - estimate) ** 2), 1e-30))


def _settings(effect, rng):
    """Mid-strength values: the strength parameter half way, others drawn, mixes wet."""
    params = effect.spec.sample(rng)
    if effect.spec.strength is not None:
        params.update(effect.spec.at_strength(0.5))
    for name in ("mix",):
        if name in params:
            params[name] = 0.5
    return params


def test_the_registry_declares_hooks_where_drywet_has_the_knowledge():
    assert {"gain", "pan", "parametric_eq", "compressor", "limiter", "clipper", "noise_reverb", "delay"} <= set(WITH_INVERSE)
    assert {"parametric_eq", "graphic_eq", "lowpass", "peak"} <= set(WITH_RESPONSE)
    assert {"compressor", "expander", "clipper", "hard_clip"} <= set(WITH_CURVE)


@pytest.mark.parametrize("name", WITH_INVERSE)
def test_inverse_undoes_the_effect_on_real_music(music, name):
    x, sr = music
    x = x[:, : sr // 2].astype(np.float64)
    effect = EFFECTS[name]
    params = _settings(effect, np.random.default_rng(5))
    source = x[:1] if name == "pan" else x
    _, options = effect.spec.resolve(_options(name))
    wet = effect.numpy(source, sample_rate=sr, **params, **options)
    context = InverseContext(channels_before=source.shape[0], effect=effect)
    back, notes = effect.inverse(wet[None], sr, params, options, context)
    assert back.shape == (1, *source.shape), name
    before = _snr_db(source, wet) if wet.shape == source.shape else -np.inf
    after = _snr_db(source, back[0])
    assert after > before + 6.0, (name, params, before, after, notes)
    if name in EXACT:
        assert after > 40.0, (name, params, after, notes)


@pytest.mark.parametrize("name", WITH_RESPONSE)
def test_frequency_response_matches_the_rendered_impulse(name):
    effect = EFFECTS[name]
    params = effect.spec.sample(np.random.default_rng(11))
    impulse = np.zeros((1, 1 << 16))
    impulse[0, 0] = 1.0
    h = effect.numpy(impulse, sample_rate=SR, **params)[0]
    freqs = np.geomspace(40.0, 16000.0, 60)
    measured = np.fft.rfft(h)[np.round(freqs * h.size / SR).astype(int)]
    declared = effect.frequency_response(params, np.round(freqs * h.size / SR) * SR / h.size, SR)
    np.testing.assert_allclose(20 * np.log10(np.abs(declared)), 20 * np.log10(np.abs(measured)), atol=0.05, err_msg=name)


@pytest.mark.parametrize("name", WITH_CURVE)
def test_static_curve_matches_the_rendered_steady_state(name):
    effect = EFFECTS[name]
    params = _settings(effect, np.random.default_rng(3))
    curve = effect.static_curve
    if curve.domain == "level_db":
        for level_db in (-50.0, -30.0, -12.0, -3.0):
            dc = np.full((1, 4 * SR), 10 ** (level_db / 20))  # a steady level: the smoothing settles
            y = effect.numpy(dc, sample_rate=SR, **params)
            measured = 20 * np.log10(abs(y[0, -1]))
            expected = float(curve.function(params, np.array([level_db]))[0])
            assert measured == pytest.approx(expected, abs=0.05), (name, level_db, params)
    else:
        ramp = np.linspace(-1.4, 1.4, 2801)
        y = effect.numpy(ramp[None], sample_rate=SR, **params)[0]
        if name == "bitcrusher":  # its sample-and-hold is not part of the static curve
            y = effect.numpy(ramp[None], sample_rate=SR, **{**params, "downsample": 1.0})[0]
        np.testing.assert_allclose(curve.function(params, ramp), y, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("name", sorted(EFFECTS))
def test_plots_are_finite_panels(name):
    effect = EFFECTS[name]
    params, options = effect.spec.resolve(_options(name))
    for plot in effect.plots(params, options, SR):
        assert plot.x.ndim == 1 and plot.lines
        for _, y in plot.lines:
            assert y.shape == plot.x.shape and np.all(np.isfinite(y)), (name, plot.title)
    declared = effect.report_plots is not None or effect.frequency_response is not None or effect.static_curve is not None
    assert bool(effect.plots(params, options, SR)) == declared


def test_reverb_decay_plot_falls_by_its_length():
    effect = EFFECTS["noise_reverb"]
    params, options = effect.spec.resolve({"rt60_s": 0.8} if "rt60_s" in effect.spec.param_names else {})
    (plot,) = effect.plots(params, options, SR)
    decay = plot.lines[0][1]
    assert decay[0] == pytest.approx(0.0, abs=1e-6) and decay[-1] < -40.0
    assert np.all(np.diff(decay) <= 1e-9)  # Schroeder's integral never rises


def test_consistent_hook_keeps_values_in_range(music):
    x, sr = music
    effect = EFFECTS["clipper"]
    wet = effect.numpy(x, sample_rate=sr, drive_db=2.0, offset=0.2, hardness=0.8)
    guess = {"drive_db": 18.0, "offset": 0.2, "hardness": 0.8}
    fixed, notes = effect.consistent(wet[None], guess, effect.spec)
    assert fixed is not None and fixed["drive_db"] < 18.0 and notes
    effect.spec.resolve(fixed)  # inside the spec's ranges
