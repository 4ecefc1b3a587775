"""Blind estimation: encoders and head shapes, a few training steps reduce the loss (both
modes), weights round-trip and refuse another spec, bad input, and the shipped estimators."""

import json
import warnings

import numpy as np
import pytest
import torch

from drywet import io
from drywet.chain import Chain
from drywet.errors import AudioError, DrywetError
from drywet.estimate.blind import SETTINGS, BlindEstimator, bundled_estimator
from drywet.estimate.blind.data import render_batch
from drywet.datasets import MusicCrops
from drywet.nn.features import (
    log_frequency_filterbank,
    log_frequency_spectrogram,
)
from drywet.estimate.blind.model import FOR_INVERSION
from drywet.nn import ENCODERS, AnalysisNetwork
from drywet.estimate.blind.train import (
    TrainConfig,
    _prefetched,
    stage_loss,
    train,
    training_batches,
)

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


@pytest.mark.parametrize("mode", ["param", "audio", "stages", "audio+stages"])
def test_training_steps_reduce_the_loss(mode, crops):
    config = TrainConfig("gain", encoder="te", mode=mode, steps=30, batch=8, lr=3e-3, sample_rate=SR, crop_s=0.5, hidden=(32,), valid_every=10)
    est = train(config, crops, crops, log=lambda m: None)
    curve = [h["valid_mse_q"] for h in config.history]
    # a gain is easy: far below the 1/12 of always answering q = 0.5
    assert curve[-1] < 0.25 / 12, curve
    assert est.chain.num_params == 1


def test_stage_loss_scores_each_stage_on_its_true_input_and_sees_levels():
    chain = Chain.from_names("gain,polarity,gain")
    x = torch.randn(2, 1, SR // 2)
    q = torch.tensor([[0.5, 0.0, 0.25], [0.5, 0.0, 0.25]])
    assert torch.all(stage_loss(chain, x, q, q, sample_rate=SR) == 0)
    # a pure gain error of g dB: the log-mel distance is blind to it, the level term is |ln 10^(g/10)|
    spec = chain.stages[0].effect.spec
    off = q.clone()
    off[:, 0] = torch.from_numpy(spec.normalize({"gain_db": 6.0})).float()  # the first stage at +6 dB instead of 0
    expected = 6.0 / 10 * np.log(10) / 3  # one stage of three is wrong
    np.testing.assert_allclose(stage_loss(chain, x, q, off, sample_rate=SR).numpy(), expected, rtol=1e-4)
    # the later stages see the true signal: the first stage's error is counted once, not carried
    # through every later stage as in the chain's output; a second stage 6 dB off counts once more
    off[:, 2] = torch.from_numpy(spec.normalize({"gain_db": -6.0})).float()  # -6 dB instead of -12
    np.testing.assert_allclose(stage_loss(chain, x, q, off, sample_rate=SR).numpy(), 2 * expected, rtol=1e-4)


def test_the_training_stream_does_not_depend_on_the_number_of_rendering_processes(crops):
    chain = Chain.from_names("gain,clipper")
    config = TrainConfig("gain,clipper", steps=3, batch=2, sample_rate=SR, crop_s=0.5)
    serial = list(training_batches(config, chain, crops))
    config.workers = 2
    parallel = list(training_batches(config, chain, crops))
    assert len(serial) == len(parallel) == 3
    for a, b in zip(serial, parallel):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)
    assert not np.array_equal(serial[0][2], serial[1][2])  # each step draws new parameters


def test_rendering_processes_never_run_more_than_a_few_batches_ahead_of_training():
    # pool.imap would render every batch as fast as it can: on a CPU, where training is the
    # slower side, the waiting batches filled 24 GB in ten minutes
    class CountingPool:
        submitted = 0

        def apply_async(self, function, args):
            self.submitted += 1
            return type("Result", (), {"get": lambda _, a=args[0]: a})()

    pool, consumed = CountingPool(), []
    for step in _prefetched(pool, iter(range(100)), ahead=4):
        consumed.append(step)
        assert pool.submitted - len(consumed) <= 4
    assert consumed == list(range(100))


def test_weights_round_trip_and_refuse_another_spec(tmp_path, crops):
    config = TrainConfig("gain,clipper", encoder="compact", steps=2, batch=4, sample_rate=SR, crop_s=0.5, hidden=(16,))
    est = train(config, crops, None, log=lambda m: None)
    path = est.save(tmp_path / "w")
    y = crops.sample(np.random.default_rng(0))
    loaded = BlindEstimator.load(path)
    assert np.allclose(loaded.predict_q(y, SR), est.predict_q(y, SR), atol=1e-6)
    info = json.loads(path.with_suffix(".json").read_text())
    info["spec"][0]["params"][0]["doc"] = "reworded since training"  # a doc changes no parameter
    info["spec"][0]["params"][0]["curve"] = not info["spec"][0]["params"][0]["curve"]  # nor does accepting curves
    path.with_suffix(".json").write_text(json.dumps(info))
    assert np.allclose(BlindEstimator.load(path).predict_q(y, SR), est.predict_q(y, SR), atol=1e-6)
    info["spec"][0]["params"][0]["max"] = 99.0  # as if the gain range had changed since training
    path.with_suffix(".json").write_text(json.dumps(info))
    with pytest.raises(DrywetError, match="trained for other effect specs"):
        BlindEstimator.load(path)


