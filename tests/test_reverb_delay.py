"""Reverbs and delay against scipy's convolution and an exact time-domain recursion."""

import numpy as np
import pytest
import torch
from scipy import signal

from drywet import AudioError, ParameterError, get_effect, io
from drywet.effects import reverb

SR = 44100


@pytest.fixture(scope="module")
def room_ir():
    ir, sr = io.read_audio(io.bundled_impulse_response_path())
    return ir, sr


def test_convolution_matches_scipy_fftconvolve(music, room_ir):
    x, sr = music
    ir, _ = room_ir
    y = get_effect("convolution_reverb")(x.astype(np.float64), sample_rate=sr, impulse_response=ir, length="full")
    ref = signal.fftconvolve(x.astype(np.float64), ir.astype(np.float64), axes=-1)
    assert y.shape == ref.shape
    assert np.max(np.abs(y - ref)) < 1e-9
    same = get_effect("convolution_reverb")(x, sample_rate=sr, impulse_response=ir)
    assert same.shape == x.shape


def test_convolution_predelay_mix_and_paths(music, room_ir):
    x, sr = music
    ir, _ = room_ir
    conv = get_effect("convolution_reverb")
    y = conv(x.astype(np.float64), sample_rate=sr, impulse_response=ir, pre_delay_ms=10.0, mix=0.25)
    d = int(round(0.010 * sr))
    wet = signal.fftconvolve(x.astype(np.float64), np.pad(ir, ((0, 0), (d, 0))), axes=-1)[:, : x.shape[1]]
    assert np.allclose(y, 0.75 * x + 0.25 * wet, atol=1e-6)
    by_path = conv(x, sample_rate=sr, impulse_response=str(io.bundled_impulse_response_path()))
    assert np.allclose(by_path, conv(x, sample_rate=sr, impulse_response=ir), atol=1e-6)
    with pytest.raises(ParameterError, match="impulse_response"):
        conv(x, sample_rate=sr)
    with pytest.raises(AudioError, match="channels"):
        conv(x, sample_rate=sr, impulse_response=np.ones((3, 10)))


def test_stereo_ir_on_mono_gives_stereo(room_ir):
    ir, sr = room_ir
    x = np.random.default_rng(0).standard_normal((1, 2000))
    y = get_effect("convolution_reverb")(x, sample_rate=sr, impulse_response=np.concatenate([ir, -ir]))
    assert y.shape == (2, 2000) and np.allclose(y[0], -y[1])


def test_convolution_torch_twin(music_short, room_ir):
    x, sr = music_short
    ir, _ = room_ir
    conv = get_effect("convolution_reverb")
    for pre, mix in [(0.0, 1.0), (3.3, 0.4), (47.9, 0.8)]:
        ref = conv(x.astype(np.float64), sample_rate=sr, impulse_response=ir, pre_delay_ms=pre, mix=mix)
        yt = conv(torch.tensor(x, dtype=torch.float64), sample_rate=sr, impulse_response=ir, pre_delay_ms=pre, mix=mix)
        assert np.max(np.abs(yt.numpy() - ref)) < 1e-9


@pytest.mark.parametrize("x_shape, ir_shape, out_len", [
    ((3, 1, 300), (3, 1, 40), 300),  # per-item FIR, output cropped (the FIR-mode EQ)
    ((2, 2, 250), (1, 2, 61), 310),  # one stereo IR for the batch, full linear convolution
    ((2, 1, 200), (2, 2, 33), 232),  # stereo IR on mono audio: the gradient sums over channels
])
def test_fft_convolution_node_matches_autograd(x_shape, ir_shape, out_len):
    """The hand-written backward of convolve_torch equals autograd through the FFTs
    (values and both gradients), and passes gradcheck in float64."""
    from drywet.dsp import convolve

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(x_shape, generator=gen, dtype=torch.float64, requires_grad=True)
    ir = torch.randn(ir_shape, generator=gen, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(max(x_shape[1], ir_shape[1]), out_len, generator=gen, dtype=torch.float64)

    def composed(a, b):
        n = convolve.fft_size(a.shape[-1] + b.shape[-1] - 1)
        return torch.fft.irfft(torch.fft.rfft(a, n=n) * torch.fft.rfft(b, n=n), n=n)[..., :out_len]

    y = convolve.convolve_torch(x, ir, out_len)
    y_ref = composed(x, ir)
    assert y.shape == y_ref.shape and torch.allclose(y, y_ref, atol=1e-12)
    direct = np.array([[np.convolve(x.detach()[b, c % x_shape[1]], ir.detach()[b % ir_shape[0], c % ir_shape[1]])[:out_len]
                        for c in range(y.shape[1])] for b in range(y.shape[0])])
    assert np.allclose(y.detach().numpy(), np.pad(direct, ((0, 0), (0, 0), (0, out_len - direct.shape[-1]))), atol=1e-10)
    grads = torch.autograd.grad((y * weight).sum(), (x, ir))
    grads_ref = torch.autograd.grad((y_ref * weight).sum(), (x, ir))
    for g, g_ref in zip(grads, grads_ref):
        assert g.shape == g_ref.shape and torch.allclose(g, g_ref, atol=1e-10)
    small_x, small_ir = x[..., :24].detach().requires_grad_(), ir[..., :7].detach().requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: convolve.convolve_torch(a, b, 27), (small_x, small_ir))
    only_ir = convolve.convolve_torch(x.detach(), ir, out_len)  # a signal without gradient: no x pass
    assert torch.allclose(torch.autograd.grad((only_ir * weight).sum(), ir)[0], grads_ref[1], atol=1e-10)


