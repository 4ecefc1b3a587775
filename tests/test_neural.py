"""Neural proxies and device models: architecture contracts, storage, training, shipped proxy."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from conftest import shared

from drywet.chain import Chain
from drywet.errors import DrywetError, ParameterError
from drywet.datasets import MusicCrops
from drywet.nn import TCN, WaveUNet, run_padded
from drywet.neural.proxy import Proxy, bundled_proxy
from drywet.neural.train import ProxyConfig, train_proxy


def test_tcn_receptive_field_is_exact_and_causality_holds():
    torch.manual_seed(0)
    for causal in (False, True):
        net = TCN(3, channels=4, blocks=4, kernel=3, dilation_growth=2, causal=causal)
        assert net.receptive_field == 1 + 2 * (1 + 2 + 4 + 8)
        x = torch.randn(1, 1, 200)
        q = torch.rand(1, 3)
        y = net(x, q)
        assert y.shape[-1] == 200 - net.valid_margin
        # same-length use: a change at input k reaches outputs k..k+RF-1 (causal) or k-RF/2..k+RF/2
        k, half = 100, net.receptive_field // 2
        x2 = x.clone()
        x2[..., k] += 1.0
        changed = torch.nonzero((run_padded(net, x2, q) - run_padded(net, x, q)).abs().squeeze() > 0).squeeze()
        lo, hi = (k, k + net.receptive_field - 1) if causal else (k - half, k + half)
        assert int(changed.min()) == lo and int(changed.max()) == hi


def test_film_conditions_and_gain_output_starts_at_identity():
    torch.manual_seed(0)
    net = TCN(2, channels=4, blocks=3, output="gain")
    x = torch.randn(2, 1, 500)
    y = run_padded(net, x, torch.rand(2, 2))
    assert y.shape == x.shape
    torch.testing.assert_close(y, x, atol=0.05, rtol=0.2)  # ~0 dB before training
    for p in net.cond.parameters():
        torch.nn.init.normal_(p)
    for block in net.blocks:
        torch.nn.init.normal_(block.film.proj.weight)
    a, b = run_padded(net, x[:1], torch.zeros(1, 2)), run_padded(net, x[:1], torch.ones(1, 2))
    assert (a - b).abs().max() > 1e-3  # q changes the output


def test_wave_unet_keeps_length_and_gets_gradients():
    net = WaveUNet(3, channels=4, depth=3, output="signal")
    for n in (1, 999, 4097):
        x = torch.randn(2, 1, n, requires_grad=True)
        q = torch.rand(2, 3, requires_grad=True)
        y = net(x, q)
        assert y.shape == x.shape
    y.pow(2).mean().backward()
    assert torch.isfinite(q.grad).all() and torch.isfinite(x.grad).all()


def test_proxy_save_load_round_trip_and_spec_check(tmp_path):
    proxy = Proxy.build(Chain.from_names("compressor"), sample_rate=22050, channels=4, blocks=3)
    path = proxy.save(tmp_path / "p")
    loaded = Proxy.load(path)
    x = torch.randn(1, 2, 3000)
    q = torch.rand(1, 6)
    torch.testing.assert_close(loaded(x, q, sample_rate=22050), proxy(x, q, sample_rate=22050))
    info = json.loads(path.with_suffix(".json").read_text())
    info["spec"][0]["params"][0]["max"] = 3.0
    path.with_suffix(".json").write_text(json.dumps(info))
    with pytest.raises(DrywetError, match="other effect specs"):
        Proxy.load(path)
    with pytest.raises(DrywetError, match="weights not found"):
        Proxy.load(tmp_path / "absent")
    with pytest.raises(ParameterError, match="trained at 22050"):
        proxy(x, q, sample_rate=44100)
    with pytest.raises(ParameterError, match=r"shape \(1, 6\)"):
        proxy(x, torch.rand(1, 5), sample_rate=22050)
    with pytest.raises(ParameterError, match="no bundled proxy"):
        bundled_proxy("vocoder")


def test_shipped_compressor_proxy_matches_the_dsp_on_unseen_music():
    """The bundled proxy against drywet's compressor on Brahms (test split, never trained on)."""
    from drywet import io
    from drywet.neural.evaluate import evaluate_proxy

    proxy = bundled_proxy("compressor")
    x, _ = io.read_audio(shared("music/brahms_hungarian_dance_5.ogg"), sample_rate=proxy.sample_rate, channels=1)
    crops = MusicCrops.from_signals([x[0]], sample_rate=proxy.sample_rate, crop_samples=proxy.sample_rate * 2)
    metrics = evaluate_proxy(proxy, crops, items=8, seed=3)
    assert metrics["mae"] < 0.015 and metrics["esr"] < 0.01  # measured: MAE 0.0058, ESR 0.0019 over 48 items
    y = proxy.process(x[:, :22050], sample_rate=proxy.sample_rate, threshold_db=-30.0, ratio=8.0)
    assert y.shape == (1, 22050) and np.sqrt(np.mean(y**2)) < np.sqrt(np.mean(x[:, :22050] ** 2))