def test_fine_tuning_starts_from_saved_weights_and_keeps_the_best(tmp_path, crops):
    first = TrainConfig("gain", encoder="te", mode="param", steps=30, batch=8, lr=3e-3, sample_rate=SR, crop_s=0.5, hidden=(32,), valid_every=10)
    path = train(first, crops, crops, log=lambda m: None).save(tmp_path / "start")
    # lr 0: the fine-tuned weights are the saved ones (only BatchNorm's running statistics move)
    still = TrainConfig("gain", encoder="te", mode="audio", steps=2, batch=4, lr=0.0, sample_rate=SR, crop_s=0.5,
                        hidden=(32,), valid_every=1, init=str(path))
    est = train(still, crops, crops, log=lambda m: None)
    saved = dict(BlindEstimator.load(path).network.named_parameters())
    assert all(torch.equal(p, saved[name]) for name, p in est.network.named_parameters())
    assert est.meta["init"]["path"] == str(path) and est.meta["init"]["steps"] == 30 and all("valid_logmel" in h for h in still.history)
    # keep_best: a destructive learning rate ends with the best validated weights, not the last
    wild = TrainConfig("gain", encoder="te", mode="param", steps=6, batch=4, lr=10.0, sample_rate=SR, crop_s=0.5,
                       hidden=(32,), valid_every=1, init=str(path), keep_best=True)
    est = train(wild, crops, crops, log=lambda m: None)
    scores = [h["valid_mse_q"] for h in wild.history]
    assert est.meta["best_valid"] == min(scores)
    _, yv, q = render_batch(est.chain, crops, np.random.default_rng(12345), 64)  # the validation batch
    with torch.no_grad():
        mse = float(torch.mean((est.network(torch.from_numpy(yv)) - torch.from_numpy(q)) ** 2))
    assert mse == pytest.approx(min(scores), rel=1e-5)
    # max_seconds: stops after the first validation past the limit and says so in the metadata
    short = TrainConfig("gain", encoder="te", mode="param", steps=50, batch=4, sample_rate=SR, crop_s=0.5,
                        hidden=(32,), valid_every=2, init=str(path), keep_best=True, max_seconds=0.0)
    est = train(short, crops, crops, log=lambda m: None)
    assert [h["step"] for h in short.history] == [2] and est.meta["stopped_at_step"] == 2
    with pytest.raises(DrywetError, match="not the network this config trains"):
        train(TrainConfig("gain", encoder="tfe", steps=1, batch=4, sample_rate=SR, crop_s=0.5, hidden=(32,), init=str(path)),
              crops, None, log=lambda m: None)


def test_weight_average_is_the_exponential_moving_average_and_is_what_training_returns(crops):
    from drywet.training import WeightAverage as _WeightAverage

    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    w0 = net[0].weight.detach().clone()
    average = _WeightAverage(net, 0.9)
    with torch.no_grad():
        net[0].weight.add_(1.0)
        net[1].running_mean.fill_(5.0)
    average.update(net)
    torch.testing.assert_close(average.state["0.weight"], 0.9 * w0 + 0.1 * (w0 + 1.0))
    assert torch.equal(average.state["1.running_mean"], torch.full((2,), 5.0))  # buffers are copied, not averaged
    # the validation scores are those of the averaged weights, and the averaged weights are returned
    config = TrainConfig("gain", encoder="te", mode="param", steps=6, batch=4, lr=3e-3, sample_rate=SR, crop_s=0.5,
                         hidden=(32,), valid_every=3, ema=0.5)
    est = train(config, crops, crops, log=lambda m: None)
    _, yv, q = render_batch(est.chain, crops, np.random.default_rng(12345), 64)
    with torch.no_grad():
        mse = float(torch.mean((est.network(torch.from_numpy(yv)) - torch.from_numpy(q)) ** 2))
    assert mse == pytest.approx(config.history[-1]["valid_mse_q"], rel=1e-5) and est.meta["ema"] == 0.5
    raw = train(TrainConfig("gain", encoder="te", mode="param", steps=6, batch=4, lr=3e-3, sample_rate=SR, crop_s=0.5,
                            hidden=(32,), valid_every=3), crops, None, log=lambda m: None)
    assert not torch.equal(raw.network.head.mlp[0].weight, est.network.head.mlp[0].weight)  # same seed, not averaged
    with pytest.raises(DrywetError, match="moving average"):
        train(TrainConfig("gain", steps=1, ema=1.0), crops, None, log=lambda m: None)


