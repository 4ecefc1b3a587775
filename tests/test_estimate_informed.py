"""Informed estimation (analysis by synthesis) on real music."""

import numpy as np
import pytest

from drywet import AudioError, ParameterError, io
from drywet.chain import Chain, Stage
from drywet.cli import main
from drywet.estimate import match_chain


@pytest.fixture(scope="module")
def clip():
    x, sr = io.bundled_example()
    return x[:, 4 * sr : 6 * sr].mean(axis=0, keepdims=True), sr


def test_match_recovers_an_eq_curve(clip):
    x, sr = clip
    true = Chain.from_names("eq").sample(np.random.default_rng(2))
    y = true(x, sample_rate=sr)
    result = match_chain(x, y, sample_rate=sr, effects="eq", steps=60, restarts=2, candidates=8)
    assert result.loss_ratio < 0.1
    assert result.history[-1] < result.history[0]
    # The log-mel loss ignores level (RMS normalization), so compare EQ curve shapes: after
    # removing the mean offset the estimate is much closer to the truth than a flat curve.
    freqs = np.geomspace(100, 10000, 40)

    def curve(chain):
        stage = chain.stages[0]
        return 20 * np.log10(np.abs(stage.effect.frequency_response(stage.params, freqs, sr)))

    diff = curve(result.chain) - curve(true)
    flat = -curve(true)
    assert np.std(diff) < 0.3 * np.std(flat)


def test_match_explains_a_full_chain(clip):
    x, sr = clip
    true = Chain.from_names("eq,compressor,clipper").sample(np.random.default_rng(3))
    y = true(x, sample_rate=sr)
    result = match_chain(x, y, sample_rate=sr, steps=40, restarts=2, candidates=8)
    assert result.loss_ratio < 0.3
    assert [s.effect.name for s in result.chain.stages] == ["parametric_eq", "compressor", "clipper"]


def test_match_bad_input(clip):
    x, sr = clip
    with pytest.raises(AudioError, match="aligned"):
        match_chain(x, x[:, :-1], sample_rate=sr)
    with pytest.raises(AudioError, match="silent"):
        match_chain(np.zeros_like(x), x, sample_rate=sr)
    with pytest.raises(AudioError, match="wet signal is silent"):
        match_chain(x, np.zeros_like(x), sample_rate=sr)
    with pytest.raises(ParameterError, match="torch twin"):
        match_chain(x, x, sample_rate=sr, effects="bitcrusher")
    with pytest.raises(ParameterError, match="loss"):
        match_chain(x, x, sample_rate=sr, loss="l2")
    dead = 0.9 * np.sign(x).astype(np.float32)  # clipped to death: still finite parameters
    result = match_chain(x, dead, sample_rate=sr, effects="eq,compressor,clipper", steps=5, restarts=1, candidates=4)
    assert np.all(np.isfinite(result.chain.to_q())) and np.isfinite(result.loss)


