"""A trained analysis network bound to the chain spec it was trained for.

Weights are stored as safetensors next to a JSON with the chain's specs (names, ranges,
scales), the encoder, the sample rate and the training command; loading refuses weights
whose specs differ from the installed effects' (a range changed since training would make
every estimate wrong without a sound). Shipped weights live in ``drywet/data/blind``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ... import weights
from ...audio import as_batch, check_sample_rate
from ...chain import Chain
from ...errors import AudioError, DrywetError
from ...weights import chain_spec

SETTINGS = {"eq": "parametric_eq", "compressor": "compressor", "clipper": "clipper", "chain": "parametric_eq,compressor,clipper"}
BUNDLED = Path(__file__).resolve().parents[2] / "data" / "blind"
# Weights fine-tuned for inversion (train_blind.py --mode audio+stages): each stage is scored on
# its own true input, which a last-stage-first inverse needs, where the re-synthesis weights are
# scored on the whole chain's output only. Settings not listed use the same weights for both.
FOR_INVERSION = {"chain": "chain_inversion"}
MAX_WINDOWS = 8


class BlindEstimator:
    """Predict a chain's parameters from wet audio.

    Args:
        network: AnalysisNetwork (torch).
        chain: the analysis chain (its parameters are ignored; its specs define q).
        sample_rate: analysis rate (input is resampled to it).
        window_samples: analysis window (the training crop length).
        meta: encoder name, training command and results.
    """

    def __init__(self, network, chain: Chain, *, sample_rate: int, window_samples: int, meta: dict | None = None):
        self.network = network.eval()
        self.chain = chain
        self.sample_rate = sample_rate
        self.window = window_samples
        self.meta = meta or {}

    # -- estimation ---------------------------------------------------------------------
    def predict_q(self, y: np.ndarray, sample_rate: int) -> np.ndarray:
        """q in [0, 1]^C averaged over up to 8 of the loudest analysis windows of ``y``."""
        import torch

        from ... import io

        y3, _ = as_batch(np.asarray(y), allow_empty=False)
        if y3.shape[0] != 1:
            raise AudioError("estimate one signal at a time: (channels, samples)")
        sr = check_sample_rate(sample_rate)
        mono = y3[0].mean(axis=0, keepdims=True).astype(np.float32)
        if sr != self.sample_rate:
            mono = io.resample(mono, sr, self.sample_rate)
        peak = float(np.abs(mono).max())
        if peak == 0.0:
            raise AudioError("the audio is silent: there is nothing to estimate from")
        if np.ptp(mono) < 1e-6 * peak:
            raise AudioError("the audio is constant (pure DC): effects leave no trace in it to estimate from")
        if mono.shape[-1] < self.window // 2:
            warnings.warn(
                f"the audio lasts {mono.shape[-1] / self.sample_rate:.2f} s, less than half of the "
                f"{self.window / self.sample_rate:.2f} s window the estimator was trained on: the estimate "
                "is unreliable; give a longer excerpt",
                UserWarning,
                stacklevel=3,
            )
        # no level normalization: the networks learned from chains applied to peak-normalized
        # music, so the wet level is part of the evidence (makeup gain, threshold)
        windows = self._windows(mono[0])
        with torch.no_grad():
            q = self.network(torch.from_numpy(windows[:, None])).numpy()
        return np.clip(q.mean(axis=0), 0.0, 1.0)

    def _windows(self, x: np.ndarray) -> np.ndarray:
        n = self.window
        if x.size < n:  # shorter than a training crop: zero-pad (the network pools over time)
            return np.pad(x, (0, n - x.size))[None].astype(np.float32)
        starts = np.arange(0, x.size - n + 1, n // 2)
        energy = np.array([np.sum(x[s : s + n] ** 2) for s in starts])
        best = starts[np.argsort(energy)[::-1][:MAX_WINDOWS]]
        return np.stack([x[s : s + n] for s in np.sort(best)]).astype(np.float32)

    def estimate(self, y: np.ndarray, *, sample_rate: int) -> Chain:
        """The estimated chain with physical parameter values."""
        return self.chain.with_q(self.predict_q(y, sample_rate))

    # -- storage ---------------------------------------------------------------------------
    def save(self, path: Any) -> Path:
        info = {
            "chain": [s.effect.name for s in self.chain.stages],
            "spec": chain_spec(self.chain),
            "sample_rate": self.sample_rate,
            "window_samples": self.window,
            **self.meta,
        }
        return weights.save(path, self.network, info)

    @classmethod
    def load(cls, path: Any) -> BlindEstimator:
        import torch

        from ...nn import AnalysisNetwork

        path, info = weights.read_info(path)
        chain = Chain.from_names(info["chain"])
        weights.check_spec(info, chain, path, "drywet.estimate.blind.train.train(TrainConfig(...)) on this drywet")
        network = AnalysisNetwork(info["encoder"], chain.num_params, info["sample_rate"], tuple(info["hidden"]))
        network.eval()
        with torch.no_grad():  # materialize lazy layers before loading
            network(torch.zeros(1, 1, info["window_samples"]))
        weights.load_state(network, path)
        return cls(network, chain, sample_rate=info["sample_rate"], window_samples=info["window_samples"], meta=info)


def bundled_estimator(setting: str, *, for_inversion: bool = False) -> BlindEstimator:
    """The shipped estimator for 'eq', 'compressor', 'clipper' or 'chain'; ``for_inversion``
    picks the weights tuned to be inverted stage by stage (drywet invert --estimate) where
    there are some (``FOR_INVERSION``)."""
    if setting not in SETTINGS:
        raise DrywetError(f"setting must be one of {list(SETTINGS)}, not {setting!r}")
    name = FOR_INVERSION.get(setting, setting) if for_inversion else setting
    path = BUNDLED / f"{name}.safetensors"
    if not path.is_file():
        raise DrywetError(f"no bundled weights for {setting!r} ({path}): the installation is incomplete; reinstall drywet, "
                          "or train weights with drywet.estimate.blind.train.train and load them with BlindEstimator.load")
    return BlindEstimator.load(path)
