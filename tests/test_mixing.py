"""The mixing console, sessions, `drywet mix` and the Reaper export, on SiSec's Bearlin Roads stems."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from conftest import shared
from drywet import io
from drywet.cli import main
from drywet.errors import AudioError, DrywetError, ParameterError
from drywet.graph import Chain, Stage
from drywet.mixing import Session, console, read_rpp, write_rpp

STEMS = ("bass", "kick", "piano", "vocals")


@pytest.fixture(scope="module")
def stems_dir(tmp_path_factory):
    """Four real stems, 3 s each, in a folder of their own."""
    src = shared("multitrack/bearlin_roads")
    out = tmp_path_factory.mktemp("stems")
    for name in STEMS:
        x, sr = io.read_audio(src / f"dev1__bearlin-roads__snip_85_99__{name}.flac")
        sf.write(out / f"{name}.wav", x[:, : 3 * sr].T, sr, subtype="FLOAT")
    return out


def test_session_from_stems_round_trips(stems_dir, tmp_path):
    session = Session.from_stems(stems_dir, strip=["gain", "pan"])
    assert [t.name for t in session.tracks] == sorted(STEMS)
    path = session.save(tmp_path / "s.yaml")
    again = Session.load(path)
    assert again.to_dict()["tracks"][0]["stem"].endswith("bass.wav") and again.strip == ["gain", "pan"]
    assert (again.root / again.tracks[0].stem).resolve() == (stems_dir / "bass.wav").resolve()
    with pytest.raises(DrywetError, match="exists"):
        session.save(path)


def test_dmc_basic_mix_is_the_closed_form(stems_dir):
    session = Session.from_stems(stems_dir, strip=["gain", "pan"])
    gains, pans = [-6.0, 0.0, -3.0, 2.0], [0.0, -0.4, 0.6, 0.1]
    for t, g, p in zip(session.tracks, gains, pans):
        t.settings = {"gain": {"gain_db": g}, "pan": {"pan": p}}
    mix, sr = session.render(log=lambda m: None)
    x, _ = session.read_stems(log=lambda m: None)
    expected = np.zeros((2, x.shape[-1]))
    for t in range(len(gains)):  # stems are stereo: pan is drywet's balance law
        theta = (pans[t] + 1) * math.pi / 4
        expected += 10 ** (gains[t] / 20) * math.sqrt(2) * np.stack([math.cos(theta) * x[t, 0], math.sin(theta) * x[t, 1]])
    np.testing.assert_allclose(mix, expected, atol=1e-5)


def test_console_torch_matches_numpy_and_has_gradients(stems_dir):
    session = Session.from_stems(stems_dir)
    x, sr = session.read_stems(log=lambda m: None)
    x = x[:2, :, : sr // 2]
    verb = Chain([Stage.create("noise_reverb", {"mix": 1.0})], key="reverb")
    mix = console(["a", "b"], settings={"a": {"compressor": {"threshold_db": -20.0}}}, buses={"reverb": verb},
                  sends_db={"reverb": {"a": -12.0}}, master=Chain(["limiter"], key="master"))
    y = mix(x, sample_rate=sr)
    q = torch.tensor(mix.to_q(), requires_grad=True)
    yt = mix.torch(torch.tensor(x, dtype=torch.float64), sample_rate=sr, q=q)
    assert float(np.sqrt(np.mean((yt.detach().numpy() - y) ** 2))) < 1e-3 * float(np.sqrt(np.mean(y**2)))
    yt.square().mean().backward()
    grads = dict(zip(mix.param_names, q.grad.tolist()))
    assert all(math.isfinite(g) for g in grads.values())
    for key in ("a.gain.gain_db", "b.pan.pan", "a.parametric_eq.peak1_gain_db", "a.compressor.threshold_db", "reverb.a_send_db"):
        assert grads[key] != 0, key


def test_cli_init_render_export(stems_dir, tmp_path, capsys):
    session_path = tmp_path / "mix.yaml"
    assert main(["mix", "init", str(stems_dir), "-o", str(session_path), "--strip", "gain,polarity,pan"]) == 0
    data = yaml.safe_load(session_path.read_text())
    data["tracks"][0]["settings"] = {"gain": {"gain_db": -4.5}, "pan": {"pan": -0.3}, "polarity": {"invert": 1.0}}
    session_path.write_text(yaml.safe_dump(data))
    out = tmp_path / "mix.wav"
    assert main(["mix", "render", str(session_path), "-o", str(out)]) == 0
    y, sr = io.read_audio(out)
    assert y.shape == (2, 3 * sr) and np.abs(y).max() > 0.01
    assert main(["mix", "render", str(session_path), "-o", str(out)]) == 2  # never overwrites
    assert "exists" in capsys.readouterr().err
    rpp = tmp_path / "mix.rpp"
    assert main(["mix", "export", str(session_path), "-o", str(rpp)]) == 0
    tracks = read_rpp(rpp)
    assert [t["name"] for t in tracks] == sorted(STEMS)
    assert tracks[0]["volume_db"] == pytest.approx(-4.5, abs=1e-6) and tracks[0]["pan"] == pytest.approx(-0.3)
    assert tracks[0]["invert"] and not tracks[1]["invert"] and tracks[1]["volume_db"] == pytest.approx(0.0, abs=1e-9)
    assert tracks[0]["file"].endswith("bass.wav") and rpp.read_text().count("<TRACK") == 4


def test_bad_sessions_say_how_to_fix(stems_dir, tmp_path):
    session = Session.from_stems(stems_dir, strip=["gain", "pan"])
    session.tracks[0].stem = "missing.wav"
    with pytest.raises(DrywetError, match="missing.wav does not exist; fix the path"):
        session.render()
    session = Session.from_stems(stems_dir, strip=["gain", "pan"])
    session.tracks[0].sends = {"hall": -10.0}
    with pytest.raises(DrywetError, match=r"unknown buses \['hall'\]"):
        session.graph()
    session.tracks[0].sends = {}
    session.tracks[0].settings = {"compressor": {"ratio": 4.0}}
    with pytest.raises(ParameterError, match="the strip has no 'compressor'"):
        session.graph()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DrywetError, match="holds no stems"):
        Session.from_stems(tmp_path / "empty")
    with pytest.raises(ParameterError, match="1 to 128 tracks"):
        console([f"t{i}" for i in range(200)], processors=["gain"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("tracks: []\n")
    with pytest.raises(DrywetError, match="not a drywet mixing session"):
        Session.load(bad)


def test_stems_of_other_rates_lengths_and_widths_are_aligned_with_notes(stems_dir, tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(stems_dir, folder)
    x, sr = io.read_audio(folder / "piano.wav")
    sf.write(folder / "piano.wav", io.resample(x[:1, : 2 * sr], sr, 22050).T, 22050, subtype="FLOAT")  # mono, 2 s, 22.05 kHz
    sf.write(folder / "silence.wav", np.zeros((sr, 2)), sr, subtype="FLOAT")
    notes = []
    session = Session.from_stems(folder, strip=["gain"])
    with pytest.warns(UserWarning, match="'silence' is silent"):
        stacked, rate = session.read_stems(log=notes.append)
    assert rate == sr and stacked.shape == (5, 2, 3 * sr)
    assert any("resampled from 22050" in n for n in notes) and any("zero-padded" in n for n in notes)
    piano = stacked[[t.name for t in session.tracks].index("piano")]
    np.testing.assert_array_equal(piano[0], piano[1])  # dual mono
    sf.write(folder / "surround.wav", np.zeros((sr, 3)), sr)
    with pytest.raises(AudioError, match="3 channels.*downmix"), pytest.warns(UserWarning, match="silent"):
        Session.from_stems(folder, strip=["gain"]).read_stems(log=notes.append)


def test_rpp_reader_refuses_other_files(tmp_path):
    p = tmp_path / "x.rpp"
    p.write_text("hello")
    with pytest.raises(DrywetError, match="not a Reaper project"):
        read_rpp(p)
    with pytest.raises(DrywetError, match="exists"):
        write_rpp(Session([]), p)