def test_bad_input_is_refused_and_short_clips_are_padded(crops):
    config = TrainConfig("gain", encoder="tfe", steps=1, batch=4, sample_rate=SR, crop_s=0.5, hidden=(8,))
    est = train(config, crops, None, log=lambda m: None)
    with pytest.raises(AudioError, match="silent"):
        est.predict_q(np.zeros((1, SR), np.float32), SR)
    with pytest.raises(AudioError, match="DC"):
        est.predict_q(np.full((1, SR), 0.5, np.float32), SR)
    with pytest.warns(UserWarning, match="unreliable"):  # padded, with a warning
        q = est.predict_q(0.1 * np.random.default_rng(0).standard_normal((2, 100)).astype(np.float32), 44100)
    assert q.shape == (1,) and np.all(np.isfinite(q))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # half a window or more: no warning
        est.predict_q(0.1 * np.random.default_rng(0).standard_normal((1, SR // 4)).astype(np.float32), SR)


def test_mixture_crops_sum_different_recordings_and_stay_peak_normalized():
    t = np.arange(2 * SR) / SR
    tones = [np.sin(2 * np.pi * f * t) for f in (200.0, 2000.0)]  # two "recordings" told apart by frequency

    def content(crop):
        spectrum = np.abs(np.fft.rfft(crop[0]))
        return spectrum[100] > 0.01 * spectrum.max(), spectrum[1000] > 0.01 * spectrum.max()  # bins of 200 / 2000 Hz

    rng = np.random.default_rng(0)
    mixed = MusicCrops.from_signals(tones, sample_rate=SR, crop_samples=SR // 2, mix=1.0)
    for _ in range(10):
        crop = mixed.sample(rng)
        assert content(crop) == (True, True) and np.isclose(np.abs(crop).max(), 1.0)
    single = MusicCrops.from_signals(tones, sample_rate=SR, crop_samples=SR // 2)
    assert all(sum(content(single.sample(rng))) == 1 for _ in range(10))
    with pytest.raises(DrywetError, match="probability"):
        MusicCrops.from_signals(tones, sample_rate=SR, crop_samples=SR // 2, mix=1.5)


def test_render_batch_labels_match_the_rendered_audio(crops):
    chain = Chain.from_names("clipper")
    x, y, q = render_batch(chain, crops, np.random.default_rng(0), 3)
    for i in range(3):
        assert np.allclose(chain.with_q(q[i].astype(np.float64))(x[i], sample_rate=SR), y[i], atol=1e-5)


@pytest.mark.parametrize("for_inversion", [False, True])
@pytest.mark.parametrize("setting", list(SETTINGS))
def test_shipped_estimators_load_and_estimate_finite_parameters(setting, for_inversion):
    est = bundled_estimator(setting, for_inversion=for_inversion)
    x, sr = io.bundled_example()
    chain = est.estimate(x[:, : 3 * sr], sample_rate=sr)
    assert [s.effect.name for s in chain.stages] == SETTINGS[setting].split(",")
    assert np.all(np.isfinite(chain.to_q())) and np.all((chain.to_q() >= 0) & (chain.to_q() <= 1))


def test_weights_for_inversion_are_their_own_where_listed_and_the_same_elsewhere():
    x, sr = io.bundled_example()
    clip = x[:, : 3 * sr]
    for setting in SETTINGS:
        resynthesis, inversion = bundled_estimator(setting), bundled_estimator(setting, for_inversion=True)
        assert inversion.chain.param_names == resynthesis.chain.param_names
        same = np.array_equal(resynthesis.estimate(clip, sample_rate=sr).to_q(), inversion.estimate(clip, sample_rate=sr).to_q())
        assert same == (setting not in FOR_INVERSION), setting
        assert inversion.meta.get("mode") == ("audio+stages" if setting in FOR_INVERSION else resynthesis.meta.get("mode"))


def test_clipped_to_death_input_gives_finite_parameters_in_range():
    x, sr = io.bundled_example()
    dead = 0.9 * np.sign(x[:, 4 * sr : 6 * sr]).astype(np.float32)  # a square wave of two levels
    for setting in ("chain", "clipper"):
        for for_inversion in (False, True):
            q = bundled_estimator(setting, for_inversion=for_inversion).estimate(dead, sample_rate=sr).to_q()
            assert np.all(np.isfinite(q)) and np.all((q >= 0) & (q <= 1)), setting
