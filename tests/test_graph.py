"""Processing graphs: node protocol, nesting, composites, tracks, presets v1/v2, automation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from drywet import get_effect
from drywet.audio import as_tracks
from drywet.errors import AudioError, DrywetError, ParameterError
from drywet.graph import Bus, Chain, MixDown, Parallel, PerTrack, SendReturn, Stage, load
from drywet.graph.presets import graph_from_preset

V1_PRESETS = sorted((Path(__file__).parent / "data" / "presets_v1").glob("*"))
SR = 22050


def _tracks(music, n=3, seconds=0.5):
    """n mono tracks cut from different places of the real clip: (n, 1, samples)."""
    x, sr = music
    length = int(seconds * sr)
    return np.stack([x[i % 2 : i % 2 + 1, i * length // 3 : i * length // 3 + length] for i in range(n)]), sr


# -- nesting --------------------------------------------------------------------------------
def _random_tree(rng, depth):
    """A random nested graph of chains and parallels (pedalboard's test_deep_nesting idea)."""
    if depth == 0:
        name = rng.choice(["gain", "lowpass", "peak", "hard_clip", "polarity"])
        return Stage.create(name).sample(rng)
    kids = [_random_tree(rng, depth - 1) for _ in range(int(rng.integers(1, 3)))]
    return Chain(kids, key=f"c{depth}") if rng.uniform() < 0.5 else Parallel(kids, key=f"p{depth}")


def _reference(node, x, sr):
    """The same graph rendered without the graph classes: effect by effect, sums by hand."""
    if isinstance(node, Stage):
        return node.effect.numpy(x, sample_rate=sr, **node.params, **node.options)
    if isinstance(node, Chain):
        for s in node.stages:
            x = _reference(s, x, sr)
        return x
    return sum(_reference(b, x, sr) for b in node.branches)


@pytest.mark.parametrize("depth", [1, 2, 4, 6])
def test_deep_nesting_matches_reference_numpy_and_torch(music_short, depth):
    x, sr = music_short
    rng = np.random.default_rng(depth)
    graph = Chain([_random_tree(rng, depth)])
    y = graph(x, sample_rate=sr)
    np.testing.assert_allclose(y, _reference(graph, x, sr), atol=1e-6)
    q = torch.tensor(graph.to_q())
    yt = graph.torch(torch.tensor(x, dtype=torch.float64)[None], sample_rate=sr, q=q)[0].numpy()
    np.testing.assert_allclose(yt, y, atol=2e-4 * max(1.0, np.abs(y).max()))
    again = graph_from_preset(json.loads(json.dumps(graph.to_dict())))
    assert again == graph
    np.testing.assert_array_equal(again(x, sample_rate=sr), y)


def test_nested_keys_round_trip():
    inner = Chain(["parametric_eq", "compressor"], key="vocals")
    graph = Chain([inner, Parallel([Chain([], key="dry"), Chain(["noise_reverb"], key="wet")], key="verb")])
    assert "vocals.parametric_eq.peak1_gain_db" in graph.param_names
    assert "verb.wet.noise_reverb.mix" in graph.param_names
    assert len(graph.param_names) == graph.num_params == len(set(graph.param_names))
    changed = graph.with_params({"vocals.parametric_eq.peak1_gain_db": 6.0, "verb.wet.noise_reverb.mix": 0.25})
    assert changed.values()["vocals.parametric_eq.peak1_gain_db"] == 6.0
    assert changed.param("verb.wet.noise_reverb.mix").max == 1.0
    q = changed.to_q()
    np.testing.assert_allclose(graph.with_q(q).to_q(), q, atol=1e-12)
    assert graph.values()["vocals.parametric_eq.peak1_gain_db"] == 0.0  # immutable


def test_bypass_is_identity_at_every_level(music_short):
    x, sr = music_short
    graph = Chain([Chain(["gain", "lowpass"], key="a").sample(np.random.default_rng(0))])
    np.testing.assert_array_equal(graph.with_bypass()(x, sample_rate=sr), x)
    inner_off = Chain([graph.stages[0].with_bypass()])
    np.testing.assert_array_equal(inner_off(x, sample_rate=sr), x)
    xt = torch.tensor(x)[None]
    out = inner_off.torch(xt, sample_rate=sr, q=torch.tensor(inner_off.to_q(), dtype=torch.float32))
    torch.testing.assert_close(out, xt)


# -- composites on one signal ---------------------------------------------------------------
def test_parallel_and_send_closed_forms(music_short):
    x, sr = music_short
    verb = Stage.create("noise_reverb", {"mix": 1.0}, {"seed": 3})
    dry_wet = Parallel([Chain([], key="dry"), Chain([verb], key="wet")])
    np.testing.assert_allclose(dry_wet(x, sample_rate=sr), x + verb(x, sample_rate=sr), atol=1e-6)
    send = SendReturn(Chain([verb]), send_db=-6.0)
    expected = x + verb(x * 10 ** (-6 / 20), sample_rate=sr)
    np.testing.assert_allclose(send(x, sample_rate=sr), expected, atol=1e-6)
    qt = torch.tensor(send.to_q(), requires_grad=True)
    yt = send.torch(torch.tensor(x, dtype=torch.float64)[None], sample_rate=sr, q=qt)
    np.testing.assert_allclose(yt[0].detach().numpy(), expected, atol=1e-4)
    yt.square().sum().backward()
    assert torch.isfinite(qt.grad).all() and qt.grad[0] != 0  # the send level gets a gradient


def test_parallel_refuses_branches_of_different_channels(music_short):
    x, sr = music_short
    with pytest.raises(AudioError, match="make them agree"):
        Parallel([Chain(["pan"], key="a"), Chain([], key="b")])(x[:1], sample_rate=sr)


# -- tracks ---------------------------------------------------------------------------------
def test_as_tracks_layouts():
    x4, was_3d = as_tracks(np.zeros((3, 2, 10), np.float32))
    assert x4.shape == (1, 3, 2, 10) and was_3d
    with pytest.raises(AudioError, match=r"\(batch, tracks, channels, samples\)"):
        as_tracks(np.zeros((2, 10), np.float32))
    with pytest.raises(AudioError, match="zero tracks"):
        as_tracks(np.zeros((1, 0, 2, 10), np.float32))


def test_per_track_numpy_torch_and_batched_agree(music):
    x, sr = _tracks(music)
    node = PerTrack(Chain(["gain", "peak"]), ["vocals", "bass", "drums"]).sample(np.random.default_rng(2))
    assert node.param_names[0] == "vocals.gain.gain_db"
    y = node(x, sample_rate=sr)
    for t, name in enumerate(node.names):  # each track with its own values
        np.testing.assert_allclose(y[t], node.track(name)(x[t], sample_rate=sr), atol=1e-6)
    q = torch.tensor(node.to_q())
    yt = node.torch(torch.tensor(x, dtype=torch.float64), sample_rate=sr, q=q)
    np.testing.assert_allclose(yt.numpy(), y, atol=1e-4)
    two = node.torch(torch.tensor(np.stack([x, x[::-1].copy()]), dtype=torch.float64), sample_rate=sr, q=q)
    torch.testing.assert_close(two[0], yt)  # batch items are independent


def test_track_count_must_match(music):
    x, sr = _tracks(music, n=2)
    node = PerTrack(Chain(["gain"]), ["a", "b", "c"])
    with pytest.raises(AudioError, match="3 tracks .* audio has 2 tracks"):
        node(x, sample_rate=sr)
    with pytest.raises(ParameterError, match="unique"):
        PerTrack(Chain(["gain"]), ["a", "a"])


def test_mixdown_closed_form_and_gradients(music):
    x, sr = _tracks(music)
    names = ["vocals", "bass", "drums"]
    strip = Chain(["gain", "pan"])
    gains, pans = [-3.0, 2.0, -8.0], [-0.5, 0.0, 0.7]
    tracks = PerTrack(strip, names)
    tracks = tracks.with_params({f"{n}.gain.gain_db": g for n, g in zip(names, gains)}
                                | {f"{n}.pan.pan": p for n, p in zip(names, pans)})
    master = Chain([Stage.create("gain", {"gain_db": -1.0})], key="master")
    mix = MixDown(tracks, [], master)
    expected = np.zeros((2, x.shape[-1]))
    for t in range(3):  # constant-power pan law, written out
        theta = (pans[t] + 1) * math.pi / 4
        expected += 10 ** (gains[t] / 20) * np.stack([math.cos(theta) * x[t, 0], math.sin(theta) * x[t, 0]])
    expected *= 10 ** (-1 / 20)
    np.testing.assert_allclose(mix(x, sample_rate=sr), expected, atol=1e-6)
    q = torch.tensor(mix.to_q(), requires_grad=True)
    yt = mix.torch(torch.tensor(x, dtype=torch.float64), sample_rate=sr, q=q)
    np.testing.assert_allclose(yt.detach().numpy(), expected, atol=1e-6)
    (yt[0] - 0.3 * yt[1]).square().sum().backward()
    assert torch.isfinite(q.grad).all() and (q.grad != 0).all(), dict(zip(mix.param_names, q.grad.tolist()))


def test_bus_sends_and_returns(music):
    x, sr = _tracks(music, n=2)
    names = ["a", "b"]
    verb = Stage.create("noise_reverb", {"mix": 1.0}, {"seed": 1})
    bus = Bus(Chain([verb]), names, sends_db={"a": -6.0}, key="reverb")
    fed = x[0] * 10 ** (-6 / 20) + x[1] * 10 ** (-60 / 20)
    np.testing.assert_allclose(bus(x, sample_rate=sr), verb(fed, sample_rate=sr), atol=1e-6)
    mix = MixDown(PerTrack(Chain(["gain"]), names), [bus])
    assert "reverb.a_send_db" in mix.param_names and "a.gain.gain_db" in mix.param_names
    dry = np.repeat(x, 2, axis=1).sum(0)
    np.testing.assert_allclose(mix(x, sample_rate=sr), dry + verb(np.repeat(fed, 2, axis=0), sample_rate=sr), atol=1e-5)
    q = torch.tensor(mix.to_q(), requires_grad=True)
    yt = mix.torch(torch.tensor(x, dtype=torch.float64), sample_rate=sr, q=q)
    np.testing.assert_allclose(yt.detach().numpy(), mix(x, sample_rate=sr), atol=1e-4)
    yt.square().sum().backward()
    assert q.grad[mix.param_names.index("reverb.a_send_db")] != 0
    with pytest.raises(ParameterError, match="both a track and a bus"):
        MixDown(PerTrack(Chain(["gain"]), ["reverb", "b"]), [Bus(Chain([verb]), ["reverb", "b"], key="reverb")])


# -- presets --------------------------------------------------------------------------------
@pytest.mark.parametrize("path", V1_PRESETS, ids=lambda p: p.name)
def test_every_v1_preset_loads_and_is_written_as_v2(path, tmp_path):
    import yaml

    raw = json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())
    assert raw["drywet_preset"] == 1
    chain = Chain.load(path)
    for entry, (key, stage) in zip(raw["chain"], chain.effect_stages()):
        assert stage.effect.name == entry["effect"] and key == entry["key"] and stage.bypass == entry["bypass"]
        for name, value in entry["params"].items():
            assert stage.params[name] == (tuple(value) if isinstance(value, list) else value)
    out = chain.save(tmp_path / f"again{path.suffix}")
    assert (json.loads(out.read_text()) if path.suffix == ".json" else yaml.safe_load(out.read_text()))["drywet_preset"] == 2
    assert Chain.load(out) == chain


