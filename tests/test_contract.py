"""Contract tests over the whole registry: bad input, edge signals, range ends, bypass,
batch and channel consistency, gradcheck and the gradient table."""

import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from drywet import EFFECTS, AudioError, ParameterError
from drywet.effects.reverb import NUM_NOISE_BANDS

SR = 44100
ALL = list(EFFECTS)
TORCH = [n for n, e in EFFECTS.items() if e.torch_kernel is not None]
IR = (np.exp(-np.arange(300) / 40.0) * np.random.default_rng(0).standard_normal(300))[None]
# small folders of "recordings" for the effects that draw a file (written once per session)
_FOLDER = Path(tempfile.mkdtemp(prefix="drywet_contract_"))
sf.write(_FOLDER / "noise.wav", 0.1 * np.random.default_rng(0).standard_normal((4000, 2)), SR)
sf.write(_FOLDER / "ir.flac", IR[0], SR)
# effects whose channels get independent content: random noise and clicks, the stereo files
# of _FOLDER, AAC's first frame (its stereo coder does not keep identical channels identical)
INDEPENDENT_CHANNELS = ("pan", "noise_reverb", "colored_noise", "vinyl", "tape", "noise_file", "room_ir", "aac")


def needed(name, sr=SR):
    """Settings an effect needs beyond its defaults (and short IRs for speed)."""
    if name == "convolution_reverb":
        return {"impulse_response": IR}
    if name == "noise_reverb":
        return {"ir_length_s": 0.05}
    if name == "noise_file":
        return {"noise_dir": _FOLDER}
    if name == "room_ir":
        return {"ir_dir": _FOLDER}
    return {}


def out_channels(name, channels):
    return EFFECTS[name].output_channels(channels)


def signal_of(kind, channels=2, n=2048):
    rng = np.random.default_rng(1)
    if kind == "silence":
        return np.zeros((channels, n), np.float32)
    if kind == "dc":
        return np.full((channels, n), 0.5, np.float32)
    if kind == "full_scale":
        return np.sign(rng.standard_normal((channels, n))).astype(np.float32)
    if kind == "one_sample":
        return np.full((channels, 1), 0.3, np.float32)
    return (0.3 * rng.standard_normal((channels, n))).astype(np.float32)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("kind", ["silence", "dc", "full_scale", "one_sample", "noise"])
def test_edge_signals_give_finite_output_of_the_right_shape(name, kind):
    x = signal_of(kind)
    before = x.copy()
    y = EFFECTS[name](x, sample_rate=SR, **needed(name))
    assert y.shape == (out_channels(name, 2), x.shape[1]) and y.dtype == np.float32
    assert np.all(np.isfinite(y))
    assert np.array_equal(x, before), "the caller's array must not be modified"
    if kind == "silence":
        assert np.all(y == 0), "silence in, silence out at default settings"


@pytest.mark.parametrize("name", ALL)
def test_empty_input_gives_empty_output(name):
    y = EFFECTS[name](np.zeros((2, 0), np.float32), sample_rate=SR, **needed(name))
    assert y.shape == (out_channels(name, 2), 0)
    if name in TORCH:
        yt = EFFECTS[name](torch.zeros(1, 2, 0), sample_rate=SR, **needed(name))
        assert yt.shape == (1, out_channels(name, 2), 0)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_input_is_a_clear_error(name, bad):
    x = signal_of("noise")
    x[0, 10] = bad
    with pytest.raises(AudioError, match="NaN or Inf"):
        EFFECTS[name](x, sample_rate=SR, **needed(name))


@pytest.mark.parametrize("to", [np.asarray, torch.as_tensor])
def test_finite_check_is_exact(to):
    """The sum shortcut of all_finite never passes a bad sample and never rejects finite
    samples whose sum overflows."""
    from drywet.audio import all_finite

    huge = np.full((2, 50), np.finfo(np.float32).max / 4, np.float32)  # finite; the float32 sum is inf
    with np.errstate(over="ignore"):
        assert not np.isfinite(huge.sum())
    assert all_finite(to(huge))
    for bad in (np.nan, np.inf, -np.inf):
        x = np.zeros((2, 50), np.float32)
        x[1, 7] = bad
        assert not all_finite(to(x))
    mixed = np.zeros((1, 4), np.float64)
    mixed[0, :2] = (np.inf, -np.inf)  # inf - inf: the sum is NaN, still rejected
    assert not all_finite(to(mixed)) and all_finite(to(np.zeros((1, 0), np.float32)))
    assert all_finite(torch.ones(3, requires_grad=True))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    "x, match",
    [
        (np.zeros(100, np.float32), r"x\[None, :\]"),
        (np.zeros((1, 1, 1, 100), np.float32), "shape"),
        (np.zeros((1, 100), np.int16), "float"),
        (np.zeros((1, 100), np.float16), "float32 or float64"),
        ([0.0, 0.1], "numpy array or torch tensor"),
        (np.zeros((0, 100), np.float32), "zero channels"),
        (np.zeros((4410, 2), np.float32), r"\(samples, channels\) array .* x\.T"),
        (np.zeros((1, 100), np.uint8), "unsigned PCM"),
        (np.zeros((1, 100), np.complex64), "real-valued"),
    ],
)
def test_wrong_shape_or_type_is_a_clear_error(name, x, match):
    with pytest.raises(AudioError, match=match):
        EFFECTS[name](x, sample_rate=SR, **needed(name))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("sr", [0, -44100, 44100.5, "44100", 10_000_000, None])
