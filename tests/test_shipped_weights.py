"""Every shipped network still loads and gives the outputs it gave before the code moved
(tests/data/shipped_outputs.json, recorded with the code of 2026-12-04 before the restructuring:
``python tests/test_shipped_weights.py OUT.json`` records them with the code at hand)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

RECORD = Path(__file__).parent / "data" / "shipped_outputs.json"


def shipped_outputs() -> dict:
    """What each shipped estimator, proxy and restorer outputs on a fixed excerpt of the bundled clip."""
    from drywet import io
    from drywet.estimate.blind import bundled_estimator
    from drywet.invert import learned
    from drywet.neural.proxy import bundled_proxy

    x, sr = io.bundled_example()
    out = {}
    for setting in ("eq", "compressor", "clipper", "chain"):
        for inversion in (False, True):
            chain = bundled_estimator(setting, for_inversion=inversion).estimate(x[:, 2 * sr : 6 * sr], sample_rate=sr)
            out[f"blind/{setting}{'/inversion' if inversion else ''}"] = chain.to_q().tolist()
    models = [("proxy/compressor", bundled_proxy("compressor"))]
    models += [(f"restore/{name}", learned.restorer(name)) for name in learned.available()]
    for name, model in models:
        y = model.process(io.resample(x[:1, 2 * sr : 4 * sr], sr, model.sample_rate), sample_rate=model.sample_rate)
        out[name] = {"rms": float(np.sqrt(np.mean(y**2))), "head": np.asarray(y).ravel()[1000:1032].tolist()}
    return out


@pytest.fixture(scope="module")
def now():
    return shipped_outputs()


@pytest.mark.parametrize("name", sorted(json.loads(RECORD.read_text())))
def test_shipped_weights_give_the_recorded_outputs(now, name):
    before = json.loads(RECORD.read_text())[name]
    if isinstance(before, dict):
        np.testing.assert_allclose(now[name]["head"], before["head"], atol=1e-6, rtol=1e-5)
        assert now[name]["rms"] == pytest.approx(before["rms"], rel=1e-5)
    else:
        np.testing.assert_allclose(now[name], before, atol=1e-6)


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(shipped_outputs(), indent=1))
