"""Augmentation: labels reproduce the audio, distributions follow the spec, paired application,
torch seeding across workers and epochs, and the folder job (atomic, resumable after a kill,
deterministic for any worker count and for Ray)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf
import torch

from drywet import ParameterError
from drywet.augment import Augment, EffectDraw
from drywet.augment.folder import Job, run_job
from drywet.augment.pipeline import bundled_presets
from drywet.augment.torch_data import AugmentedDataset, TorchAugment
from drywet.chain import Chain
from drywet.errors import DrywetError

SR = 16000


def clip(seconds=0.5, channels=1, seed=0):
    return (0.3 * np.random.default_rng(seed).standard_normal((channels, int(seconds * SR)))).astype(np.float32)


def test_returned_chain_reproduces_the_audio_exactly():
    aug = Augment(["parametric_eq", "compressor", "colored_noise", "dropouts", "mp3"])
    x = clip()
    result = aug(x, sample_rate=SR, rng=3)
    assert len(result.chain) == 5
    again = Chain.from_dict(json.loads(json.dumps(result.labels)))  # labels survive JSON
    assert np.array_equal(again(x, sample_rate=SR), result.audio)


def test_probabilities_select_effects_at_their_rate():
    aug = Augment([EffectDraw("gain", p=0.25), EffectDraw("polarity", p=1.0)])
    rng = np.random.default_rng(0)
    chains = [aug.sample(rng) for _ in range(2000)]
    rate = np.mean([any(s.effect.name == "gain" for s in c.stages) for c in chains])
    assert rate == pytest.approx(0.25, abs=0.03)
    assert all(any(s.effect.name == "polarity" for s in c.stages) for c in chains)


def test_default_draws_are_uniform_in_normalized_space_and_overrides_are_respected():
    aug = Augment([EffectDraw("compressor", params={"threshold_db": [-20.0, -10.0], "ratio": 4.0})])
    rng = np.random.default_rng(1)
    draws = [aug.sample(rng).stages[0].params for _ in range(3000)]
    attack = np.array([d["attack_ms"] for d in draws])  # log-scaled 1..60 ms: log-uniform
    q = np.log(attack / 1.0) / np.log(60.0)
    assert np.mean(q) == pytest.approx(0.5, abs=0.02) and np.std(q) == pytest.approx(1 / np.sqrt(12), abs=0.01)
    thr = np.array([d["threshold_db"] for d in draws])
    assert thr.min() >= -20.0 and thr.max() <= -10.0 and np.all([d["ratio"] == 4.0 for d in draws])


def test_option_choices_and_seeds_are_drawn():
    aug = Augment([EffectDraw("colored_noise", options={"color": {"choices": ["pink", "brown"]}})])
    rng = np.random.default_rng(2)
    stages = [aug.sample(rng).stages[0] for _ in range(200)]
    assert {s.options["color"] for s in stages} == {"pink", "brown"}
    assert len({s.options["seed"] for s in stages}) == 200


def test_random_order_shuffles_and_max_effects_caps():
    aug = Augment(["gain", "polarity", "pan", "tremolo"], random_order=True, max_effects=2)
    rng = np.random.default_rng(0)
    chains = [aug.sample(rng) for _ in range(100)]
    assert all(len(c) == 2 for c in chains)
    assert len({tuple(s.effect.name for s in c.stages) for c in chains}) > 6


def test_paired_application_uses_one_chain():
    aug = Augment(["parametric_eq", "colored_noise"])
    x, target = clip(seed=1), clip(seed=2)
    y, t, chain = aug.paired(x, target, sample_rate=SR, rng=5)
    assert np.array_equal(y, chain(x, sample_rate=SR)) and np.array_equal(t, chain(target, sample_rate=SR))


@pytest.mark.parametrize(
    "entry, match",
    [
        ({"effect": "gain", "p": 1.5}, "probability"),
        ({"effect": "gain", "params": {"gain_db": [-50, 0]}}, "gain_db=-50 is out of range"),
        ({"effect": "gain", "params": {"gain_db": [1, 2, 3]}}, r"\[lo, hi\]"),
        ({"effect": "gain", "params": {"level": 1}}, "no parameter 'level'"),
        ({"effect": "colored_noise", "options": {"color": "blue"}}, "not allowed"),
        ({"effect": "nope"}, "unknown effect"),
    ],
)
def test_bad_augmentation_entries_are_clear_errors(entry, match):
    with pytest.raises((ParameterError, DrywetError), match=match):
        Augment([entry])


def test_presets_round_trip_and_bundled_presets_load(tmp_path):
    aug = Augment([EffectDraw("mp3", 0.5, {"bitrate_kbps": [32, 64]}), "gain"], random_order=True)
    aug.save(tmp_path / "a.yaml")
    loaded = Augment.load(tmp_path / "a.yaml")
    assert loaded.to_dict() == aug.to_dict()
    assert set(bundled_presets()) >= {"default", "telephone", "media"}
    x = clip(1.0)
    for name in bundled_presets():
        y = Augment.load(name)(x, sample_rate=SR, rng=0).audio
        assert np.isfinite(y).all()
    aug.save(tmp_path / "a.json")
    assert Augment.load(tmp_path / "a.json").to_dict() == aug.to_dict()
    with pytest.raises(DrywetError, match="exists"):
        aug.save(tmp_path / "a.yaml")
    (tmp_path / "bad.yaml").write_text("effects: [unclosed")
    with pytest.raises(DrywetError, match="cannot parse augmentation preset"):
        Augment.load(tmp_path / "bad.yaml")
    with pytest.raises(DrywetError, match="bundled presets: default"):
        Augment.load(tmp_path / "missing.yaml")


# -- torch ---------------------------------------------------------------------------------
class _Clips(torch.utils.data.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.from_numpy(clip(0.05, seed=i))


class _TransformedClips(_Clips):
    def __init__(self, n, transform):
        super().__init__(n)
        self.transform = transform

    def __getitem__(self, i):
        y, chains = self.transform(super().__getitem__(i))
        return y, json.dumps(chains[0].to_dict())


AUG = Augment([EffectDraw("gain", 1.0), EffectDraw("colored_noise", 0.5)])


def _epoch(loader, seed):
    torch.manual_seed(seed)
    return [c for _, chains in loader for c in chains]


def test_torch_transform_workers_never_repeat_and_a_seed_reproduces_the_epoch():
    loader = torch.utils.data.DataLoader(_TransformedClips(16, TorchAugment(AUG, sample_rate=SR, seed=7)), batch_size=4, num_workers=2)
    first = _epoch(loader, 0)
    assert len(set(first)) == 16, "two workers produced the same draw"
    assert _epoch(loader, 0) == first
    assert _epoch(loader, 1) != first


def test_augmented_dataset_is_independent_of_worker_count_and_epochs_differ():
    data = AugmentedDataset(_Clips(8), AUG, sample_rate=SR, seed=3, crop_samples=400)

    def chains(workers):
        loader = torch.utils.data.DataLoader(data, batch_size=2, num_workers=workers)
        return [c for batch in loader for c in batch["chain"]]

    zero, two = chains(0), chains(2)
    assert zero == two and len(set(zero)) == 8
    item = data[0]
    assert item["audio"].shape == (1, 400) and item["clean"].shape == (1, 400)
    data.set_epoch(1)
    assert chains(0) != zero


# -- folder jobs -------------------------------------------------------------------------
def _make_inputs(folder, n=6):
    folder.mkdir()
    (folder / "sub").mkdir()
    for i in range(n):
        where = folder / "sub" if i % 2 else folder
        sf.write(where / f"clip{i}.wav", clip(0.3, channels=1 + i % 2, seed=i).T, SR if i % 3 else 8000)
    sf.write(folder / "surround_192k.flac", clip(0.05, channels=6).T, 192000)  # 6 channels, 192 kHz
    sf.write(folder / "truncated.flac", clip(0.3).T, SR)
    data = (folder / "truncated.flac").read_bytes()
    (folder / "truncated.flac").write_bytes(data[: len(data) // 2])  # cut mid-stream
    sf.write(folder / "interrupted_copy.wav", clip(0.3).T, SR)  # libsndfile alone reads its first half
    data = (folder / "interrupted_copy.wav").read_bytes()
    (folder / "interrupted_copy.wav").write_bytes(data[: len(data) // 2])
    (folder / "broken.wav").write_bytes(b"RIFF0000WAVEnot audio")
    (folder / "empty.flac").write_bytes(b"")
    (folder / "notes.txt").write_text("not audio")


def _snapshot(folder):
    """File contents by path; audio decoded (libsndfile stamps float wavs with the time)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            is_output = p.suffix == ".wav" and "_aug" in p.name
            out[str(p.relative_to(folder))] = sf.read(p, dtype="float32")[0].tobytes() if is_output else p.read_bytes()
    return out


