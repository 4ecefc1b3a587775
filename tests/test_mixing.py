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


def test_rules_mixer_balances_centres_the_low_end_and_sets_the_loudness(stems_dir, tmp_path):
    from drywet.metrics import integrated_loudness
    from drywet.mixing.auto import CEILING_DB, MIX_LUFS, auto_mix

    folder = tmp_path / "six"
    shutil.copytree(stems_dir, folder)
    src = shared("multitrack/bearlin_roads")
    for name in ("hi_hat", "snare"):
        x, sr = io.read_audio(src / f"dev1__bearlin-roads__snip_85_99__{name}.flac")
        sf.write(folder / f"{name}.wav", x[:, : 3 * sr].T, sr, subtype="FLOAT")
    session = auto_mix(Session.from_stems(folder), "rules", log=lambda m: None)
    by_name = {t.name: t for t in session.tracks}
    assert by_name["bass"].settings["pan"]["pan"] == 0.0 and by_name["kick"].settings["pan"]["pan"] == 0.0
    assert not by_name["bass"].sends and "reverb" in by_name["hi_hat"].sends
    spread = [t.settings["pan"]["pan"] for t in session.tracks if t.sends]  # the tracks that are not low-end
    assert len(spread) >= 2 and min(spread) < 0 < max(spread)  # both sides of the stereo field
    x, sr = session.read_stems(log=lambda m: None)
    gains = [t.settings["gain"]["gain_db"] for t in session.tracks]
    levels = [integrated_loudness(s * 10 ** (g / 20), sample_rate=sr) for s, g in zip(x, gains)]
    for g, level in zip(gains, levels):  # every track at one loudness, unless its gain hit the strip's range
        assert level == pytest.approx(-30.0, abs=0.1) or abs(g) == 24.0
    mix, _ = session.render(log=lambda m: None)
    peak_db = 20 * np.log10(float(np.abs(mix).max()))
    assert peak_db <= CEILING_DB + 0.01  # never clipped ...
    loudness = integrated_loudness(mix, sample_rate=sr)  # ... and at the target unless the ceiling stopped it
    assert loudness == pytest.approx(MIX_LUFS, abs=0.5) or (loudness < MIX_LUFS and peak_db > CEILING_DB - 0.1)


def test_baselines_and_eval_on_the_song_layout(stems_dir, tmp_path, capsys):
    from drywet.mixing.auto import auto_mix

    mono = auto_mix(Session.from_stems(stems_dir), "mono", log=lambda m: None)
    x, sr = mono.read_stems(log=lambda m: None)
    np.testing.assert_allclose(mono.render(log=lambda m: None)[0], x.sum(0), atol=1e-5)
    random = auto_mix(Session.from_stems(stems_dir), "random", seed=3, log=lambda m: None)
    assert all(abs(t.settings["gain"]["gain_db"]) <= 12 for t in random.tracks)
    song = tmp_path / "songs" / "demo"
    shutil.copytree(stems_dir, song / "stems")
    sf.write(song / "mix.wav", x.sum(0).T, sr, subtype="FLOAT")
    assert main(["mix", "eval", "--data", str(tmp_path / "songs"), "--methods", "mono,rules"]) == 0
    table = capsys.readouterr().out
    mono_row = next(line for line in table.splitlines() if line.startswith("| mono"))
    assert float(mono_row.split("|")[3]) < 0.05  # the plain sum is its own mix
    assert main(["mix", "auto", str(stems_dir), "-o", str(tmp_path / "auto.wav"), "--session", str(tmp_path / "auto.yaml")]) == 0
    assert Session.load(tmp_path / "auto.yaml").strip == ["gain", "parametric_eq", "compressor", "pan"]
    with pytest.raises(DrywetError, match="no multitrack song in a layout drywet reads"):
        from drywet.mixing.songs import find_songs

        find_songs(stems_dir)


def test_mix_report_is_one_self_contained_page(stems_dir, tmp_path):
    from html.parser import HTMLParser

    session_path = tmp_path / "s.yaml"
    assert main(["mix", "init", str(stems_dir), "-o", str(session_path)]) == 0
    report = tmp_path / "r" / "report.html"
    ref = stems_dir / "piano.wav"
    assert main(["mix", "render", str(session_path), "-o", str(tmp_path / "m.wav"), "--report", str(report), "--reference", str(ref)]) == 0

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.audio, self.img, self.links = [], 0, []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "audio":
                self.audio.append(attrs["src"])
            if tag == "img":
                self.img += 1
                assert attrs["src"].startswith("data:image/png;base64,")
            for v in attrs.values():
                if v and v.startswith(("http://", "https://", "//")):
                    self.links.append(v)

    tags = Tags()
    tags.feed(report.read_text())
    assert len(tags.audio) == 2 + len(STEMS) and not tags.links  # mix, reference, every stem; nothing external
    for src in tags.audio:  # relative paths that resolve from the report's folder
        assert (report.parent / src).resolve().is_file(), src
    assert tags.img >= 2 + len(STEMS) and report.read_text().count("<h2>Track ") == len(STEMS)
    assert "magnitude response" in report.read_text() and "static curve" in report.read_text()


