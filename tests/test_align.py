"""Latency between a dry recording and its processed version (drywet.dsp.align)."""

import numpy as np
import pytest

from drywet import io
from drywet.dsp.align import MAX_LAG_S, align_to_wet, find_lag


@pytest.fixture(scope="module")
def stereo():
    x, sr = io.bundled_example()
    return x[:, 4 * sr : 5 * sr].copy(), sr


@pytest.mark.parametrize("lag", [0, 1, 37, -25, 2000])
def test_find_lag_recovers_a_known_delay_and_a_polarity_flip(stereo, lag):
    x, sr = stereo
    wet = np.roll(x, lag, axis=-1)  # wraps round: the correlation peak is still exactly at lag
    assert find_lag(x, wet, sr) == lag
    assert find_lag(x[0], -0.3 * wet[0], sr) == lag


def test_find_lag_looks_only_within_the_window(stereo):
    x, sr = stereo
    beyond = int(2 * MAX_LAG_S * sr)
    assert find_lag(x, np.roll(x, beyond, axis=-1), sr) != beyond
    assert find_lag(x, np.roll(x, beyond, axis=-1), sr, max_lag_s=3 * MAX_LAG_S) == beyond


def test_align_to_wet_puts_the_dry_on_the_wet_timeline(stereo):
    x, sr = stereo
    late_and_longer = np.concatenate([np.zeros((2, 40), np.float32), 0.5 * x, np.zeros((2, 500), np.float32)], axis=-1)
    dry, lag = align_to_wet(x, late_and_longer, sr)
    assert lag == 40 and dry.shape == late_and_longer.shape
    assert np.array_equal(late_and_longer, 0.5 * dry)
    early_and_cut = 0.5 * x[:, 30:-1000]  # the wet starts 30 samples into the dry and stops early
    dry, lag = align_to_wet(x, early_and_cut, sr)
    assert lag == -30 and dry.shape == early_and_cut.shape
    assert np.array_equal(early_and_cut, 0.5 * dry)
    late_and_cut = np.concatenate([np.zeros((2, 20), np.float32), x[:, :-5000]], axis=-1)
    dry, lag = align_to_wet(x, late_and_cut, sr)
    assert lag == 20 and np.array_equal(dry, late_and_cut)


@pytest.mark.parametrize("names", ["parametric_eq", "parametric_eq,compressor,clipper", "band_limit", "mp3"])
def test_find_lag_holds_through_processing_that_reshapes_the_spectrum(stereo, names):
    from drywet.chain import Chain

    x, sr = stereo
    rng = np.random.default_rng(7)
    for _ in range(4):
        y = Chain.from_names(names).sample(rng)(x, sample_rate=sr)
        late = np.concatenate([np.zeros((2, 123), np.float32), y], axis=-1)
        # a causal band-pass delays its passband by a few samples: that delay is the wet's too
        assert abs(find_lag(x, late, sr) - 123) <= 3, names


def test_long_files_are_read_on_their_loudest_stretch(stereo):
    from drywet.dsp import align

    x, sr = stereo
    quiet = np.zeros((2, int(1.5 * align.ANALYSIS_S * sr)), np.float32)
    long_dry = np.concatenate([quiet, np.tile(x, int(align.ANALYSIS_S) + 2)], axis=-1)  # silence, then music
    assert long_dry.shape[1] > 2 * align.ANALYSIS_S * sr
    assert find_lag(long_dry, np.roll(long_dry, 77, axis=-1), sr) == 77