def test_wrong_sample_rate_is_a_clear_error(name, sr):
    with pytest.raises(AudioError, match="sample_rate"):
        EFFECTS[name](signal_of("noise"), sample_rate=sr, **needed(name))


@pytest.mark.parametrize("name", ALL)
def test_every_parameter_at_range_ends_and_just_outside(name):
    effect = EFFECTS[name]
    x = signal_of("noise", n=1024)
    for p in effect.spec.params:
        for value in (p.min, p.max):
            y = effect(x, sample_rate=SR, **needed(name), **{p.name: value})
            assert np.all(np.isfinite(y)), f"{name}.{p.name}={value}"
        span = p.max - p.min
        for value in (p.min - 0.01 * span, p.max + 0.01 * span):
            with pytest.raises(ParameterError, match=p.name):
                effect(x, sample_rate=SR, **needed(name), **{p.name: value})


@pytest.mark.parametrize("name", ALL)
def test_bypass_is_an_exact_identity(name):
    x = signal_of("noise")
    y = EFFECTS[name](x, sample_rate=SR, bypass=True, **needed(name))
    assert np.array_equal(x, y) and y is not x
    if name in TORCH:
        xt = torch.tensor(x)
        assert torch.equal(EFFECTS[name](xt, sample_rate=SR, bypass=True, **needed(name)), xt)


@pytest.mark.parametrize("name", ALL)
def test_numpy_batch_equals_stack_of_single_results(name):
    effect = EFFECTS[name]
    params = effect.spec.sample(np.random.default_rng(2))
    batch = np.stack([signal_of("noise"), 0.5 * signal_of("noise")[::-1], signal_of("dc")])
    ys = effect(batch, sample_rate=SR, **params, **needed(name))
    for i in range(3):
        assert np.allclose(ys[i], effect(batch[i], sample_rate=SR, **params, **needed(name)), atol=1e-6)


@pytest.mark.parametrize("name", TORCH)
def test_torch_per_item_parameters_equal_single_runs(name):
    effect = EFFECTS[name]
    rng = np.random.default_rng(3)
    draws = [effect.spec.sample(rng) for _ in range(3)]
    x = torch.tensor(np.stack([signal_of("noise"), 0.5 * signal_of("noise"), signal_of("full_scale")]), dtype=torch.float64)
    batch = {k: torch.tensor([d[k] for d in draws], dtype=torch.float64) for k in draws[0]}
    ys = effect(x, sample_rate=SR, **batch, **needed(name))
    for i, d in enumerate(draws):
        single = effect(x[i], sample_rate=SR, **d, **needed(name))
        assert torch.allclose(ys[i], single, atol=1e-9)


@pytest.mark.parametrize("name", [n for n in ALL if n not in INDEPENDENT_CHANNELS])
def test_identical_channels_stay_identical(name):
    mono = signal_of("noise", channels=1)
    y = EFFECTS[name](np.repeat(mono, 2, axis=0), sample_rate=SR, **EFFECTS[name].spec.sample(np.random.default_rng(4)), **needed(name))
    assert np.allclose(y[0], y[1], atol=1e-7)


def test_numpy_path_rejects_per_item_arrays():
    with pytest.raises(ParameterError, match="one number per parameter"):
        EFFECTS["compressor"](signal_of("noise"), sample_rate=SR, ratio=np.array([2.0, 3.0]))
    with pytest.raises(ParameterError, match="one number per parameter"):  # curves are 1-D
        EFFECTS["gain"](signal_of("noise"), sample_rate=SR, gain_db=np.zeros((2, 3)))


