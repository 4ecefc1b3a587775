"""Which parameters a dry signal pins down: the linearized width against a brute-force scan,
exact compensation between two stages, level invariance, and bad input."""

import numpy as np
import pytest
import torch

from drywet import AudioError, ParameterError
from drywet.chain import Chain
from drywet.estimate.uncertainty import parameter_uncertainty
from drywet.metrics.losses import logmel_features


def _features(chain, x, sr):
    with torch.no_grad():
        return logmel_features(torch.from_numpy(chain(x, sample_rate=sr)[None].astype(np.float64)), sample_rate=sr).numpy().ravel()


def test_width_of_one_parameter_matches_a_brute_force_scan(music):
    x, sr = music
    x = x.mean(axis=0, keepdims=True)
    chain = Chain.from_names("tanh_overdrive").with_q(np.array([0.1]))
    tolerance = 0.05
    width = parameter_uncertainty(chain, x, sample_rate=sr, tolerance=tolerance).half_width[0]
    # brute force: the nearest settings, each side, whose features are `tolerance` RMS away
    ref = _features(chain, x, sr)
    grid = np.linspace(0.0, 0.1, 101)
    dist = [[np.sqrt(np.mean((_features(chain.with_q(np.array([0.1 + s * d])), x, sr) - ref) ** 2)) for d in grid] for s in (-1, 1)]
    edges = [grid[np.argmax(np.array(d) > tolerance)] for d in dist]
    assert 0.005 < width < 0.2
    assert width == pytest.approx(np.mean(edges), rel=0.2), (width, edges)


def test_exact_compensation_between_stages_is_not_identifiable(music):
    x, sr = music
    one = Chain.from_names("peak").with_q(np.array([0.5, 0.5, 0.8]))  # one peak at +9.6 dB
    alone = parameter_uncertainty(one, x, sample_rate=sr)
    assert alone.identifiable()[2] and alone.half_width[2] < 0.05
    # two identical peaks: their gains add in dB, so any trade between them sounds the same
    two = Chain.from_names("peak,peak").with_q(np.array([0.5, 0.5, 0.65, 0.5, 0.5, 0.65]))
    both = parameter_uncertainty(two, x, sample_rate=sr)
    assert not both.identifiable()[2] and not both.identifiable()[5]
    assert both.half_width[2] > 10 * alone.half_width[2]


def test_a_pure_gain_is_invisible_to_the_level_invariant_features(music):
    x, sr = music
    u = parameter_uncertainty(Chain.from_names("gain,peak").with_q(np.array([0.3, 0.5, 0.5, 0.9])), x, sample_rate=sr)
    assert u.half_width[0] == pytest.approx(1.0, abs=1e-4) and u.identifiable()[3] and not u.identifiable()[0]
    rows = u.intervals()
    assert rows[3]["low"] < rows[3]["value"] < rows[3]["high"] and rows[3]["unit"] == "dB"
    assert [r["identifiable"] for r in rows] == list(u.identifiable())
    gain = Chain.from_names("gain").stages[0].effect.spec.params[0]
    assert (rows[0]["low"], rows[0]["high"]) == pytest.approx((gain.min, gain.max))  # the whole range


def test_bad_input_is_refused(music):
    x, sr = music
    chain = Chain.from_names("peak")
    with pytest.raises(AudioError, match="silent"):
        parameter_uncertainty(chain, np.zeros((1, sr), np.float32), sample_rate=sr)
    with pytest.raises(AudioError, match="NaN"):
        parameter_uncertainty(chain, np.full((1, sr), np.nan, np.float32), sample_rate=sr)
    with pytest.raises(AudioError, match="one"):
        parameter_uncertainty(chain, np.zeros((2, 1, sr), np.float32), sample_rate=sr)
    with pytest.raises(ParameterError, match="tolerance"):
        parameter_uncertainty(chain, x, sample_rate=sr, tolerance=0.0)
