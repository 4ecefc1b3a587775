"""Shared fixtures: real audio from the bundled clip and from ../shared/data (skipped if absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drywet import io

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared(path: str) -> Path:
    """Path inside ../shared/data, or skip the test with the reason."""
    p = SHARED_DATA / path
    if not p.exists():
        pytest.skip(f"{p} is absent (the shared real-audio folder is not next to this checkout)")
    return p


@pytest.fixture(scope="session")
def music():
    """2 s of real stereo music (bundled Brahms clip), float32, and its sample rate."""
    x, sr = io.bundled_example()
    return x[:, 3 * sr : 5 * sr].copy(), sr


@pytest.fixture(scope="session")
def music_short(music):
    """0.25 s of real music: enough for twin comparisons over many random draws."""
    x, sr = music
    return x[:, : sr // 4].copy(), sr


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