def test_torch_path_rejects_wrong_parameter_shape():
    with pytest.raises(ParameterError, match=r"shape \(2,\)"):
        EFFECTS["gain"](torch.zeros(2, 1, 10), sample_rate=SR, gain_db=torch.zeros(3))


def test_black_box_has_no_twin():
    with pytest.raises(ParameterError, match="black box"):
        EFFECTS["bitcrusher"](torch.zeros(1, 1, 10), sample_rate=SR)


# -- gradients ------------------------------------------------------------------------
GRAD_SR = 8000
OVERRIDES = {  # mid-range values except where the mid value would leave the effect idle
    "expander": {"threshold_db": -10.0},
    "compressor": {"threshold_db": -25.0},
    "simple_compressor": {"threshold_db": -25.0},
    "limiter": {"threshold_db": -18.0},
    "hard_clip": {"threshold_db": -15.0},
    "clipper": {"hardness": 0.6},  # 1.0 is the joint between the two blends (a kink)
}


def mid_params(name):
    spec = EFFECTS[name].spec
    params = {p.name: float(p.denormalize(0.5)) for p in spec.params}
    for k, v in params.items():  # at 0 dB an EQ band is flat and its frequency and Q do nothing
        if k.endswith("gain_db") and v == 0.0:
            params[k] = 6.0
    params.update(OVERRIDES.get(name, {}))
    return params


@pytest.mark.parametrize("name", TORCH)
def test_gradcheck_float64(name):
    effect = EFFECTS[name]
    names = list(effect.spec.param_names)
    rng = np.random.default_rng(5)
    x = torch.tensor(0.4 * rng.standard_normal((1, 2, 160)), dtype=torch.float64, requires_grad=True)
    base = mid_params(name)
    params = [torch.tensor([base[n]], dtype=torch.float64, requires_grad=True) for n in names]
    extra = {"noise_reverb": {"ir_length_s": 0.01}, "convolution_reverb": {"impulse_response": IR[:, :40], "pre_delay_ms": None}}.get(name, {})
    extra = {k: v for k, v in extra.items() if v is not None}
    if name == "convolution_reverb":
        base_pre = 1.3  # fractional, away from the kink at whole samples
        params[names.index("pre_delay_ms")] = torch.tensor([base_pre], dtype=torch.float64, requires_grad=True)

    def f(xin, *ps):
        return effect(xin, sample_rate=GRAD_SR, **dict(zip(names, ps)), **extra)

    assert torch.autograd.gradcheck(f, (x, *params), eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("name", TORCH)
def test_every_parameter_receives_a_finite_nonzero_gradient(name, music_short):
    effect = EFFECTS[name]
    x, sr = music_short
    params = {k: torch.tensor([v], dtype=torch.float64, requires_grad=True) for k, v in mid_params(name).items()}
    settings = {"noise_reverb": {"ir_length_s": 0.2}, "convolution_reverb": {"impulse_response": IR}}.get(name, {})
    y = effect(torch.tensor(x[None], dtype=torch.float64), sample_rate=sr, **params, **settings)
    target = torch.tensor(x[None], dtype=torch.float64).flip(-1)
    (y - target[..., : y.shape[-1]] if y.shape[1] == 2 else y).square().mean().backward()
    for k, v in params.items():
        assert v.grad is not None and torch.isfinite(v.grad).all(), f"{name}.{k}"
        assert v.grad.abs().item() > 0, f"{name}.{k} has a zero gradient"


def test_noise_band_count_matches_spec():
    assert sum(p.name.endswith("_decay_s") for p in EFFECTS["noise_reverb"].spec.params) == NUM_NOISE_BANDS


TWIN_TOLERANCE = 1e-6  # absolute, float64, on real music in [-1, 1]


@pytest.mark.parametrize("name", TORCH)
def test_torch_twin_matches_numpy_over_50_random_draws(name, music_short):
    """Every twin against its numpy kernel: 50 draws in one torch batch vs 50 numpy calls."""
    effect = EFFECTS[name]
    x, sr = music_short
    x = x[:, :2048].astype(np.float64)
    rng = np.random.default_rng(11)
    draws = [effect.spec.sample(rng) for _ in range(50)]
    batch = {k: torch.tensor([d[k] for d in draws], dtype=torch.float64) for k in draws[0]}
    settings = needed(name)
    yt = effect(torch.tensor(x).expand(50, -1, -1), sample_rate=sr, **batch, **settings).numpy()
    worst = max(np.max(np.abs(yt[i] - effect(x, sample_rate=sr, **d, **settings))) for i, d in enumerate(draws))
    assert worst < TWIN_TOLERANCE
