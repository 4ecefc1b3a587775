"""Metrics against closed forms, pyloudnorm and the BS.1770 / EBU conformance signals."""

import math

import numpy as np
import pytest
import torch
from conftest import shared

from drywet import AudioError, io, metrics
from drywet.metrics import loudness
from drywet.metrics.spectral import mel_filterbank, mel_to_hz

SR = 48000


# -- loudness ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, expected",
    [("bs1770/1770-2_Comp_AbsGateTest.flac", -69.5), ("bs1770/1770-2_Comp_RelGateTest.flac", -10.0),
     ("ebu/1kHz Sine -20 LUFS-16bit.flac", -20.0), ("ebu/1kHz Sine -26 LUFS-16bit.flac", -26.0),
     ("ebu/1kHz Sine -40 LUFS-16bit.flac", -40.0), ("ebu/seq-3341-1-16bit.flac", -23.0),
     ("ebu/seq-3341-2-16bit.flac", -33.0)],
)
def test_integrated_loudness_conformance(name, expected):
    x, sr = io.read_audio(shared("reference") / name)
    assert metrics.integrated_loudness(x, sample_rate=sr) == pytest.approx(expected, abs=0.1)


def test_momentary_and_short_term_of_tech_3341():
    x, sr = io.read_audio(shared("reference/ebu/seq-3341-1-16bit.flac"))  # cases 1: M, S = -23
    assert np.allclose(metrics.momentary_loudness(x, sample_rate=sr), -23.0, atol=0.1)
    assert np.allclose(metrics.short_term_loudness(x, sample_rate=sr), -23.0, atol=0.1)
    x, sr = io.read_audio(shared("reference/ebu/seq-3341-12-24bit.flac"))  # case 12: M constant after 1 s
    m = metrics.momentary_loudness(x, sample_rate=sr, hop_s=0.01)
    assert np.allclose(m[int((1.0 - 0.4) / 0.01) :], -23.0, atol=0.1)
    for case in ("seq-3341-10-1-24bit.flac", "seq-3341-10-2-24bit.flac"):  # case 10: max S = -23
        x, sr = io.read_audio(shared("reference/ebu") / case)
        assert metrics.short_term_loudness(x, sample_rate=sr).max() == pytest.approx(-23.0, abs=0.1)
    for case in ("seq-3341-13-1-24bit.flac", "seq-3341-13-2-24bit.flac"):  # case 13: max M = -23
        x, sr = io.read_audio(shared("reference/ebu") / case)
        assert metrics.momentary_loudness(x, sample_rate=sr).max() == pytest.approx(-23.0, abs=0.1)


