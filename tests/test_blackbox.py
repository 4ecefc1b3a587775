"""Black-box effects: user callables and pedalboard plugins with a spec."""

from __future__ import annotations

import numpy as np
import pytest

from drywet.blackbox import black_box, plugin_effect
from drywet.chain import Chain, Stage
from drywet.errors import BlackBoxError, ParameterError
from drywet.registry import EFFECTS, register_effect
from drywet.spec import Param

GAIN = (Param("gain_db", "dB", -24.0, 24.0, 0.0),)


def _gain(x, sample_rate, params):
    return x * 10 ** (params["gain_db"] / 20)


@pytest.fixture
def registered():
    added = []

    def add(effect):
        added.append(effect.name)
        return register_effect(effect)

    yield add
    for name in added:
        EFFECTS.pop(name, None)


def test_callable_black_box_runs_validates_and_joins_chains(music, registered, tmp_path):
    x, sr = music
    effect = registered(black_box(_gain, GAIN, name="user_gain"))
    assert not effect.spec.differentiable and effect.torch_kernel is None
    np.testing.assert_allclose(effect(x, sample_rate=sr, gain_db=-6.0), x * 10 ** (-6 / 20), rtol=1e-6)
    with pytest.raises(ParameterError, match=r"gain_db=30 is out of range"):
        effect(x, sample_rate=sr, gain_db=30.0)
    chain = Chain([Stage.create("user_gain", {"gain_db": 6.0}), "gain"])
    path = chain.save(tmp_path / "p.yaml")
    assert Chain.load(path) == chain  # presets find registered black boxes by name
    np.testing.assert_allclose(chain(x, sample_rate=sr), x * 10 ** (6 / 20), rtol=1e-5)
    assert chain.sample(np.random.default_rng(0)).stages[0].params["gain_db"] != 6.0


@pytest.mark.parametrize(
    "fn, message",
    [
        (lambda x, sr, p: x[:, :-5], r"returned shape .*same length"),
        (lambda x, sr, p: x * np.nan, "NaN or Inf"),
        (lambda x, sr, p: x.tolist(), "not a numpy array"),
        (lambda x, sr, p: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_misbehaving_black_box_gets_a_clear_error(music, fn, message):
    x, sr = music
    effect = black_box(fn, GAIN, name="bad")
    with pytest.raises(BlackBoxError, match=message):
        effect(x, sample_rate=sr)


def test_black_box_argument_errors():
    with pytest.raises(ParameterError, match="callable"):
        black_box(42, GAIN, name="x")
    with pytest.raises(ParameterError, match="name="):
        black_box(_gain, GAIN)
    with pytest.raises(ParameterError, match="exists"):
        register_effect(black_box(_gain, GAIN, name="gain"))
    with pytest.raises(ParameterError, match="torch twin"):
        black_box(_gain, GAIN, name="g").torch(__import__("torch").zeros(1, 8), sample_rate=44100)


def test_pedalboard_builtin_spec_is_read_and_output_matches_pedalboard(music):
    pedalboard = pytest.importorskip("pedalboard")
    x, sr = music
    effect = plugin_effect(pedalboard.Compressor(), ranges={"ratio": (1.0, 30.0, "log")})
    assert effect.name == "pedalboard_compressor"
    assert effect.spec.param_names == ("attack_ms", "ratio", "release_ms", "threshold_db")
    assert effect.spec.param("ratio").max == 30.0 and effect.spec.param("ratio").scale == "log"
    assert effect.spec.param("threshold_db").default == 0.0  # read from the plugin instance
    settings = {"threshold_db": -30.0, "ratio": 8.0, "attack_ms": 2.0, "release_ms": 80.0}
    expected = pedalboard.Compressor(**settings)(x, sr)
    np.testing.assert_allclose(effect(x, sample_rate=sr, **settings), expected, atol=1e-6)
    assert np.abs(expected - x).max() > 0.05  # it really compressed


def test_pedalboard_errors(tmp_path):
    pedalboard = pytest.importorskip("pedalboard")
    with pytest.raises(BlackBoxError, match="plugin not found"):
        plugin_effect(tmp_path / "missing.vst3")
    broken = tmp_path / "broken.vst3"
    broken.write_bytes(b"not a plugin")
    with pytest.raises(BlackBoxError, match="cannot load plugin"):
        plugin_effect(broken)
    with pytest.raises(ParameterError, match="no parameter"):
        plugin_effect(pedalboard.Gain(), ranges={"drive_db": (0, 1)})
    with pytest.raises(ParameterError, match="log scale needs a positive minimum"):
        plugin_effect(pedalboard.Gain(), scales={"gain_db": "log"})


def test_pedalboard_non_parameter_settings_are_kept(music):
    pedalboard = pytest.importorskip("pedalboard")
    x, sr = music
    template = pedalboard.LadderFilter(mode=pedalboard.LadderFilter.Mode.HPF12)
    effect = plugin_effect(template)
    assert "mode" not in effect.spec.param_names
    settings = {"cutoff_hz": 2000.0, "resonance": 0.2, "drive": 1.0}
    expected = pedalboard.LadderFilter(mode=pedalboard.LadderFilter.Mode.HPF12, **settings)(x, sr)
    np.testing.assert_allclose(effect(x, sample_rate=sr, **settings), expected, atol=1e-6)