def test_v2_presets_of_every_node_type_round_trip(tmp_path, music):
    x, sr = _tracks(music, n=2)
    names = ["lead", "keys"]
    verb = Chain([Stage.create("noise_reverb", {"mix": 1.0}, {"seed": 2})], key="verb")
    mix = MixDown(PerTrack(Chain(["gain", "pan", "peak"]), names).sample(np.random.default_rng(0)),
                  [Bus(verb, names, sends_db={"lead": -10.0}, key="rev")],
                  Chain([SendReturn(Chain(["delay"]), send_db=-20.0), "limiter"], key="master"))
    for suffix in (".yaml", ".json"):
        path = mix.save(tmp_path / f"mix{suffix}")
        again = load(path)
        assert again == mix
        np.testing.assert_array_equal(again(x, sample_rate=sr), mix(x, sample_rate=sr))


@pytest.mark.parametrize("text, match", [
    ("drywet_preset: 1\nchain:\n- effect: warp_drive\n", "unknown effect 'warp_drive'.*drywet effects"),
    ("drywet_preset: 2\ngraph: {type: spiral}\n", "unknown node type 'spiral'; use one of"),
    ("drywet_preset: 2\ngraph: {type: send, key: s}\n", "lacks the entry 'return'"),
    ("drywet_preset: 2\ngraph: &g {type: chain, nodes: [*g]}\n", "contains itself .* a graph must be a tree"),
    ("drywet_preset: 7\ngraph: {type: chain}\n", "version 7 is not supported"),
    ("drywet_preset: 2\ngraph: {type: effect, effect: gain, params: {gain_db: 99}}\n", "gain.gain_db=99 is out of range"),
])
def test_bad_presets_say_how_to_fix(tmp_path, text, match):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises((DrywetError, ParameterError), match=match):
        load(path)