def test_match_cli_writes_a_preset_apply_reproduces(tmp_path, clip, capsys):
    x, sr = clip
    y = Chain.from_names("eq").sample(np.random.default_rng(4))(x, sample_rate=sr)
    dry = io.write_audio(tmp_path / "dry.wav", x, sample_rate=sr, subtype="FLOAT")
    wet = io.write_audio(tmp_path / "wet.wav", y, sample_rate=sr, subtype="FLOAT")
    preset = tmp_path / "est.yaml"
    report = tmp_path / "report.html"
    assert main(["match", "--dry", str(dry), "--wet", str(wet), "--chain", "eq", "-o", str(preset),
                 "--steps", "20", "--restarts", "2", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "low_shelf_gain_db" in out and "dB" in out and "ratio" in out and "sounds the same within" in out
    assert report.is_file() and "<audio" in report.read_text() and "sounds the same within" in report.read_text()
    applied = tmp_path / "applied.wav"
    assert main(["apply", str(dry), str(applied), "--preset", str(preset)]) == 0
    estimate = Chain.load(preset)(x, sample_rate=sr)
    assert np.allclose(io.read_audio(applied)[0], estimate, atol=1e-4)


def test_loudest_excerpt_is_chosen():
    from drywet.estimate.pairs import loudest_excerpt

    sr = 8000
    x = np.full((1, 10 * sr), 0.01)
    x[:, 6 * sr : 8 * sr] = 1.0
    start, stop = loudest_excerpt(x, sr, 2.0)
    assert (start, stop) == (6 * sr, 8 * sr)
    assert loudest_excerpt(x, sr, None) == (0, 10 * sr)
    assert loudest_excerpt(x, sr, 20.0) == (0, 10 * sr)


def test_cmaes_recovers_a_black_box_chain(music):
    from drywet.estimate import match_chain_blackbox

    x, sr = music
    x = x[:, :sr]
    true = Chain([Stage.create("band_limit", {"low_cut_hz": 250.0, "high_cut_hz": 4000.0})])
    y = true(x, sample_rate=sr)
    result = match_chain_blackbox(x, y, sample_rate=sr, effects="band_limit", budget=80, excerpt_s=None)
    assert np.max(np.abs(result.chain.to_q() - true.to_q())) < 0.05
    assert result.loss_ratio < 0.1


def test_cmaes_checks_its_input(music):
    from drywet.estimate import match_chain_blackbox

    x, sr = music
    with pytest.raises(ParameterError, match="budget"):
        match_chain_blackbox(x, x, sample_rate=sr, effects="mp3", budget=3)
    with pytest.raises(AudioError, match="silent"):
        match_chain_blackbox(np.zeros_like(x), x, sample_rate=sr, effects="mp3")
    with pytest.raises(AudioError, match="wet signal is silent"):
        match_chain_blackbox(x, np.zeros_like(x), sample_rate=sr, effects="mp3")


def test_excerpt_is_scored_after_a_warm_up(monkeypatch):
    """Cut from the middle of the pair, the excerpt must be processed with what came before:
    a compressor started from silence has an attack transient the wet signal does not have."""
    import torch

    from drywet.estimate import informed, pairs

    x, sr = io.bundled_example()
    x = x[:1, : 6 * sr].copy()
    x[:, : 2 * sr] *= 0.7  # the loudest 2 s start after 2 s, and the compressor acts before
    chain = Chain.from_names("compressor").with_q(np.array([0.3, 0.8, 0.9, 0.9, 0.0, 0.5]))  # slow attack
    y = chain(x, sample_rate=sr)
    truth = torch.tensor(chain.to_q()[None], dtype=torch.float32)

    def loss_at_truth():
        objective = informed._excerpt_objective(chain, torch.tensor(x[None]), torch.tensor(y[None]), sr, 2.0, "logmel")
        return float(objective(truth)[0])

    warmed = loss_at_truth()
    monkeypatch.setattr(pairs, "WARMUP_S", 0.0)
    assert warmed < 1e-3 and loss_at_truth() > 10 * warmed


def test_match_init_choices(clip):
    x, sr = clip
    with pytest.raises(ParameterError, match="init"):
        match_chain(x, x, sample_rate=sr, init="blind")


def test_match_cli_aligns_a_late_longer_wet_at_another_rate_and_refuses_other_channel_counts(tmp_path, clip, capsys):
    x, sr = clip
    y = Chain.from_names("eq").sample(np.random.default_rng(4))(x, sample_rate=sr)
    late = np.concatenate([np.zeros((1, 300), np.float32), y, np.zeros((1, 2000), np.float32)], axis=-1)
    dry = io.write_audio(tmp_path / "dry.wav", x, sample_rate=sr, subtype="FLOAT")
    wet = io.write_audio(tmp_path / "wet.wav", late, sample_rate=sr, subtype="FLOAT")
    args = ["match", "--dry", str(dry), "--chain", "eq", "--steps", "20", "--restarts", "2"]
    assert main([*args, "--wet", str(wet), "-o", str(tmp_path / "a.yaml")]) == 0
    out = capsys.readouterr()
    assert "the dry was shifted by the wet's latency, 300 samples" in out.err
    ratio = float(out.out.split("ratio ")[1].split(")")[0])
    assert ratio < 0.3, out.out  # aligned: the EQ is found, not a smeared average
    wet_low = io.write_audio(tmp_path / "wet_22k.wav", io.read_audio(wet, sample_rate=sr // 2)[0], sample_rate=sr // 2,
                             subtype="FLOAT")
    assert main([*args, "--wet", str(wet_low), "-o", str(tmp_path / "b.yaml")]) == 0
    err = capsys.readouterr().err
    assert f"the wet file was resampled from {sr // 2} to {sr} Hz" in err and "shifted by the wet's latency" in err
    stereo = io.write_audio(tmp_path / "wet_stereo.wav", np.repeat(y, 2, axis=0), sample_rate=sr, subtype="FLOAT")
    assert main([*args, "--wet", str(stereo), "-o", str(tmp_path / "c.yaml")]) == 2
    assert "channel counts differ (dry 1, wet 2)" in capsys.readouterr().err