def tone_sequence(levels_dbfs, seconds=20.0, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    mono = np.concatenate([10 ** (lv / 20) * np.sin(2 * np.pi * 1000 * t) for lv in levels_dbfs])
    return np.stack([mono, mono])


@pytest.mark.parametrize(
    "levels, expected",
    [((-20, -30), 10), ((-20, -15), 5), ((-40, -20), 20), ((-50, -35, -20, -35, -50), 15)],
)
def test_loudness_range_tech_3342_cases(levels, expected):
    assert metrics.loudness_range(tone_sequence(levels), sample_rate=SR) == pytest.approx(expected, abs=1.0)


def test_tech_3341_case_3_to_5_integrated_from_generated_tones():
    for levels, durations in [((-36, -23, -36), (10, 60, 10)), ((-72, -36, -23, -36, -72), (10, 10, 60, 10, 10)),
                              ((-26, -20, -26), (20, 20.1, 20))]:
        parts = [tone_sequence([lv], d) for lv, d in zip(levels, durations)]
        x = np.concatenate(parts, axis=1)
        assert metrics.integrated_loudness(x, sample_rate=SR) == pytest.approx(-23.0, abs=0.1)


def test_integrated_loudness_agrees_with_pyloudnorm_on_music(music):
    pyln = pytest.importorskip("pyloudnorm")
    x, sr = music
    ref = pyln.Meter(sr).integrated_loudness(x.T.astype(np.float64))
    # pyloudnorm designs its K-weighting slightly differently (0.04 dB at 1 kHz)
    assert metrics.integrated_loudness(x, sample_rate=sr) == pytest.approx(ref, abs=0.1)


def test_k_weighting_reproduces_the_48k_coefficients_of_bs1770():
    sos = loudness.k_weighting_sos(48000)
    assert np.allclose(sos[0], [1.53512485958697, -2.69169618940638, 1.19839281085285, 1, -1.69065929318241, 0.73248077421585], atol=1e-10)
    assert np.allclose(sos[1], [1, -2, 1, 1, -1.99004745483398, 0.99007225036621], atol=1e-10)


def test_loudness_bad_input():
    with pytest.raises(AudioError, match="400 ms"):
        metrics.integrated_loudness(np.zeros((1, 100)), sample_rate=SR)
    assert metrics.integrated_loudness(np.zeros((2, SR)), sample_rate=SR) == -math.inf
    with pytest.raises(AudioError, match="channels"):
        metrics.integrated_loudness(np.zeros((4, SR)), sample_rate=SR)


# -- waveform metrics: closed forms ---------------------------------------------------------
def test_si_sdr_esr_mae_closed_forms():
    rng = np.random.default_rng(0)
    t = rng.standard_normal((1, 1, 48000))
    noise = rng.standard_normal((1, 1, 48000))
    noise -= (noise * t).sum() / (t * t).sum() * t  # orthogonal to t
    noise *= np.sqrt((t**2).sum() / (noise**2).sum()) * 10 ** (-20 / 20)  # 20 dB below
    e = 0.5 * t + 0.5 * noise  # the scale must not matter
    assert float(metrics.si_sdr(torch.tensor(t), torch.tensor(e))) == pytest.approx(20.0, abs=1e-6)
    assert float(metrics.esr(torch.tensor(t), torch.tensor(0.9 * t))) == pytest.approx(0.01, rel=1e-9)
    assert float(metrics.mae(torch.tensor(t), torch.tensor(t + 0.25))) == pytest.approx(0.25)


def test_identical_inputs_give_zero_distance(music):
    x, sr = music
    xt = torch.tensor(x, dtype=torch.float64)
    for name, (fn, needs_sr, _, better) in metrics.METRICS.items():
        if better == "lower":
            value = float(fn(xt, xt, sample_rate=sr) if needs_sr else fn(xt, xt))
            assert value == pytest.approx(0.0, abs=1e-6), name


def test_rms_and_crest_factor_errors():
    t = torch.tensor(np.sin(np.linspace(0, 200 * np.pi, 48000)))[None, None]
    assert float(metrics.rms_error_db(t, 0.5 * t)) == pytest.approx(20 * math.log10(2), abs=1e-6)
    sq = torch.sign(t)
    assert float(metrics.crest_factor_error_db(t, sq)) == pytest.approx(10 * math.log10(2), abs=0.01)


def test_mel_filterbank_peaks_at_band_centers():
    fb = mel_filterbank(2048, 40, 16000)
    centers = mel_to_hz(np.linspace(0, float(np.asarray(__import__("drywet.metrics.spectral", fromlist=["hz_to_mel"]).hz_to_mel(8000))), 42))[1:-1]
    bins = np.linspace(0, 8000, 1025)
    peak_freqs = bins[fb.argmax(axis=1)]
    assert np.all(np.abs(peak_freqs - centers) <= 8000 / 1024)


def test_mrstft_against_auraloss():
    auraloss = pytest.importorskip("auraloss")
    rng = np.random.default_rng(1)
    t = torch.tensor(rng.standard_normal((2, 1, 16000)), dtype=torch.float32)
    e = t + 0.3 * torch.tensor(rng.standard_normal((2, 1, 16000)), dtype=torch.float32)
    ref = auraloss.freq.MultiResolutionSTFTLoss(w_sc=1.0, w_log_mag=1.0, w_lin_mag=0.0)(e, t)
    ours = metrics.mrstft(t, e)
    assert float(ours) == pytest.approx(float(ref), rel=0.05)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("samples", [300, 9000])
def test_fused_mrstft_matches_torch_graph(dtype, samples):
    """The fused CPU path (one autograd node per resolution) against the plain torch graph:
    same value and gradient, also on silent stretches, a silent estimate row and a silent target
    row, and on signals shorter than half a frame (zero-padded)."""
    rng = np.random.default_rng(4)
    x = torch.tensor(0.1 * rng.standard_normal((3, 2, samples)), dtype=dtype)
    x[0, 0, : samples // 3] = 0
    x[2, 1] = 0
    t = x.roll(7, -1) + 0.01 * torch.tensor(rng.standard_normal(x.shape), dtype=dtype)
    t[1, 0] = 0
    results = []
    for fused in (True, False):
        e = x.clone().requires_grad_()
        value = metrics.losses.mrstft_per_item(t, e, fused=fused)
        value.sum().backward()
        results.append((value.detach(), e.grad))
    (v_fused, g_fused), (v_ref, g_ref) = results
    tol = 1e-9 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(v_fused, v_ref, rtol=tol, atol=tol)
    torch.testing.assert_close(g_fused, g_ref, rtol=tol * 10, atol=tol * float(g_ref.abs().max()))
    with torch.no_grad():  # no gradient wanted: the fused path skips it and gives the same value
        torch.testing.assert_close(metrics.losses.mrstft_per_item(t, x), v_ref, rtol=tol, atol=tol)


def test_mrstft_gradient_reaches_a_target_that_needs_one():
    t = torch.randn(1, 1, 4000, dtype=torch.float64, requires_grad=True)
    e = torch.randn(1, 1, 4000, dtype=torch.float64)
    metrics.mrstft(t, e).backward()  # the fused path treats the target as constant: falls back to the graph
    assert t.grad is not None and t.grad.abs().sum() > 0
    with pytest.raises(AudioError, match="fused=False"):
        metrics.losses.mrstft_per_item(t, e, fused=True)


LOSSES = ["esr", "si_sdr_db", "logmel_l1", "mrstft", "stereo_mrstft", "mcd_db", "spectral_centroid_error_hz", "mae"]


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("case", ["silence", "identical"])
def test_losses_are_finite_with_finite_gradients(name, case):
    fn, needs_sr, _, _ = metrics.METRICS[name]
    rng = np.random.default_rng(2)
    t = torch.zeros(1, 2, 4096, dtype=torch.float64) if case == "silence" else torch.tensor(rng.standard_normal((1, 2, 4096)))
    e = t.clone().requires_grad_()
    value = fn(t, e, sample_rate=16000) if needs_sr else fn(t, e)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(e.grad).all()


@pytest.mark.parametrize("name", ["esr", "si_sdr_db", "logmel_l1", "mrstft", "stereo_mrstft", "mcd_db", "mae", "rms_error_db",
                                  "spectral_centroid_error_hz"])
def test_gradcheck_losses(name):
    fn, _, _, _ = metrics.METRICS[name]
    rng = np.random.default_rng(3)
    t = torch.tensor(rng.standard_normal((1, 2, 256)))
    e = torch.tensor(rng.standard_normal((1, 2, 256)), requires_grad=True)
    kw = {"sample_rate": 8000, "n_fft": 128, "hop": 32} if name in ("logmel_l1", "mcd_db") else {}
    if name == "logmel_l1":
        kw["n_mels"] = 8
    if name == "mcd_db":
        kw["n_mels"] = 12
    if name in ("mrstft", "stereo_mrstft"):
        kw = {"resolutions": ((64, 16, 64), (32, 8, 32))}
    if name == "spectral_centroid_error_hz":
        kw = {"sample_rate": 8000}
    assert torch.autograd.gradcheck(lambda z: fn(t, z, **kw), (e,), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_compute_all_and_shape_errors(music):
    x, sr = music
    table = metrics.compute_all(x, 0.5 * x, sample_rate=sr)
    assert table["rms_error_db"] == pytest.approx(20 * math.log10(2), abs=1e-3)
    assert table["si_sdr_db"] > 60
    with pytest.raises(AudioError, match="shapes differ"):
        metrics.mae(torch.zeros(1, 10), torch.zeros(1, 11))


def test_mcd_does_not_depend_on_playback_level(music):
    # c0 (energy) is dropped, so MCD must not change with a common gain: the log floor is
    # relative to each signal's loudest bin (an absolute floor made quiet audio look different).
    x, sr = music
    t = torch.tensor(x[None].astype(np.float64))
    noisy = t + 0.01 * torch.tensor(np.random.default_rng(0).standard_normal(t.shape))
    ref = float(metrics.mcd(t, noisy, sample_rate=sr))
    assert ref > 1.0
    for gain in (1e-2, 1e-4):
        assert float(metrics.mcd(gain * t, gain * noisy, sample_rate=sr)) == pytest.approx(ref, rel=1e-3)
        assert float(metrics.mcd(t, gain * t, sample_rate=sr)) < 1e-3