def test_unknown_keys_are_named():
    graph = Chain([Chain(["gain"], key="vocals")])
    with pytest.raises(ParameterError, match=r"no parameter \['vocals.eq.band1_gain_db'\].*vocals.gain.gain_db"):
        graph.with_params({"vocals.eq.band1_gain_db": 1.0})
    with pytest.raises(ParameterError, match="no parameter"):
        graph.torch(torch.zeros(1, 1, 100), sample_rate=SR, automation={"vocals.gain.gain": torch.zeros(4)})


# -- automation: curves in the torch path that gradients fit ---------------------------------
def test_torch_curves_match_the_numpy_curves(music_short):
    x, sr = music_short
    for name, curve in [("gain", {"gain_db": [-12.0, 3.0, -6.0]}), ("pan", {"pan": [-1.0, 1.0]}),
                        ("stereo_width", {"width": [0.0, 2.0]})]:
        effect = get_effect(name)
        src = x[:1] if name == "pan" else x
        (key, points), = curve.items()
        y = effect.numpy(src, sample_rate=sr, **{key: np.array(points)})
        yt = effect.torch(torch.tensor(src, dtype=torch.float64), sample_rate=sr,
                          **{key: torch.tensor([points], dtype=torch.float64)})
        np.testing.assert_allclose(yt.numpy(), y, atol=1e-6, err_msg=name)
    # filter sweeps: the direct-form torch filter against the numpy state-variable filter
    lp = get_effect("lowpass")
    y = lp.numpy(x, sample_rate=sr, freq_hz=np.array([400.0, 6000.0]))
    yt = lp.torch(torch.tensor(x, dtype=torch.float64), sample_rate=sr, freq_hz=torch.tensor([[400.0, 6000.0]], dtype=torch.float64))
    assert np.sqrt(np.mean((yt.numpy() - y) ** 2)) < 1e-2 * np.sqrt(np.mean(y ** 2))
    with pytest.raises(ParameterError, match=r"\['freq_hz', 'q'\] also take a curve of shape \(1, points\)"):
        lp.torch(torch.zeros(1, 1, 10), sample_rate=sr, freq_hz=torch.full((2, 4), 100.0))
    with pytest.raises(ParameterError, match="one value per batch item"):
        get_effect("compressor").torch(torch.zeros(1, 1, 10), sample_rate=sr, threshold_db=torch.zeros(1, 4))


