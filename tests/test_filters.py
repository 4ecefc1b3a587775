"""Biquads and EQs against independent references: analog RBJ prototypes discretized by
scipy's bilinear transform (with prewarping), scipy's freqz, and pedalboard when present."""

import math

import numpy as np
import pytest
import torch
from scipy import signal

from drywet import get_effect
from drywet.dsp import biquad
from drywet.effects import filters

SR = 44100
TEST_FREQS = np.geomspace(25.0, 19000.0, 20)


def analog_prototype(kind, q, gain_db):
    """RBJ's analog prototypes H(s) at unit frequency (numerator, denominator)."""
    a = 10 ** (gain_db / 40)
    den = [1.0, 1.0 / q, 1.0]
    return {
        "lowpass": ([1.0], den),
        "highpass": ([1.0, 0.0, 0.0], den),
        "bandpass": ([1.0 / q, 0.0], den),
        "notch": ([1.0, 0.0, 1.0], den),
        "peak": ([1.0, a / q, 1.0], [1.0, 1.0 / (a * q), 1.0]),
        "lowshelf": ([a, a * math.sqrt(a) / q, a * a], [a, math.sqrt(a) / q, 1.0]),
        "highshelf": ([a * a, a * math.sqrt(a) / q, a], [1.0, math.sqrt(a) / q, a]),
    }[kind]


def reference_response(kind, freq_hz, q, gain_db, sr, freqs):
    num, den = analog_prototype(kind, q, gain_db)
    wa = 2 * sr * math.tan(math.pi * freq_hz / sr)  # prewarp so the digital f0 is exact
    num = [c / wa ** (len(num) - 1 - i) for i, c in enumerate(num)]
    den = [c / wa ** (len(den) - 1 - i) for i, c in enumerate(den)]
    b, a = signal.bilinear(num, den, fs=sr)
    _, h = signal.freqz(b, a, worN=freqs, fs=sr)
    return h


def measured_response(effect, params, sr, freqs, n=1 << 17):
    """Magnitude response of the numpy effect measured from its impulse response."""
    impulse = np.zeros((1, n))
    impulse[0, 0] = 1.0
    h = effect(impulse, sample_rate=sr, **params)[0]
    spectrum = np.fft.rfft(h)
    bins = np.fft.rfftfreq(n, 1 / sr)
    return np.interp(freqs, bins, np.abs(spectrum))


def db(x):
    return 20 * np.log10(np.abs(x) + 1e-300)


@pytest.mark.parametrize("kind", biquad.BIQUAD_TYPES)
@pytest.mark.parametrize("freq_hz, q, gain_db", [(100.0, 0.707, 6.0), (1000.0, 2.0, -9.0), (8000.0, 0.5, 12.0)])
def test_biquad_design_matches_bilinear_prototype(kind, freq_hz, q, gain_db):
    sos = biquad.design(kind, freq_hz, q, gain_db, SR)[None]
    _, ours = signal.sosfreqz(sos, worN=TEST_FREQS, fs=SR)
    ref = reference_response(kind, freq_hz, q, gain_db, SR, TEST_FREQS)
    mask = np.abs(ref) > 1e-3  # skip the notch's zero where dB is meaningless
    assert np.max(np.abs(db(ours[mask]) - db(ref[mask]))) < 0.01


@pytest.mark.parametrize("kind", biquad.BIQUAD_TYPES)
def test_biquad_effect_filters_with_its_design(kind, rng):
    effect = get_effect(kind)
    params = {"freq_hz": 700.0, "q": 1.3}
    if kind in ("peak", "lowshelf", "highshelf"):
        params["gain_db"] = -7.0
    x = rng.standard_normal((2, 3000))
    ref = signal.sosfilt(biquad.design(kind, 700.0, 1.3, params.get("gain_db", 0.0), SR)[None], x)
    assert np.allclose(effect(x, sample_rate=SR, **params), ref, atol=1e-12)


