"""Blind estimation: encoders and head shapes, a few training steps reduce the loss (both
modes), weights round-trip and refuse another spec, bad input, and the shipped estimators."""

import json

import numpy as np
import pytest
import torch

from drywet import io
from drywet.chain import Chain
from drywet.errors import AudioError, DrywetError
from drywet.estimate.blind import SETTINGS, BlindEstimator, bundled_estimator
from drywet.estimate.blind.data import MusicCrops, render_batch
from drywet.estimate.blind.features import log_frequency_filterbank, log_frequency_spectrogram
from drywet.estimate.blind.networks import ENCODERS, AnalysisNetwork
from drywet.estimate.blind.train import TrainConfig, train

SR = 16000


@pytest.fixture(scope="module")
def crops(tmp_path_factory):
    x, sr = io.bundled_example()
    folder = tmp_path_factory.mktemp("music")
    io.write_audio(folder / "a.wav", x, sample_rate=sr)
    return MusicCrops([folder / "a.wav"], sample_rate=SR, crop_samples=SR // 2)


def test_log_frequency_bands_are_12_per_octave_and_peak_at_their_center():
    fb = log_frequency_filterbank(4096, SR)
    freqs = np.arange(fb.shape[1]) * SR / 4096
    centers = freqs[np.argmax(fb, axis=1)]
    ratios = centers[40:] / centers[39:-1]  # above the region where bands are narrower than a bin
    assert np.allclose(ratios, 2 ** (1 / 12), rtol=0.03)
    tone = torch.sin(2 * torch.pi * 440.0 * torch.arange(SR) / SR)[None, None]
    spec = log_frequency_spectrogram(tone, SR, n_fft=4096, hop=1024)[0, 0].mean(-1)
    assert abs(centers[int(spec.argmax())] - 440.0) < 440.0 * 0.03


@pytest.mark.parametrize("encoder", list(ENCODERS))
def test_every_encoder_maps_audio_to_normalized_parameters(encoder):
    net = AnalysisNetwork(encoder, 7, SR).eval()
    with torch.no_grad():
        q = net(torch.randn(3, 1, SR // 2))
    assert q.shape == (3, 7) and torch.all((q >= 0) & (q <= 1))


@pytest.mark.parametrize("mode", ["param", "audio"])
def test_training_steps_reduce_the_loss(mode, crops):
    config = TrainConfig("gain", encoder="te", mode=mode, steps=30, batch=8, lr=3e-3, sample_rate=SR, crop_s=0.5, hidden=(32,), valid_every=10)
    est = train(config, crops, crops, log=lambda m: None)
    curve = [h["valid_mse_q"] for h in config.history]
    # a gain is easy: far below the 1/12 of always answering q = 0.5
    assert curve[-1] < 0.25 / 12, curve
    assert est.chain.num_params == 1


def test_weights_round_trip_and_refuse_another_spec(tmp_path, crops):
    config = TrainConfig("gain,clipper", encoder="compact", steps=2, batch=4, sample_rate=SR, crop_s=0.5, hidden=(16,))
    est = train(config, crops, None, log=lambda m: None)
    path = est.save(tmp_path / "w")
    y = crops.sample(np.random.default_rng(0))
    loaded = BlindEstimator.load(path)
    assert np.allclose(loaded.predict_q(y, SR), est.predict_q(y, SR), atol=1e-6)
    info = json.loads(path.with_suffix(".json").read_text())
    info["spec"][0]["params"][0]["doc"] = "reworded since training"  # a doc changes no parameter
    path.with_suffix(".json").write_text(json.dumps(info))
    assert np.allclose(BlindEstimator.load(path).predict_q(y, SR), est.predict_q(y, SR), atol=1e-6)
    info["spec"][0]["params"][0]["max"] = 99.0  # as if the gain range had changed since training
    path.with_suffix(".json").write_text(json.dumps(info))
    with pytest.raises(DrywetError, match="trained for other effect specs"):
        BlindEstimator.load(path)


def test_bad_input_is_refused_and_short_clips_are_padded(crops):
    config = TrainConfig("gain", encoder="tfe", steps=1, batch=4, sample_rate=SR, crop_s=0.5, hidden=(8,))
    est = train(config, crops, None, log=lambda m: None)
    with pytest.raises(AudioError, match="silent"):
        est.predict_q(np.zeros((1, SR), np.float32), SR)
    with pytest.raises(AudioError, match="DC"):
        est.predict_q(np.full((1, SR), 0.5, np.float32), SR)
    q = est.predict_q(0.1 * np.random.default_rng(0).standard_normal((2, 100)).astype(np.float32), 44100)
    assert q.shape == (1,) and np.all(np.isfinite(q))


def test_render_batch_labels_match_the_rendered_audio(crops):
    chain = Chain.from_names("clipper")
    x, y, q = render_batch(chain, crops, np.random.default_rng(0), 3)
    for i in range(3):
        assert np.allclose(chain.with_q(q[i].astype(np.float64))(x[i], sample_rate=SR), y[i], atol=1e-5)


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_shipped_estimators_load_and_estimate_finite_parameters(setting):
    est = bundled_estimator(setting)
    x, sr = io.bundled_example()
    chain = est.estimate(x[:, : 3 * sr], sample_rate=sr)
    assert [s.effect.name for s in chain.stages] == SETTINGS[setting].split(",")
    assert np.all(np.isfinite(chain.to_q())) and np.all((chain.to_q() >= 0) & (chain.to_q() <= 1))