PRESET = Augment([EffectDraw("parametric_eq", 0.7), EffectDraw("colored_noise", 0.7), EffectDraw("dropouts", 0.5)])


def test_folder_job_writes_outputs_and_manifest_and_reports_bad_files(tmp_path):
    _make_inputs(tmp_path / "in")
    before = _snapshot(tmp_path / "in")
    summary = run_job(Job(tmp_path / "in", tmp_path / "out", PRESET, copies=2, seed=1), progress=False)
    assert _snapshot(tmp_path / "in") == before, "inputs must never change"
    failed = {f["source"] for f in summary.failed}
    assert failed == {"broken.wav", "empty.flac", "notes.txt", "truncated.flac", "interrupted_copy.wav"} and not summary.ok
    assert "truncated" in next(f["error"] for f in summary.failed if f["source"] == "interrupted_copy.wav")
    rows = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert summary.written == len(rows) == 14
    assert len({r["output"] for r in rows}) == len(rows)
    assert any(r["channels"] == 6 and r["sample_rate"] == 192000 for r in rows)
    for r in rows:
        y, sr = sf.read(tmp_path / "out" / r["output"], dtype="float32", always_2d=True)
        x, _ = sf.read(tmp_path / "in" / r["source"], dtype="float32", always_2d=True)
        assert sr == r["sample_rate"] and y.shape == x.shape
        chain = Chain.from_dict(r["chain"])
        assert np.allclose(chain(x.T, sample_rate=sr), y.T, atol=1e-6), "the manifest's chain reproduces the output"
    assert (tmp_path / "out" / "manifest.csv").read_text().count("\n") == len(rows) + 1
    again = run_job(Job(tmp_path / "in", tmp_path / "out", PRESET, copies=2, seed=1), progress=False)
    assert again.written == 0 and again.skipped == len(rows)