def _fit_curve(graph, key, x, sr, target, points, steps, lr, loss_fn):
    torch.manual_seed(0)
    q = torch.tensor(graph.to_q())
    curve = torch.full((1, points), 0.5, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([curve], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        y = graph.torch(x, sample_rate=sr, q=q, automation={key: curve})
        loss = loss_fn(y, target)
        loss.backward()
        opt.step()
        with torch.no_grad():
            curve.clamp_(0.0, 1.0)
    return graph.param(key).denormalize(curve.detach()[0]).numpy()


def test_gain_curve_recovered_by_gradient_descent(music):
    x, sr = music
    x = torch.tensor(x[:, : sr // 2], dtype=torch.float64)[None]
    graph = Chain([Chain(["gain"], key="fader")])
    true_db = np.array([0.0, -6.0, -18.0, -9.0, 3.0, -2.0])
    target = get_effect("gain").numpy(x[0].numpy(), sample_rate=sr, gain_db=true_db)
    got = _fit_curve(graph, "fader.gain.gain_db", x, sr, torch.tensor(target)[None], 6, 300, 0.05,
                     lambda y, t: (y - t).square().mean() / t.square().mean())
    np.testing.assert_allclose(got, true_db, atol=0.5)


def test_cutoff_curve_recovered_by_gradient_descent(music):
    from drywet.metrics.losses import mrstft

    x, sr = music
    x = torch.tensor(x[:1, : sr // 2], dtype=torch.float64)[None]
    graph = Chain(["lowpass"])
    true_hz = np.array([300.0, 1200.0, 4000.0, 1500.0])
    target = get_effect("lowpass").torch(x, sample_rate=sr, freq_hz=torch.tensor(true_hz)[None])
    got = _fit_curve(graph, "lowpass.freq_hz", x, sr, target, 4, 80, 0.03,
                     lambda y, t: mrstft(t, y))
    np.testing.assert_allclose(np.log2(got), np.log2(true_hz), atol=0.25)  # within a quarter octave
