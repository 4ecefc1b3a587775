"""Invariance analysis: strengths from the spec, distances against closed forms, extractor
loading (built-in, callable file, TorchScript), classifier agreement, CLI outputs."""

import json

import numpy as np
import pytest
import torch

from drywet import EFFECTS, ParameterError
from drywet.analysis.invariance import (
    default_effects,
    invariance,
    load_extractor,
    mfcc_stats,
)
from drywet.cli import main
from drywet.errors import DrywetError

SR = 16000


def clips(n=2, seconds=0.5):
    rng = np.random.default_rng(0)
    return [(0.3 * rng.standard_normal((1, int(seconds * SR)))).astype(np.float32) for _ in range(n)]


def rms_feature(x, sample_rate):
    return np.array([np.sqrt(np.mean(x**2))])


def test_strength_interpolates_in_normalized_space_and_is_validated():
    spec = EFFECTS["mp3"].spec
    assert spec.at_strength(0.0) == {"bitrate_kbps": 320.0} and spec.at_strength(1.0) == {"bitrate_kbps": 32.0}
    assert spec.at_strength(0.5) == {"bitrate_kbps": round(np.sqrt(320 * 32))}  # log scale: geometric mean
    with pytest.raises(ParameterError, match="in \\[0, 1\\]"):
        spec.at_strength(1.5)
    with pytest.raises(ParameterError, match="no strength"):
        EFFECTS["gain"].spec.at_strength(0.5)
    assert "noise_file" not in default_effects() and "noise_file" in default_effects(noise_dir="x")


def test_distance_matches_the_closed_form_of_an_rms_feature():
    # hard clip at threshold t of unit-variance-ish noise: compare with the direct computation
    xs = clips()
    rows = invariance(xs, SR, rms_feature, effects=["hard_clip"], levels=[0.0, 1.0])
    for row in rows:
        t = 10 ** (row["value"] / 20)
        expected = np.mean([abs(np.sqrt(np.mean(np.clip(x, -t, t) ** 2)) - np.sqrt(np.mean(x**2))) / np.sqrt(np.mean(x**2)) for x in xs])
        assert row["distance_mean"] == pytest.approx(expected, rel=1e-5)
    assert rows[0]["distance_mean"] < 1e-3 < rows[1]["distance_mean"]


def test_mfcc_distance_grows_with_noise_strength():
    rows = invariance(clips(), SR, mfcc_stats, effects=["colored_noise"], levels=[0.0, 0.5, 1.0])
    d = [r["distance_mean"] for r in rows]
    assert d[0] < d[1] < d[2]


def test_classifier_agreement_and_extractors_from_file_and_torchscript(tmp_path):
    (tmp_path / "feat.py").write_text(
        "import numpy as np\n"
        "def loud_or_quiet(x, sample_rate):\n"
        "    r = np.sqrt(np.mean(x ** 2))\n"
        "    return np.array([r, 0.2])\n"
    )
    fn = load_extractor(f"{tmp_path / 'feat.py'}:loud_or_quiet")
    rows = invariance(clips(), SR, fn, effects=["hard_clip"], levels=[0.0, 1.0], classifier=True)
    assert rows[0]["top1_agreement"] == 1.0 and rows[1]["top1_agreement"] == 0.0  # clipping at -40 dB makes it "quiet"

    class Rms(torch.nn.Module):
        def forward(self, x):
            return x.square().mean(dim=-1).sqrt().reshape(-1)

    with pytest.warns(DeprecationWarning):  # torch 2.13 deprecates TorchScript; it still works
        torch.jit.script(Rms()).save(str(tmp_path / "rms.pt"))
    x = clips(1)[0]
    torch.export.save(torch.export.export(Rms(), (torch.tensor(x[None]),)), str(tmp_path / "rms.pt2"))
    for path in ("rms.pt", "rms.pt2"):
        loaded = load_extractor(str(tmp_path / path))
        assert loaded(x, SR)[0] == pytest.approx(rms_feature(x, SR)[0], rel=1e-5)


@pytest.mark.parametrize("spec, match", [("nope", "unknown feature extractor"), ("missing.pt", "not found"), ("no_such_module_xyz:f", "cannot import")])
def test_bad_extractors_are_clear_errors(spec, match):
    with pytest.raises(DrywetError, match=match):
        load_extractor(spec)


def _raises(x, sample_rate):
    raise KeyError("model head")


def _size_follows_length(x, sample_rate):
    return np.abs(x).ravel()[: x.shape[-1] // 100]


@pytest.mark.parametrize("extractor, match", [
    (_raises, "failed on clean audio: KeyError"),
    (lambda x, sample_rate: None, "returned NoneType"),
    (lambda x, sample_rate: np.zeros(0), "no values"),
    (lambda x, sample_rate: np.array([np.nan]), "NaN or Inf on clean audio"),
    (_size_follows_length, "one size for any audio"),
])
def test_a_bad_user_extractor_gets_a_clear_error(extractor, match):
    with pytest.raises(DrywetError, match=match):
        invariance(clips(), SR, extractor, effects=["time_stretch"], levels=[1.0])


def test_cli_writes_table_json_and_plot(tmp_path, capsys):
    import soundfile as sf

    (tmp_path / "in").mkdir()
    for i, x in enumerate(clips(2, 1.0)):
        sf.write(tmp_path / "in" / f"{i}.wav", x.T, SR)
    code = main(["invariance", str(tmp_path / "in"), "--effects", "colored_noise,mp3", "--levels", "0,1", "-o", str(tmp_path / "out")])
    assert code == 0
    rows = json.loads((tmp_path / "out" / "invariance.json").read_text())
    assert [(r["effect"], r["level"]) for r in rows] == [("colored_noise", 0.0), ("colored_noise", 1.0), ("mp3", 0.0), ("mp3", 1.0)]
    assert (tmp_path / "out" / "invariance.png").stat().st_size > 10_000
    assert "colored_noise" in capsys.readouterr().out