def test_folder_job_is_identical_for_any_worker_count(tmp_path):
    _make_inputs(tmp_path / "in")
    for workers in (0, 1, 2):  # 0: in this process
        run_job(Job(tmp_path / "in", tmp_path / f"w{workers}", PRESET, copies=2, seed=4), workers=workers, progress=False)
    snapshots = [_snapshot(tmp_path / f"w{workers}") for workers in (0, 1, 2)]
    for snapshot in snapshots:
        snapshot.pop("manifest.jsonl")  # the journal is in completion order
    assert snapshots[0] == snapshots[1] == snapshots[2]
    with pytest.raises(DrywetError, match="workers must be 0"):
        run_job(Job(tmp_path / "in", tmp_path / "bad", PRESET, copies=1, seed=4), workers=-1, progress=False)


def test_folder_job_refuses_unsafe_output_folders(tmp_path):
    _make_inputs(tmp_path / "in")
    with pytest.raises(DrywetError, match="inside the input folder"):
        run_job(Job(tmp_path / "in", tmp_path / "in" / "out", PRESET, 1, 0), progress=False)
    (tmp_path / "a_file").write_bytes(b"user data")
    with pytest.raises(DrywetError, match="is a file"):
        run_job(Job(tmp_path / "in", tmp_path / "a_file", PRESET, 1, 0), progress=False)
    assert (tmp_path / "a_file").read_bytes() == b"user data"
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.wav").write_bytes(b"user data")
    with pytest.raises(DrywetError, match="no drywet manifest"):
        run_job(Job(tmp_path / "in", tmp_path / "busy", PRESET, 1, 0), progress=False)


