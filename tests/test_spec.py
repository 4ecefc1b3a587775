import inspect
import math

import numpy as np
import pytest
import torch

from drywet import EFFECTS, ParameterError, get_effect
from drywet.spec import EffectSpec, Param


def test_lin_and_log_normalization_follow_eq_8_9():
    lin = Param("a_db", "dB", -40.0, 0.0, -20.0)
    log = Param("b_ms", "ms", 1.0, 60.0, 10.0, "log")
    q = np.linspace(0, 1, 11)
    assert np.allclose(lin.denormalize(q), 40.0 * q - 40.0)
    assert np.allclose(log.denormalize(q), 1.0 * np.exp((math.log(60.0) - math.log(1.0)) * q))
    assert np.allclose(log.normalize(log.denormalize(q)), q)
    tq = torch.tensor(q, requires_grad=True)
    assert torch.allclose(log.denormalize(tq), torch.tensor(log.denormalize(q)))
    log.denormalize(tq).sum().backward()
    assert torch.all(tq.grad > 0)


@pytest.mark.parametrize(
    "value, ok",
    [(-40.0, True), (0.0, True), (-20.0, True), (-40.1, False), (0.1, False), (float("nan"), False), (float("inf"), False), ("x", False)],
)
def test_validation_names_parameter_value_and_range(value, ok):
    p = Param("threshold_db", "dB", -40.0, 0.0, -20.0)
    if ok:
        assert p.validate(value) == value
    else:
        with pytest.raises(ParameterError, match=r"threshold_db.*\[-40, 0\] dB"):
            p.validate(value)


def test_invalid_specs_are_rejected_at_definition():
    with pytest.raises(ValueError):
        Param("x", "", 0.0, 1.0, 0.5, "log")  # log with min 0
    with pytest.raises(ValueError):
        Param("x", "", 1.0, 0.0, 0.5)
    with pytest.raises(ValueError):
        Param("x", "", 0.0, 1.0, 2.0)


def test_sampling_needs_a_generator_and_is_reproducible():
    spec = get_effect("compressor").spec
    a = spec.sample(np.random.default_rng(7))
    b = spec.sample(np.random.default_rng(7))
    assert a == b
    for p in spec.params:
        assert p.min <= a[p.name] <= p.max
    with pytest.raises(ParameterError, match="Generator"):
        spec.sample(7)


def test_sampling_is_uniform_in_normalized_space():
    p = get_effect("compressor").spec.param("attack_ms")
    rng = np.random.default_rng(0)
    q = np.array([p.normalize(p.sample(rng)) for _ in range(4000)])
    assert abs(q.mean() - 0.5) < 0.02 and abs(np.median(q) - 0.5) < 0.03


def test_unknown_setting_lists_valid_names():
    with pytest.raises(ParameterError, match="ratio"):
        get_effect("compressor")(np.zeros((1, 10), np.float32), sample_rate=44100, ratioo=3)


def test_ranges_follow_the_blind_estimation_paper():
    comp = get_effect("compressor").spec
    expect = {"threshold_db": (-40, 0, "lin"), "ratio": (2, 10, "log"), "attack_ms": (1, 60, "log"),
              "release_ms": (10, 500, "log"), "knee_db": (0, 12, "lin"), "makeup_db": (0, 20, "lin")}
    for name, (lo, hi, scale) in expect.items():
        p = comp.param(name)
        assert (p.min, p.max, p.scale) == (lo, hi, scale)
    eq = get_effect("eq").spec
    assert (eq.param("peak2_freq_hz").min, eq.param("peak2_freq_hz").max) == (500, 6000)
    assert (eq.param("high_shelf_freq_hz").min, eq.param("high_shelf_freq_hz").max) == (5000, 20000)
    assert eq.param("low_shelf_q").scale == "log" and eq.param("low_shelf_q").max == 2
    clip = get_effect("clipper").spec
    assert [(p.min, p.max) for p in clip.params] == [(-10, 20), (0, 1), (0, 2)]


@pytest.mark.parametrize("name", list(EFFECTS))
def test_registry_numpy_torch_and_spec_agree(name):
    """Kernels' keyword names and order are the spec's params then options; defaults come
    from the spec only (kernels have none), so no second copy of a default can drift."""
    effect = EFFECTS[name]
    spec = effect.spec
    expected = spec.param_names + spec.option_names
    assert effect.kernel_names("numpy") == expected
    for p in inspect.signature(effect.numpy_kernel).parameters.values():
        assert p.default is inspect.Parameter.empty, f"{name}: kernel default for {p.name}"
    if effect.torch_kernel is not None:
        assert effect.kernel_names("torch") == expected
        assert spec.differentiable
    else:
        assert not spec.differentiable
    # names carry units where they have one
    for p in spec.params:
        suffix = {"dB": "_db", "Hz": "_hz", "ms": "_ms", "s": "_s"}.get(p.unit)
        if suffix:
            assert p.name.endswith(suffix), p.name
    assert spec.name in repr(effect)
    described = spec.describe()
    assert [d["name"] for d in described["params"]] == list(spec.param_names)


def test_spec_resolves_defaults():
    spec = get_effect("delay").spec
    params, _ = spec.resolve({"feedback": 0.5})
    assert params["feedback"] == 0.5 and params["time_ms"] == spec.param("time_ms").default
    assert isinstance(spec, EffectSpec)