def test_proxy_training_learns_on_real_music(music):
    """A few CPU steps must already beat the untrained proxy (loss measured on held-out draws)."""
    from drywet.neural.evaluate import evaluate_proxy

    x, sr = music
    from drywet import io

    mono = io.resample(x.mean(axis=0, keepdims=True), sr, 8000)[0]
    config = ProxyConfig(effects="gain", output="signal", channels=4, blocks=3, kernel=3, sample_rate=8000, output_s=0.2,
                         steps=150, batch=8, lr=1e-2, mrstft_weight=0.0, valid_every=1000)
    crops = MusicCrops.from_signals([mono], sample_rate=8000, crop_samples=2000)
    untrained = Proxy.build(Chain.from_names("gain"), sample_rate=8000, **config.network_config())
    before = evaluate_proxy(untrained, crops, items=8, seed=5)["mae"]
    proxy = train_proxy(config, crops, log=lambda *_: None)
    after = evaluate_proxy(proxy, crops, items=8, seed=5)["mae"]
    assert after < 0.5 * before
    with pytest.raises(DrywetError, match="crops are at"):
        train_proxy(ProxyConfig(sample_rate=22050), crops)


def test_fine_tuning_continues_a_saved_proxy_and_keeps_the_best_weights(music, tmp_path):
    from drywet import io

    x, sr = music
    mono = io.resample(x.mean(axis=0, keepdims=True), sr, 8000)[0]
    crops = MusicCrops.from_signals([mono[: len(mono) // 2]], sample_rate=8000, crop_samples=2000)
    valid = MusicCrops.from_signals([mono[len(mono) // 2 :]], sample_rate=8000, crop_samples=2000)
    base = dict(effects="gain", output="signal", channels=4, blocks=3, kernel=3, sample_rate=8000, output_s=0.2, batch=8,
                lr=1e-2, mrstft_weight=0.0)
    first = train_proxy(ProxyConfig(steps=6, valid_every=2, **base), crops, valid, log=lambda *_: None)
    maes = [h["valid_mae"] for h in first.meta["history"]]
    assert first.meta["best_valid_mae"] == min(maes)  # the returned weights are the best validated ones
    path = first.save(tmp_path / "first")
    second = train_proxy(ProxyConfig(steps=4, valid_every=2, init=str(path), **base), crops, valid, log=lambda *_: None)
    assert second.meta["init"] == {"path": str(path), "steps": 6}
    # it starts from the saved weights: its first validation is no worse than where the first run ended
    assert second.meta["history"][0]["valid_mae"] <= 1.5 * min(maes)
    with pytest.raises(DrywetError, match="cannot fine-tune.*channels"):
        train_proxy(ProxyConfig(steps=1, init=str(path), **{**base, "channels": 2}), crops, log=lambda *_: None)


def test_device_model_fits_a_real_black_box_pair(tmp_path):
    """The linear 'black box' applied to speech: a short fit already beats 'no model' on held-out audio."""
    from drywet.neural.device import DeviceConfig, fit_device, load_pairs

    root = shared("drywet/spatialaudio")
    pairs = load_pairs([(root / "xmas.flac", root / "xmas_blackbox.flac")], 8000)
    assert pairs[0].latency > 0
    config = DeviceConfig(sample_rate=8000, channels=4, blocks=6, kernel=3, output_s=0.25, steps=60, batch=4, lr=1e-2)
    _, report = fit_device(pairs, config, log=lambda *_: None)
    m = report["xmas -> xmas_blackbox"]
    assert m["model"]["esr"] < 0.5 * m["dry"]["esr"]
    with pytest.raises(DrywetError, match="causal"):
        fit_device(pairs, DeviceConfig(causal=False))


def test_device_pairs_at_a_lower_rate_than_the_model_warn(tmp_path):
    """A wet recorded at 8 kHz for a 16 kHz model has an empty top band the model would learn."""
    import soundfile as sf

    from drywet.neural.device import load_pairs

    rng = np.random.default_rng(0)
    dry = rng.standard_normal(16000).astype(np.float32) * 0.1
    sf.write(tmp_path / "a.wav", dry, 16000)
    sf.write(tmp_path / "a_low.wav", dry[::2], 8000)
    sf.write(tmp_path / "a_same.wav", dry, 16000)
    with pytest.warns(UserWarning, match=r"a_low.wav is at 8000 Hz.*--sample-rate 8000"):
        pairs = load_pairs([(tmp_path / "a.wav", tmp_path / "a_low.wav")], 16000)
    assert pairs[0].dry.size == pairs[0].wet.size
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same rate, or a model at the lower rate: no warning
        load_pairs([(tmp_path / "a.wav", tmp_path / "a_same.wav")], 16000)
        load_pairs([(tmp_path / "a.wav", tmp_path / "a_low.wav")], 8000)


def test_cli_proxy_and_model(tmp_path, capsys):
    from drywet.cli import main

    music_dir = shared("music")
    assert main(["proxy", "eval", "compressor", "--data", str(music_dir), "--items", "2", "--seconds", "1"]) == 0
    assert "MR-STFT" in capsys.readouterr().out
    out = tmp_path / "tiny"
    assert main(["proxy", "train", "--effect", "gain", "--data", str(music_dir), "-o", str(out), "--steps", "2", "--channels", "2",
                 "--blocks", "2", "--sample-rate", "8000", "--batch", "2"]) == 0
    assert out.with_suffix(".safetensors").is_file()
    assert main(["proxy", "train", "--effect", "gain", "--data", str(music_dir), "-o", str(out), "--steps", "2"]) == 2
    assert "exists" in capsys.readouterr().err
    tuned = tmp_path / "tuned"  # fine-tuning takes the network settings from the saved proxy
    assert main(["proxy", "train", "--init", str(out.with_suffix(".safetensors")), "--data", str(music_dir), "-o", str(tuned),
                 "--steps", "2", "--batch", "2", "--lr", "1e-4"]) == 0
    tuned_proxy = Proxy.load(tuned.with_suffix(".safetensors"))
    assert tuned_proxy.config == Proxy.load(out.with_suffix(".safetensors")).config and tuned_proxy.meta["init"]["steps"] == 2
    assert main(["proxy", "train", "--data", str(music_dir), "-o", str(tmp_path / "none")]) == 2
    assert "--effect" in capsys.readouterr().err
    dry, wet = tmp_path / "dry", tmp_path / "wet"
    dry.mkdir(), wet.mkdir()
    root = shared("drywet/spatialaudio")
    (dry / "xmas.flac").write_bytes((root / "xmas.flac").read_bytes())
    (wet / "xmas_box.flac").write_bytes((root / "xmas_blackbox.flac").read_bytes())
    model = tmp_path / "box"
    assert main(["model", "fit", "--dry", str(dry), "--wet", str(wet), "-o", str(model), "--steps", "3", "--sample-rate", "8000",
                 "--channels", "2", "--blocks", "4"]) == 0
    assert "held-out" in capsys.readouterr().out
    assert main(["model", "apply", str(model), str(root / "xmas.flac"), "-o", str(tmp_path / "y.wav")]) == 0
    from drywet import io

    (x, rate), (y, out_rate) = io.read_audio(root / "xmas.flac"), io.read_audio(tmp_path / "y.wav")
    assert out_rate == rate != 8000 and abs(y.shape[-1] - x.shape[-1]) <= 1  # back at the input's rate and length
    assert main(["model", "fit", "--dry", str(wet), "--wet", str(dry), "-o", str(tmp_path / "z")]) == 2


def test_proxy_training_skips_and_reports_black_box_failures(music):
    """A black box that fails on part of its range must not crash a training run."""
    from drywet import io
    from drywet.blackbox import black_box
    from drywet.registry import EFFECTS, register_effect
    from drywet.spec import Param

    def flaky(x, sample_rate, params):
        return x * np.nan if params["gain_db"] > 6.0 else x * 10 ** (params["gain_db"] / 20)

    register_effect(black_box(flaky, [Param("gain_db", "dB", -12.0, 12.0, 0.0)], name="flaky_gain"))
    try:
        x, sr = music
        mono = io.resample(x.mean(axis=0, keepdims=True), sr, 8000)[0]
        crops = MusicCrops.from_signals([mono], sample_rate=8000, crop_samples=2000)
        config = ProxyConfig(effects="flaky_gain", output="signal", channels=2, blocks=2, kernel=3, sample_rate=8000,
                             output_s=0.2, steps=5, batch=8, valid_every=1000)
        proxy = train_proxy(config, crops, log=lambda *_: None)
        assert proxy.meta["skipped_items"] > 0  # about a quarter of the draws
    finally:
        EFFECTS.pop("flaky_gain", None)


def test_restorer_learns_the_inverse_and_remembers_its_direction(music, tmp_path):
    """wet -> dry training (inverse=True) with the residual head starts at the identity and learns
    to undo a gain better than leaving the input as is."""
    from drywet import io

    x, sr = music
    mono = io.resample(x.mean(axis=0, keepdims=True), sr, 8000)[0]
    crops = MusicCrops.from_signals([mono], sample_rate=8000, crop_samples=2000)
    config = ProxyConfig(effects="gain", inverse=True, output="residual", channels=4, blocks=3, kernel=3, sample_rate=8000,
                         output_s=0.2, steps=150, batch=8, lr=1e-2, mrstft_weight=0.0, valid_every=1000, augment=0.0)
    untrained = Proxy.build(Chain.from_names("gain"), sample_rate=8000, **config.network_config())
    x_in = torch.from_numpy(mono[None, None, 4000:6000].copy())
    torch.testing.assert_close(untrained(x_in, torch.full((1, 1), 0.3), sample_rate=8000), x_in)  # identity at start
    restorer = train_proxy(config, crops, log=lambda *_: None)
    assert restorer.direction == "inverse"
    gain = Chain.from_names("gain")
    rng = np.random.default_rng(0)
    errors_in, errors_out = [], []
    for _ in range(6):
        q = rng.uniform(0, 1, 1)
        dry = crops.sample(rng)
        wet = gain.with_q(q)(dry, sample_rate=8000)
        with torch.no_grad():
            restored = restorer(torch.from_numpy(wet), torch.from_numpy(q[None].astype(np.float32)), sample_rate=8000).numpy()
        errors_in.append(np.abs(wet - dry).mean())
        errors_out.append(np.abs(restored - dry).mean())
    assert np.mean(errors_out) < 0.5 * np.mean(errors_in)
    assert Proxy.load(restorer.save(tmp_path / "r")).direction == "inverse"


def test_log_l1_loss_weighs_every_item_by_its_own_error_scale(music):
    """log_l1 = mean over items of log(mean |error|): its gradient per item is that of the error in
    dB, so an item 100x cleaner pulls exactly 100x harder per sample than under plain L1."""
    from drywet.neural.train import LOG_L1_FLOOR, _waveform_loss

    rng = np.random.default_rng(0)
    y = torch.from_numpy(rng.standard_normal((2, 1, 400)))
    y_hat = (y + torch.from_numpy(rng.standard_normal((2, 1, 400))) * torch.tensor([1.0, 0.01])[:, None, None]).requires_grad_()
    err = (y_hat - y).abs().mean(dim=(1, 2)).detach()
    loss = _waveform_loss("log_l1", y_hat, y)
    assert float(loss.detach()) == pytest.approx(float(torch.log(err + LOG_L1_FLOOR).mean()), rel=1e-12)
    loss.backward()
    per_item = y_hat.grad.abs().mean(dim=(1, 2))
    assert float(per_item[1] / per_item[0]) == pytest.approx(float(err[0] + LOG_L1_FLOOR) / float(err[1] + LOG_L1_FLOOR), rel=1e-9)
    with torch.no_grad():
        assert float(_waveform_loss("l1", y_hat, y)) == pytest.approx(float((y_hat - y).abs().mean()), rel=1e-12)
    x, sr = music
    crops = MusicCrops.from_signals([x.mean(axis=0)], sample_rate=sr, crop_samples=4000)
    with pytest.raises(DrywetError, match="loss must be one of"):
        train_proxy(ProxyConfig(effects="gain", loss="l2", sample_rate=sr), crops, log=lambda *_: None)
    config = ProxyConfig(effects="gain", inverse=True, output="residual", channels=4, blocks=3, kernel=3, sample_rate=sr,
                         output_s=0.05, steps=3, batch=4, loss="log_l1", valid_every=1000, augment=0.0)
    restorer = train_proxy(config, crops, log=lambda *_: None)
    assert restorer.meta["training"]["loss"] == "log_l1" and restorer.meta["steps"] == 3
    with torch.no_grad():
        out = restorer(torch.from_numpy(x[:1, :4000].copy()), torch.full((1, 1), 0.5), sample_rate=sr)
    assert torch.isfinite(out).all()
