import json

import numpy as np
import pytest
import torch

from drywet import DrywetError, ParameterError
from drywet.chain import Chain, Stage


def test_flat_vector_names_order_and_round_trip():
    chain = Chain.from_names("eq,compressor,clipper")
    assert chain.num_params == 15 + 6 + 3
    assert chain.param_names[0] == "parametric_eq.low_shelf_gain_db"
    assert chain.param_names[15] == "compressor.threshold_db"
    sampled = chain.sample(np.random.default_rng(0))
    q = sampled.to_q()
    assert q.shape == (24,) and np.all((q >= 0) & (q <= 1))
    again = chain.with_q(q)
    for a, b in zip(again.stages, sampled.stages):
        for k in a.params:
            assert a.params[k] == pytest.approx(b.params[k], rel=1e-12)
    with pytest.raises(ParameterError):
        chain.with_q(np.full(24, 1.5))
    with pytest.raises(ParameterError):
        chain.with_q(np.zeros(3))


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_preset_round_trips_exactly(tmp_path, suffix):
    chain = Chain.from_names("eq,compressor,clipper,delay").sample(np.random.default_rng(1), bypass_prob=0.5)
    path = chain.save(tmp_path / f"p{suffix}")
    loaded = Chain.load(path)
    assert loaded == chain
    assert [s.params for s in loaded.stages] == [s.params for s in chain.stages]  # exact floats
    with pytest.raises(DrywetError, match="exists"):
        chain.save(path)
    chain.save(path, overwrite=True)


def test_preset_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"chain": [{"effect": "nope"}]}))
    with pytest.raises(ParameterError, match="unknown effect"):
        Chain.load(bad)
    bad.write_text("{not json")
    with pytest.raises(DrywetError, match="cannot parse"):
        Chain.load(bad)
    with pytest.raises(DrywetError, match="not found"):
        Chain.load(tmp_path / "missing.yaml")
    bad.write_text(json.dumps({"chain": [{"effect": "compressor", "params": {"ratio": 50}}]}))
    with pytest.raises(ParameterError, match="ratio"):
        Chain.load(bad)
    with pytest.raises(ParameterError, match="array"):
        Chain([Stage.create("convolution_reverb", options={"impulse_response": np.ones(4)})]).to_dict()


def test_random_order_and_bypass(music):
    x, sr = music
    chain = Chain.from_names("gain,eq,compressor,clipper,delay")
    orders = {tuple(s.effect.name for s in chain.sample(np.random.default_rng(i), random_order=True).stages) for i in range(10)}
    assert len(orders) > 1
    all_bypassed = chain.sample(np.random.default_rng(0), bypass_prob=1.0)
    assert np.array_equal(all_bypassed(x, sample_rate=sr), x)


def test_chain_matches_manual_application(music):
    x, sr = music
    chain = Chain.from_names("eq,compressor,clipper").sample(np.random.default_rng(2))
    y = x
    for s in chain.stages:
        y = s.effect(y, sample_rate=sr, **s.params)
    assert np.array_equal(chain(x, sample_rate=sr), y)


def test_duplicate_effects_get_distinct_keys():
    chain = Chain.from_names("eq,eq")
    assert [s.key for s in chain.stages] == ["parametric_eq", "parametric_eq_2"]


def test_torch_chain_from_q_matches_numpy_and_is_differentiable(music_short):
    x, sr = music_short
    chain = Chain.from_names("eq,compressor,clipper")
    rng = np.random.default_rng(3)
    chains = [chain.sample(rng) for _ in range(4)]
    q = torch.tensor(np.stack([c.to_q() for c in chains]), requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float64).expand(4, -1, -1)
    y = chain.apply_torch(xt, sample_rate=sr, q=q)
    for i, c in enumerate(chains):
        assert np.max(np.abs(y[i].detach().numpy() - c(x.astype(np.float64), sample_rate=sr))) < 1e-6
    y.square().mean().backward()
    assert torch.isfinite(q.grad).all() and (q.grad.abs() > 0).sum() > 20


# -- parameter curves in stages and presets ----------------------------------------------------
def test_stages_hold_curves_that_round_trip_through_presets(tmp_path):
    chain = Chain([Stage.create("lowpass", {"freq_hz": [300, 8000, 300], "q": 2.0}), Stage.create("gain", {"gain_db": -3.0})])
    assert chain.stages[0].params["freq_hz"] == (300.0, 8000.0, 300.0) and chain.stages[0].curves == ("freq_hz",)
    assert chain.stages[1].curves == ()
    assert "freq_hz=curve 300 -> 8000 -> 300" in repr(chain)
    for suffix in (".yaml", ".json"):
        assert Chain.load(chain.save(tmp_path / f"p{suffix}")) == chain
    x = 0.3 * np.random.default_rng(0).standard_normal((2, 8000))
    from drywet import get_effect

    expected = get_effect("gain")(get_effect("lowpass")(x, sample_rate=16000, freq_hz=np.array([300.0, 8000.0, 300.0]), q=2.0),
                                  sample_rate=16000, gain_db=-3.0)
    assert np.allclose(chain(x, sample_rate=16000), expected)


def test_curves_are_refused_where_they_have_no_meaning():
    with pytest.raises(ParameterError, match=r"compressor.ratio takes one number"):
        Stage.create("compressor", {"ratio": [2.0, 4.0]})
    with pytest.raises(ParameterError, match="out of range"):
        Stage.create("lowpass", {"freq_hz": [300.0, 30000.0]})
    chain = Chain([Stage.create("lowpass", {"freq_hz": [300, 8000]})])
    with pytest.raises(ParameterError, match="constant parameters only"):
        chain.to_q()
    from drywet.invert import invert_chain

    with pytest.raises(DrywetError, match="vary over time"):
        invert_chain(np.zeros((1, 100), np.float32) + 0.1, chain, sample_rate=16000)
    fade = Chain([Stage.create("gain", {"gain_db": [0.0, -20.0, 6.0]})])  # pointwise: exact inverse
    x = 0.3 * np.random.default_rng(1).standard_normal((2, 1000))
    assert np.allclose(invert_chain(fade(x, sample_rate=16000), fade, sample_rate=16000).audio, x, atol=1e-12)


def test_report_shows_curves_without_drawing_a_static_response(tmp_path):
    from drywet.report import write_report

    chain = Chain([Stage.create("peak", {"freq_hz": 1000.0, "gain_db": [0.0, 9.0]}), Stage.create("peak", {"gain_db": 6.0})])
    x = 0.3 * np.random.default_rng(0).standard_normal((1, 16000)).astype(np.float32)
    path = write_report(tmp_path / "r.html", title="curves", chain=chain, sample_rate=16000,
                        signals=[("dry", x, ""), ("wet", chain(x, sample_rate=16000), "")])
    text = path.read_text()
    assert "curve 0 -&gt; 9" in text and "data:image/png" in text  # the constant peak is still drawn