def test_killed_job_resumes_without_loss_or_duplicates(tmp_path):
    """Kill the CLI mid-run (SIGKILL), run it again, compare with an uninterrupted run."""
    src = tmp_path / "in"
    src.mkdir()
    for i in range(40):
        sf.write(src / f"c{i:02d}.wav", clip(1.0, seed=i).T, SR)
    preset = tmp_path / "p.yaml"
    Augment([EffectDraw("mp3", 1.0), EffectDraw("colored_noise", 0.5)]).save(preset)
    cmd = [sys.executable, "-m", "drywet.cli", "augment", str(src), str(tmp_path / "out"), "--preset", str(preset), "--copies", "2", "--seed", "9", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = tmp_path / "out" / "manifest.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not manifest.exists() or manifest.read_text().count("\n") < 10):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = manifest.read_text().count("\n")
    assert 10 <= partial < 80, "the kill should land mid-run"
    assert subprocess.run(cmd, capture_output=True, check=False).returncode == 0
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert len(rows) == 80 and len({r["output"] for r in rows}) == 80
    assert not list((tmp_path / "out").glob(".*")), "no temp files left"
    clean = subprocess.run([*cmd[:5], str(tmp_path / "clean"), *cmd[6:]], capture_output=True, check=False)
    assert clean.returncode == 0
    resumed, fresh = _snapshot(tmp_path / "out"), _snapshot(tmp_path / "clean")
    for name in fresh:
        if name.endswith(".wav") or name in ("manifest.json", "manifest.csv"):
            assert resumed[name] == fresh[name], name


def test_ray_backend_gives_the_local_manifest(tmp_path):
    pytest.importorskip("ray")
    _make_inputs(tmp_path / "in", n=4)
    run_job(Job(tmp_path / "in", tmp_path / "local", PRESET, copies=2, seed=2), progress=False)
    run_job(Job(tmp_path / "in", tmp_path / "ray", PRESET, copies=2, seed=2), workers=2, backend="ray", progress=False)
    local, ray_out = _snapshot(tmp_path / "local"), _snapshot(tmp_path / "ray")
    assert local["manifest.json"] == ray_out["manifest.json"]
    assert {k for k in local if k.endswith(".wav")} == {k for k in ray_out if k.endswith(".wav")}


def test_cli_exit_code_says_whether_files_failed(tmp_path):
    from drywet.cli import main

    _make_inputs(tmp_path / "in", n=2)
    assert main(["augment", str(tmp_path / "in"), str(tmp_path / "out"), "--quiet", "--preset", "telephone"]) == 1
    good = tmp_path / "good"
    good.mkdir()
    sf.write(good / "a.wav", clip(0.3).T, SR)
    assert main(["augment", str(good), str(tmp_path / "out2"), "--quiet"]) == 0
    assert main(["augment", str(good), str(tmp_path / "out3"), "--preset", "missing.yaml"]) == 2


def test_a_missing_codec_library_is_reported_per_file(tmp_path, monkeypatch):
    (tmp_path / "in").mkdir()
    sf.write(tmp_path / "in" / "a.wav", clip(0.3).T, SR)
    monkeypatch.setitem(sys.modules, "lameenc", None)  # as if lameenc were not installed
    summary = run_job(Job(tmp_path / "in", tmp_path / "out", Augment(["mp3"]), 1, 0), progress=False)
    assert summary.written == 0
    assert "MP3 needs lameenc: pip install lameenc" in summary.failed[0]["error"]


def test_drawn_curves_are_labels_that_reproduce_the_audio():
    aug = Augment([EffectDraw("lowpass", 1.0, {"freq_hz": {"curve": [300, 6000], "points": 4}}),
                   EffectDraw("colored_noise", 1.0, {"snr_db": {"curve": [5, 40]}})])
    x = clip()
    result = aug(x, sample_rate=SR, rng=3)
    sweep, noise = (s.params for s in result.chain.stages)
    assert len(sweep["freq_hz"]) == 4 and all(300 <= f <= 6000 for f in sweep["freq_hz"]) and len(noise["snr_db"]) == 2
    again = Chain.from_dict(json.loads(json.dumps(result.labels)))
    assert np.array_equal(again(x, sample_rate=SR), result.audio)
    assert np.array_equal(aug(x, sample_rate=SR, rng=3).audio, result.audio)
    fixed = Augment.from_chain(result.chain)  # a stored curve stays fixed (not read as a range)
    assert fixed.sample(np.random.default_rng(0)).stages[0].params == sweep


@pytest.mark.parametrize(("effect", "rule", "message"), [
    ("compressor", {"ratio": {"curve": [2, 4]}}, "takes no curve"),
    ("lowpass", {"freq_hz": {"curve": [300, 8000], "points": 1}}, "points >= 2"),
    ("lowpass", {"freq_hz": {"curve": [300]}}, "curve: \\[lo, hi\\]"),
    ("lowpass", {"freq_hz": {"curve": [3, 8000]}}, "out of range"),
])
def test_bad_curve_rules_are_refused(effect, rule, message):
    with pytest.raises(ParameterError, match=message):
        EffectDraw(effect, 1.0, rule)


_REAL_RENDER = None


def _render_or_die(job, source, copies):
    """render_source, except that a file named poison* kills its process as the OOM killer would."""
    if source.startswith("poison"):
        os.kill(os.getpid(), signal.SIGKILL)
    return _REAL_RENDER(job, source, copies)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_that_kills_its_worker_is_reported_and_the_job_goes_on(tmp_path, monkeypatch, workers):
    global _REAL_RENDER
    from drywet.augment import folder

    _REAL_RENDER = folder.render_source
    monkeypatch.setattr(folder, "render_source", _render_or_die)  # the forked workers inherit it
    (tmp_path / "in").mkdir()
    for name in ("a", "b", "poison", "c", "d"):
        sf.write(tmp_path / "in" / f"{name}.wav", clip(0.2, seed=len(name)).T, SR)
    summary = run_job(Job(tmp_path / "in", tmp_path / "out", PRESET, copies=2, seed=1), workers=workers, progress=False)
    assert [f["source"] for f in summary.failed] == ["poison.wav"] and "died" in summary.failed[0]["error"]
    rows = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert summary.written == len(rows) == 8 and {r["source"] for r in rows} == {"a.wav", "b.wav", "c.wav", "d.wav"}


def test_an_augmentation_workers_cannot_receive_points_to_workers_0(tmp_path):
    import threading

    (tmp_path / "in").mkdir()
    sf.write(tmp_path / "in" / "a.wav", clip(0.1).T, SR)
    aug = Augment(["gain"])
    aug.lock = threading.Lock()  # cannot be pickled to a worker process
    with pytest.raises(DrywetError, match="workers=0"):
        run_job(Job(tmp_path / "in", tmp_path / "out", aug, 1, 0), workers=1, progress=False)
    assert run_job(Job(tmp_path / "in", tmp_path / "out0", aug, 1, 0), workers=0, progress=False).written == 1