def test_mixing_by_reference_moves_the_traits_toward_another_song(stems_dir, tmp_path, capsys):
    from drywet.mixing.match import match_mix

    reference, rate = io.read_audio(shared("music/hobbs_lets_go_fishin.ogg"))
    reference = reference[:, 30 * rate : 33 * rate]
    result = match_mix(Session.from_stems(stems_dir), reference, rate, steps=30, seconds=2.0, analysis_rate=16000,
                       log=lambda m: None)
    assert result.after < 0.5 * result.before and result.history[-1] < result.history[0]
    mix, _ = result.session.render(log=lambda m: None)  # the matched values are a session that renders
    assert mix.shape[0] == 2 and np.all(np.isfinite(mix)) and np.abs(mix).max() > 0
    ref_path = tmp_path / "ref.wav"
    sf.write(ref_path, reference.T, rate)
    args = ["mix", "match", str(stems_dir), "--reference", str(ref_path), "-o", str(tmp_path / "m.wav"), "--steps", "2",
            "--seconds", "1", "--session", str(tmp_path / "m.yaml")]
    assert main(args) == 0 and "feature distance to the reference" in capsys.readouterr().out
    assert Session.load(tmp_path / "m.yaml").strip == ["gain", "parametric_eq", "pan", "stereo_width"]
    assert main(args) == 2  # nothing is overwritten
    with pytest.raises(DrywetError, match="not silent"):
        match_mix(Session.from_stems(stems_dir), np.zeros((2, 100)), rate)


def _tiny(path, seed, channels=2):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, 0.1 * np.random.default_rng(seed).standard_normal((26460, channels)), 44100)  # 0.6 s: loudness needs 0.4


def test_song_layouts_are_found(tmp_path):
    from drywet.mixing.songs import find_songs

    _tiny(tmp_path / "own" / "song_a" / "mix.wav", 0)
    for i, n in enumerate(("gtr", "voc")):
        _tiny(tmp_path / "own" / "song_a" / "stems" / f"{n}.wav", i + 1)
    for i, n in enumerate(("mixture", "bass", "drums", "other", "vocals")):  # MUSDB18-HQ
        _tiny(tmp_path / "musdb" / "train" / "Artist - Song" / f"{n}.wav", 10 + i)
    _tiny(tmp_path / "DSD100" / "Mixtures" / "Dev" / "051 - Song" / "mixture.wav", 20)
    for i, n in enumerate(("bass", "drums", "other", "vocals")):
        _tiny(tmp_path / "DSD100" / "Sources" / "Dev" / "051 - Song" / f"{n}.wav", 21 + i)
    _tiny(tmp_path / "medley" / "Band_Track" / "Band_Track_MIX.wav", 30)
    for i in range(3):
        _tiny(tmp_path / "medley" / "Band_Track" / "Band_Track_STEMS" / f"Band_Track_STEM_0{i + 1}.wav", 31 + i)
    _tiny(tmp_path / "enst" / "drummer_1" / "audio" / "wet_mix" / "001_hits.wav", 40)
    for i, mic in enumerate(("hi-hat", "kick", "snare")):
        _tiny(tmp_path / "enst" / "drummer_1" / "audio" / mic / "001_hits.wav", 41 + i, channels=1)
    songs = {s.layout: s for s in find_songs(tmp_path)}
    assert set(songs) == {"drywet", "musdb", "dsd100", "medleydb", "enst"}
    assert [p.stem for p in songs["musdb"].stems] == ["bass", "drums", "other", "vocals"]
    assert len(songs["dsd100"].stems) == 4 and songs["dsd100"].mix.name == "mixture.wav"
    assert len(songs["medleydb"].stems) == 3 and songs["medleydb"].mix.name == "Band_Track_MIX.wav"
    assert songs["enst"].name == "drummer_1/001_hits" and len(songs["enst"].stems) == 3
    assert main(["mix", "eval", "--data", str(tmp_path / "DSD100"), "--methods", "mono"]) == 0
    assert main(["mix", "eval", "--data", str(tmp_path / "enst"), "--methods", "mono"]) == 0


def test_a_clipped_stem_and_a_stem_that_is_the_mix_are_flagged(stems_dir, tmp_path):
    folder = tmp_path / "flagged"
    shutil.copytree(stems_dir, folder)
    x, _ = Session.from_stems(stems_dir).read_stems(log=lambda m: None)
    sf.write(folder / "zz_mix.wav", x.sum(0).T, 44100, subtype="FLOAT")
    with pytest.warns(UserWarning, match="'zz_mix' looks like the full mix"):
        Session.from_stems(folder).read_stems(log=lambda m: None)
    (folder / "zz_mix.wav").unlink()
    loud = np.clip(4 * x[0], -0.5, 0.5)
    sf.write(folder / "bass.wav", loud.T, 44100, subtype="FLOAT")
    with pytest.warns(UserWarning, match="'bass' is clipped.*drywet declip"):
        Session.from_stems(folder).read_stems(log=lambda m: None)