def test_parametric_eq_matches_reference_cascade():
    eq = get_effect("parametric_eq")
    p = eq.spec.sample(np.random.default_rng(3))
    ref = np.ones(len(TEST_FREQS), complex)
    for band, kind, *_ in filters.PEQ_BANDS:
        ref *= reference_response(kind, p[f"{band}_freq_hz"], p[f"{band}_q"], p[f"{band}_gain_db"], SR, TEST_FREQS)
    measured = measured_response(eq, p, SR, TEST_FREQS, n=1 << 19)
    assert np.max(np.abs(db(measured) - db(ref))) < 0.01


def test_graphic_eq_matches_reference_cascade():
    eq = get_effect("graphic_eq")
    p = eq.spec.sample(np.random.default_rng(4))
    ref = np.ones(len(TEST_FREQS), complex)
    for i, f in enumerate(filters.GEQ_CENTERS_HZ):
        ref *= reference_response("peak", f, filters.GEQ_Q, p[f"band{i}_gain_db"], SR, TEST_FREQS)
    measured = measured_response(eq, p, SR, TEST_FREQS, n=1 << 19)
    assert np.max(np.abs(db(measured) - db(ref))) < 0.01


def test_dsp_properties_cutoff_peak_and_shelf_gains():
    lp = biquad.design("lowpass", 1000.0, 1 / math.sqrt(2), 0.0, SR)[None]
    _, h = signal.sosfreqz(lp, worN=[1000.0], fs=SR)
    assert abs(db(h)[0] + 3.0103) < 0.01  # -3 dB at cutoff for Q = 1/sqrt(2)
    pk = biquad.design("peak", 2000.0, 1.0, 9.0, SR)[None]
    assert abs(db(signal.sosfreqz(pk, worN=[2000.0], fs=SR)[1])[0] - 9.0) < 1e-6
    for kind in ("lowshelf", "highshelf"):  # RBJ shelves sit at half the gain at f0
        sh = biquad.design(kind, 500.0, 0.707, 12.0, SR)[None]
        assert abs(db(signal.sosfreqz(sh, worN=[500.0], fs=SR)[1])[0] - 6.0) < 1e-6


def test_eq_is_unity_at_default(music):
    x, sr = music
    for name in ("parametric_eq", "graphic_eq"):
        assert np.allclose(get_effect(name)(x, sample_rate=sr), x, atol=1e-6)


def test_frequencies_above_nyquist_are_clamped_not_crashing():
    eq = get_effect("parametric_eq")
    x = np.random.default_rng(0).standard_normal((1, 4000))
    y = eq(x, sample_rate=16000, high_shelf_freq_hz=20000.0, high_shelf_gain_db=6.0)
    assert np.all(np.isfinite(y))
    clamped = biquad.clamp_freq(20000.0, 16000)
    assert clamped == pytest.approx(biquad.MAX_FREQ_FRACTION * 16000)
    ref = signal.sosfilt(biquad.design("highshelf", clamped, 0.7071067811865476, 6.0, 16000)[None], x)
    assert np.allclose(y, ref, atol=1e-10)


@pytest.mark.parametrize("name", ["parametric_eq", "graphic_eq", "peak", "lowpass", "highshelf", "notch"])
def test_torch_iir_matches_numpy_over_random_draws(name, music_short):
    """Tolerance: 1e-9 absolute in float64 over 50 random parameter draws."""
    x, sr = music_short
    effect = get_effect(name)
    rng = np.random.default_rng(5)
    draws = [effect.spec.sample(rng) for _ in range(50)]
    xt = torch.tensor(x, dtype=torch.float64)
    batch = {k: torch.tensor([d[k] for d in draws], dtype=torch.float64) for k in draws[0]}
    yt = effect(xt.expand(50, -1, -1), sample_rate=sr, **batch).numpy()
    for i, d in enumerate(draws):
        assert np.max(np.abs(yt[i] - effect(x.astype(np.float64), sample_rate=sr, **d))) < 1e-9


