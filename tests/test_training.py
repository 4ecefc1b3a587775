"""The training loop: schedules against their closed forms, clipping, keep-best, EMA, budgets,
resumable checkpoints, the JSON log, and DDP on 2 CPU processes against one process."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from drywet.errors import DrywetError
from drywet.training import LoopConfig, cosine_lr, fit
from drywet.training.distributed import World, shard

DDP_SCRIPT = Path(__file__).parent / "ddp_train.py"
DDP_TOLERANCE = 1e-5  # relative: 2 processes give the 1-process weights up to float summation order


def _regression(seed=0):
    """y = X w_true + noise: a problem whose batches depend on the step only."""
    w_true = torch.tensor([[1.5], [-2.0], [0.5]])

    def batches(start):
        step = start
        while True:
            g = torch.Generator().manual_seed(1000 + step)
            x = torch.randn(16, 3, generator=g)
            yield x, x @ w_true + 0.01 * torch.randn(16, 1, generator=g)
            step += 1

    torch.manual_seed(seed)
    return torch.nn.Linear(3, 1), batches, w_true


def _mse(model, batch):
    x, y = batch
    return (model(x) - y).square().mean()


def test_cosine_schedule_closed_form():
    assert cosine_lr(1.0, 1, 0.0, warmup_steps=10) == pytest.approx(0.1)
    assert cosine_lr(1.0, 50, 0.5, warmup_steps=10) == pytest.approx(0.02 + 0.98 * 0.5)
    assert cosine_lr(1.0, 100, 1.0, warmup_steps=10) == pytest.approx(0.02)


def test_fit_learns_and_records(tmp_path):
    net, batches, w_true = _regression()
    log = tmp_path / "log.jsonl"
    result = fit(net, _mse, batches, LoopConfig(steps=300, lr=0.05, valid_every=100, log_json=str(log)), log=lambda m: None)
    torch.testing.assert_close(net.weight.detach().T, w_true, atol=0.02, rtol=0)
    assert [r["step"] for r in result.history] == [100, 200, 300] == [json.loads(line)["step"] for line in log.read_text().splitlines()]
    assert result.history[-1]["train_loss"] < 1e-3


def test_keep_best_and_ema_end_with_the_weights_they_scored():
    net, batches, _ = _regression()
    scores = []

    def validate(model):  # deliberately best at the first validation
        scores.append({k: v.clone() for k, v in model.state_dict().items()})
        return {"valid_loss": len(scores)}

    result = fit(net, _mse, batches, LoopConfig(steps=30, lr=0.05, valid_every=10, keep_best=True), validate=validate,
                 log=lambda m: None)
    assert result.best_score == 1
    torch.testing.assert_close(net.state_dict()["weight"], scores[0]["weight"])
    net2, batches2, _ = _regression()
    fit(net2, _mse, batches2, LoopConfig(steps=5, lr=0.05, ema=0.5), log=lambda m: None)
    net3, batches3, _ = _regression()  # the same run without EMA ends elsewhere
    fit(net3, _mse, batches3, LoopConfig(steps=5, lr=0.05), log=lambda m: None)
    assert not torch.equal(net2.weight, net3.weight)


def test_clip_norm_bounds_the_first_step():
    net, batches, _ = _regression()
    before = net.weight.detach().clone()
    fit(net, lambda m, b: 1e6 * _mse(m, b), batches, LoopConfig(steps=1, lr=0.1, warmup_steps=1, clip_norm=1e-3), log=lambda m: None)
    # Adam's first step moves each weight by about lr whatever the gradient's size; clipping must not break that
    assert float((net.weight.detach() - before).abs().max()) == pytest.approx(0.1 * 0.02, rel=1e-3)  # cosine at done=1 on a 1-step run


def test_time_budget_stops_a_run():
    net, batches, _ = _regression()
    result = fit(net, _mse, batches, LoopConfig(steps=10**9, lr=0.01, valid_every=10**9, max_seconds=0.3), log=lambda m: None)
    assert 1 <= result.steps < 10**9 and result.history[-1]["seconds"] >= 0.3


def test_a_killed_run_resumes_from_its_checkpoint_to_the_same_weights(tmp_path):
    config = LoopConfig(steps=40, lr=0.05, valid_every=10, checkpoint=str(tmp_path / "ckpt.pt"), checkpoint_every=10)
    whole, batches, _ = _regression()
    fit(whole, _mse, batches, LoopConfig(steps=40, lr=0.05, valid_every=10), log=lambda m: None)

    class Killed(Exception):
        pass

    net, batches, _ = _regression()

    def dying(start):
        for i, batch in enumerate(batches(start)):
            if start + i == 27:
                raise Killed
            yield batch

    with pytest.raises(Killed):
        fit(net, _mse, dying, config, log=lambda m: None)
    resumed, batches, _ = _regression(seed=5)  # other initial weights: the checkpoint's replace them
    lines = []
    result = fit(resumed, _mse, batches, config, log=lines.append)
    assert result.resumed_from == 20 and lines[0].startswith("resumed from")
    torch.testing.assert_close(resumed.weight, whole.weight, rtol=0, atol=0)
    assert [r["step"] for r in result.history] == [10, 20, 30, 40]
    with pytest.raises(DrywetError, match="other settings .* delete it"):
        fit(resumed, _mse, batches, LoopConfig(steps=80, lr=0.05, checkpoint=config.checkpoint), log=lambda m: None)


@pytest.mark.parametrize("bad, match", [({"schedule": "linear"}, "schedule must be one of"), ({"steps": 0}, "positive"),
                                        ({"ema": 1.0}, "moving average")])
def test_bad_loop_settings_are_refused(bad, match):
    net, batches, _ = _regression()
    with pytest.raises(DrywetError, match=match):
        fit(net, _mse, batches, LoopConfig(**bad), log=lambda m: None)


def test_shard_splits_a_global_batch():
    x = np.arange(8)
    assert shard(x, World(1, 2)).tolist() == [4, 5, 6, 7]
    with pytest.raises(DrywetError, match="multiple"):
        shard(np.arange(7), World(0, 2))


def _run_ddp(tmp_path, nproc):
    out = tmp_path / f"weights_{nproc}.pt"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parent)}
    if nproc == 1:
        cmd = [sys.executable, str(DDP_SCRIPT), str(out)]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", str(DDP_SCRIPT), str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for rank in range(nproc):  # each rank trained on its own half of every global batch, not on all of it
        assert json.loads(Path(f"{out}.rank{rank}.json").read_text()) == [8 // nproc] * 12
    return torch.load(out)


def test_ddp_on_two_cpu_processes_matches_one_process(tmp_path):
    one, two = _run_ddp(tmp_path, 1), _run_ddp(tmp_path, 2)
    assert one.keys() == two.keys()
    for k in one:
        scale = float(one[k].abs().max()) or 1.0
        assert float((one[k] - two[k]).abs().max()) <= DDP_TOLERANCE * max(scale, 1.0), k
    assert math.isfinite(float(sum(v.sum() for v in one.values())))