def schroeder_rt60(ir, sr):
    """RT60 from the Schroeder backward integral, fitted between -5 and -25 dB (T20 x 3)."""
    edc = np.cumsum(ir[::-1] ** 2)[::-1]
    edc_db = 10 * np.log10(edc / edc[0])
    i5, i25 = np.argmax(edc_db <= -5), np.argmax(edc_db <= -25)
    slope = (edc_db[i25] - edc_db[i5]) / ((i25 - i5) / sr)
    return -60.0 / slope


@pytest.mark.parametrize("rt60", [0.3, 1.0, 2.5])
def test_noise_reverb_decay_matches_rt60(rt60):
    spec = reverb.NOISE_REVERB
    params = {p.name: p.default for p in spec.params if p.name != "mix"}
    params.update({f"band{i}_decay_s": rt60 for i in range(reverb.NUM_NOISE_BANDS)})
    ir = reverb.noise_ir_numpy(params, 1, SR, seed=3, ir_len=int(4 * rt60 * SR))[0]
    assert schroeder_rt60(ir, SR) == pytest.approx(rt60, rel=0.1)
    assert np.sum(ir**2) == pytest.approx(1.0)


def test_noise_reverb_is_seeded_and_twin_matches(music_short):
    x, sr = music_short
    rev = get_effect("noise_reverb")
    p = rev.spec.sample(np.random.default_rng(2))
    a = rev(x, sample_rate=sr, seed=5, ir_length_s=1.0, **p)
    assert np.array_equal(a, rev(x, sample_rate=sr, seed=5, ir_length_s=1.0, **p))
    assert not np.allclose(a, rev(x, sample_rate=sr, seed=6, ir_length_s=1.0, **p))
    yt = rev(torch.tensor(x, dtype=torch.float64), sample_rate=sr, seed=5, ir_length_s=1.0, **p).numpy()
    assert np.max(np.abs(yt - rev(x.astype(np.float64), sample_rate=sr, seed=5, ir_length_s=1.0, **p))) < 1e-9


def recursive_delay_reference(x, d, feedback, mix, tone_hz, sr):
    """Time-domain recursion of the echo with a one-pole low-pass in the loop (integer d):
    e[n] = LP(x[n-d] + feedback * e[n-d])  ->  E(z) = LP z^-d X / (1 - feedback LP z^-d)."""
    p = np.exp(-2 * np.pi * tone_hz / sr)
    # LP(z) = (1-p) / (1 - p z^-1): E (1 - p z^-1 - feedback (1-p) z^-d) = (1-p) z^-d X
    b = np.zeros(d + 1)
    b[d] = 1 - p
    a = np.zeros(d + 1)
    a[0], a[1] = 1.0, -p
    a[d] += -feedback * (1 - p)
    return x + mix * signal.lfilter(b, a, x, axis=-1)


@pytest.mark.parametrize("time_ms, feedback, tone_hz", [(10.0, 0.9, 20000.0), (50.0, 0.5, 2000.0), (250.0, 0.7, 800.0)])
def test_delay_matches_exact_recursion(music, time_ms, feedback, tone_hz):
    x, sr = music
    x = x.astype(np.float64)
    d = time_ms * sr / 1000
    assert d == int(d)
    y = get_effect("delay")(x, sample_rate=sr, time_ms=time_ms, feedback=feedback, mix=0.6, tone_hz=tone_hz)
    ref = recursive_delay_reference(x, int(d), feedback, 0.6, tone_hz, sr)
    assert np.max(np.abs(y - ref)) < 1e-6


def test_delay_twin_and_mix_zero_identity(music_short):
    x, sr = music_short
    delay = get_effect("delay")
    assert np.allclose(delay(x, sample_rate=sr, mix=0.0), x)
    rng = np.random.default_rng(4)
    for _ in range(10):
        p = delay.spec.sample(rng)
        ref = delay(x.astype(np.float64), sample_rate=sr, **p)
        yt = delay(torch.tensor(x, dtype=torch.float64), sample_rate=sr, **p).numpy()
        assert np.max(np.abs(yt - ref)) < 1e-9


@pytest.mark.parametrize("source", ["speech", "drums"])
@pytest.mark.parametrize("room", ["council_s1r1_ch1", "arthur_s1r4_ch1"])
def test_convolution_reproduces_measured_reverb_pairs(source, room):
    """OpenAIR pairs: the wet files are the dry ones convolved with the 96 kHz hall IRs (and
    level-normalized). drywet's resampled convolution matches them to -45 dB or better
    after one gain match (the rest is the resampler used to make the files)."""
    from conftest import shared

    base = shared("drywet/reverb_pairs")
    dry, sr = io.read_audio(base / "dry" / f"{source}.flac")
    wet, _ = io.read_audio(base / "wet" / f"{source}_{room}.flac")
    ir, ir_sr = io.read_audio(base / "irs" / f"ir_{room}.flac")
    y = get_effect("convolution_reverb")(dry.astype(np.float64), sample_rate=sr, impulse_response=ir,
                                         ir_sample_rate=ir_sr, length="full")
    assert y.shape == wet.shape
    scale = (y * wet).sum() / (y * y).sum()
    err_db = 10 * np.log10(((scale * y - wet) ** 2).sum() / (wet**2).sum())
    assert err_db < -45.0