def test_fir_mode_error_against_exact_iir(music):
    """The frequency-sampled FIR mode differs from the exact IIR only by the time-aliased
    tail of the impulse response: measured below -80 dB (error energy / output energy)."""
    x, sr = music
    eq = get_effect("parametric_eq")
    rng = np.random.default_rng(6)
    worst = -np.inf
    for _ in range(20):
        p = {k: torch.tensor([v], dtype=torch.float64) for k, v in eq.spec.sample(rng).items()}
        xt = torch.tensor(x[None], dtype=torch.float64)
        iir = eq(xt, sample_rate=sr, mode="iir", **p)
        fir = eq(xt, sample_rate=sr, mode="fir", **p)
        err = 10 * torch.log10((iir - fir).square().sum() / iir.square().sum())
        worst = max(worst, float(err))
    assert worst < -80.0


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_impulse_response_node_matches_scipy_and_autograd(dtype):
    """The FIR mode's impulse response node (numba recursions and their adjoint) against
    scipy's sosfilt on an impulse, and its gradient against autograd through the recursion
    written out in torch; gradcheck in float64."""
    rng = np.random.default_rng(3)
    designs = [("lowshelf", 60.0, 0.7, 9.0), ("peak", 900.0, 1.8, -12.0), ("highshelf", 9000.0, 0.5, 6.0)]
    sos = np.stack([np.stack([biquad.design(k, f * rng.uniform(0.8, 1.2), q, g, 44100) for k, f, q, g in designs])
                    for _ in range(2)])
    taps = 300
    h = biquad.sos_impulse_response_torch(torch.tensor(sos, dtype=dtype), taps)
    impulse = np.zeros(taps)
    impulse[0] = 1.0
    rounded = torch.tensor(sos, dtype=dtype).double().numpy()  # float32 coefficients move the poles a little
    reference = np.stack([signal.sosfilt(item, impulse) for item in rounded])
    assert h.dtype == dtype and np.allclose(h.numpy(), reference, atol=1e-12 if dtype == torch.float64 else 1e-6)

    def written_out(coefs, length):  # direct form I, one sample at a time, autograd through all of it
        out = []
        for item in coefs:
            u = [torch.ones((), dtype=coefs.dtype)] + [torch.zeros((), dtype=coefs.dtype)] * (length - 1)
            for b0, b1, b2, _, a1, a2 in item:
                v = []
                for n in range(length):
                    acc = b0 * u[n] + (b1 * u[n - 1] - a1 * v[n - 1] if n >= 1 else 0.0)
                    v.append(acc + (b2 * u[n - 2] - a2 * v[n - 2] if n >= 2 else 0.0))
                u = v
            out.append(torch.stack(u))
        return torch.stack(out)

    short = torch.tensor(sos, dtype=dtype, requires_grad=True)
    upstream = torch.tensor(rng.standard_normal((2, 40)), dtype=dtype)
    (grad,) = torch.autograd.grad((biquad.sos_impulse_response_torch(short, 40) * upstream).sum(), short)
    (grad_ref,) = torch.autograd.grad((written_out(short, 40) * upstream).sum(), short)
    tol = 1e-10 if dtype == torch.float64 else 1e-4
    torch.testing.assert_close(grad, grad_ref, rtol=tol, atol=tol * float(grad_ref.abs().max()))
    if dtype == torch.float64:
        assert torch.autograd.gradcheck(lambda c: biquad.sos_impulse_response_torch(c, 25), (short,))


def test_gradients_flow_through_the_exact_recursion():
    eq = get_effect("peak")
    x = torch.randn(1, 1, 64, dtype=torch.float64)
    params = [torch.tensor([v], dtype=torch.float64, requires_grad=True) for v in (900.0, 1.5, 4.0)]

    def f(freq, q, gain, xin):
        return eq(xin, sample_rate=8000, freq_hz=freq, q=q, gain_db=gain)

    assert torch.autograd.gradcheck(f, (*params, x.requires_grad_()), eps=1e-6, atol=1e-5)




@pytest.mark.parametrize(
    "kind, board_name",
    [("lowshelf", "LowShelfFilter"), ("highshelf", "HighShelfFilter"), ("peak", "PeakFilter")],
)
def test_against_pedalboard_filters(kind, board_name, music):
    pb = pytest.importorskip("pedalboard")
    x, sr = music
    plugin = getattr(pb, board_name)(cutoff_frequency_hz=1200.0, gain_db=6.0, q=0.9)
    ref = plugin(x.astype(np.float32), sr)
    ours = get_effect(kind)(x, sample_rate=sr, freq_hz=1200.0, gain_db=6.0, q=0.9)
    err = 10 * np.log10(np.sum((ref - ours) ** 2) / np.sum(ref**2))
    assert err < -60.0


