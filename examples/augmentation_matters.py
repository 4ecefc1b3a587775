"""Why augmentation matters: a speech-vs-music classifier trained with and without drywet.

    python examples/augmentation_matters.py         # about a minute on 2 CPU cores

Data (real recordings from ../shared/data, split by FILE, never by crop):
  train  speech: CMU ARCTIC speaker aew, two Asterisk prompts;  music: Hobbs, MacLeod
  test   speech: CMU ARCTIC speaker axb, one Asterisk prompt, LibriVox;  music: Brahms,
         castanets, the rendered Bach chorale mix
Everything is resampled to 16 kHz mono and cut into 1 s crops (hop 0.5 s); the larger class
is subsampled so both classes have the same number of crops per split.

Model: mean and standard deviation of 64 log-mel bands (drywet.analysis.invariance.logmel_stats)
-> a 2-layer MLP, trained with Adam for 300 steps. "augmented" adds, per training crop, 4 copies
drawn from drywet's bundled "default" and "telephone" augmentation presets.

Test conditions: clean, and the test crops degraded with fixed seeds by: the telephone preset,
the old-media preset, white noise at 5 dB SNR, MP3 at 32 kbit/s, and a small-speaker
band-limit (400 Hz - 4 kHz). Prints accuracy per condition for both models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from drywet import io
from drywet.analysis.invariance import logmel_stats
from drywet.augment import Augment, EffectDraw

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SR = 16000
CROP = SR
HOP = SR // 2
COPIES = 4

SPLITS = {
    "train": {
        "speech": [*sorted((DATA / "speech").glob("cmu_arctic_us_aew_*.flac")), DATA / "speech/asterisk_allison_agent-alreadyon.flac", DATA / "speech/asterisk_allison_agent-incorrect.flac"],
        "music": [DATA / "music/hobbs_lets_go_fishin.ogg", DATA / "music/macleod_sugar_plum_fairy.ogg"],
    },
    "test": {
        "speech": [*sorted((DATA / "speech").glob("cmu_arctic_us_axb_*.flac")), DATA / "speech/asterisk_allison_conf-onlyperson.flac", DATA / "speech/librivox_flatland_result.flac"],
        "music": [DATA / "music/brahms_hungarian_dance_5.ogg", DATA / "music/castanets_dry.flac", DATA / "multitrack/rendered_bwv66.6/bwv66.6_mix.flac"],
    },
}

CONDITIONS = {
    "clean": None,
    "telephone": Augment.load("telephone"),
    "old media": Augment.load("media"),
    "noise 5 dB": Augment([EffectDraw("colored_noise", params={"snr_db": 5.0})]),
    "mp3 32k": Augment([EffectDraw("mp3", params={"bitrate_kbps": 32})]),
    "small speaker": Augment([EffectDraw("band_limit", params={"low_cut_hz": 400.0, "high_cut_hz": 4000.0})]),
}


def crops(paths: list[Path]) -> list[np.ndarray]:
    out = []
    for path in paths:
        x, _ = io.read_audio(path, sample_rate=SR, channels=1)
        x = np.pad(x, ((0, 0), (0, max(0, CROP - x.shape[-1]))))
        out += [x[:, i : i + CROP] for i in range(0, x.shape[-1] - CROP + 1, HOP) if np.sqrt(np.mean(x[:, i : i + CROP] ** 2)) > 1e-3]
    return out


def balanced(split: dict, rng: np.random.Generator) -> tuple[list[np.ndarray], np.ndarray]:
    speech, music = crops(split["speech"]), crops(split["music"])
    n = min(len(speech), len(music))
    pick = lambda c: [c[i] for i in np.sort(rng.choice(len(c), n, replace=False))]  # noqa: E731
    return pick(speech) + pick(music), np.array([0] * n + [1] * n)


def features(clips: list[np.ndarray]) -> np.ndarray:
    return np.stack([logmel_stats(c, SR) for c in clips]).astype(np.float32)


def train(x: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[torch.nn.Module, np.ndarray, np.ndarray]:
    torch.manual_seed(seed)
    mean, std = x.mean(0), x.std(0) + 1e-6
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    xt, yt = torch.tensor((x - mean) / std), torch.tensor(y)
    for _ in range(300):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    return model, mean, std


def accuracy(model, mean, std, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        return float((model(torch.tensor((x - mean) / std)).argmax(1).numpy() == y).mean())


def main() -> None:
    rng = np.random.default_rng(0)
    train_clips, train_y = balanced(SPLITS["train"], rng)
    test_clips, test_y = balanced(SPLITS["test"], rng)
    print(f"train: {len(train_clips)} crops, test: {len(test_clips)} crops (half speech, half music)")

    augmenters = [Augment.load("default"), Augment.load("telephone")]
    aug_clips, aug_y = list(train_clips), list(train_y)
    for i, (clip, label) in enumerate(zip(train_clips, train_y)):
        for k in range(COPIES):
            aug_clips.append(augmenters[k % 2](clip, sample_rate=SR, rng=[1, i, k]).audio)
            aug_y.append(label)
    models = {
        "clean training": train(features(train_clips), train_y),
        "drywet augmentation": train(features(aug_clips), np.array(aug_y)),
    }
    print(f"{'test condition':16s} " + " ".join(f"{name:>20s}" for name in models))
    for condition, augment in CONDITIONS.items():
        clips = test_clips if augment is None else [augment(c, sample_rate=SR, rng=[2, i]).audio for i, c in enumerate(test_clips)]
        x = features(clips)
        print(f"{condition:16s} " + " ".join(f"{accuracy(*m, x, test_y):20.3f}" for m in models.values()))


if __name__ == "__main__":
    main()