# -- parameter curves: time-varying filters (trapezoidal SVF) -------------------------------
@pytest.mark.parametrize("kind", biquad.BIQUAD_TYPES)
@pytest.mark.parametrize(("freq_hz", "q", "gain_db"), [(60.0, 0.5, 9.0), (2500.0, 4.0, -12.0), (23000.0, 0.8, 6.0)])
def test_svf_with_constant_parameters_is_the_rbj_biquad(kind, freq_hz, q, gain_db, rng):
    from drywet.dsp.svf import svf_filter

    x = rng.standard_normal((2, 3000))
    reference = signal.sosfilt(biquad.design(kind, np.float64(freq_hz), q, gain_db, SR)[None], x)
    n = x.shape[-1]
    y = svf_filter(x, kind, np.full(n, freq_hz), np.full(n, q), np.full(n, gain_db), SR)
    assert np.max(np.abs(y - reference)) < 1e-9


@pytest.mark.parametrize("name", ["lowpass", "peak", "highshelf", "parametric_eq", "graphic_eq"])
def test_a_constant_curve_gives_the_scalar_result(name, rng):
    effect = get_effect(name)
    x = 0.3 * rng.standard_normal((2, 4000))
    params = effect.spec.sample(rng)
    as_curves = {k: np.full(3, v) for k, v in params.items()}
    assert np.allclose(effect(x, sample_rate=SR, **as_curves), effect(x, sample_rate=SR, **params), atol=1e-9)


def test_slow_gain_curve_follows_the_static_response():
    """A 1 kHz tone through a bell whose gain ramps -12 -> +12 dB: in every 50 ms frame the tone's
    level is the static filter's |H(1 kHz)| at that frame's gain (sosfreqz)."""
    n = 2 * SR
    t = np.arange(n) / SR
    x = np.sin(2 * np.pi * 1000.0 * t)[None]
    gain = np.linspace(-12.0, 12.0, n)
    y = get_effect("peak")(x, sample_rate=SR, freq_hz=1200.0, q=1.0, gain_db=gain)[0]
    frame = SR // 20
    for start in range(frame, n - frame, 4 * frame):
        centre = start + frame // 2
        _, h = signal.sosfreqz(biquad.design("peak", np.float64(1200.0), 1.0, gain[centre], SR)[None], worN=[1000.0], fs=SR)
        level_db = 20 * np.log10(np.sqrt(2 * np.mean(y[start : start + frame] ** 2)))
        assert level_db == pytest.approx(20 * np.log10(abs(h[0])), abs=0.05)


def test_fast_cutoff_jumps_stay_bounded_and_click_free(rng):
    """The cutoff of a resonant low-pass jumps between 100 Hz and 10 kHz every 32 samples: the
    SVF's output stays within the static filters' peaks (a transposed direct-form II biquad whose
    coefficients jump the same way overflows to NaN on this input: README, "Parameter curves")."""
    x = 0.5 * rng.standard_normal((1, SR))
    jumps = np.where((np.arange(SR) // 32) % 2 == 0, 100.0, 10000.0)
    y = get_effect("lowpass")(x, sample_rate=SR, freq_hz=jumps, q=8.0)
    static = max(np.max(np.abs(signal.sosfilt(biquad.design("lowpass", np.float64(f), 8.0, 0.0, SR)[None], x))) for f in (100.0, 10000.0))
    assert np.all(np.isfinite(y)) and np.max(np.abs(y)) < 1.5 * static


def test_filter_curves_are_range_checked_and_numpy_only():
    from drywet import ParameterError

    x = np.ones((1, 100))
    with pytest.raises(ParameterError, match="freq_hz=10 is out of range"):
        get_effect("lowpass")(x, sample_rate=SR, freq_hz=np.array([1000.0, 10.0]))
    with pytest.raises(ParameterError, match="one value per batch item"):
        get_effect("lowpass")(torch.ones(1, 1, 100), sample_rate=SR, freq_hz=torch.tensor([1000.0, 2000.0, 3000.0]))
