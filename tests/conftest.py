"""Shared fixtures: synthetic tones of known pitch, a tiny corpus and a tiny trained model.

The model is real (Keras, trained for a few epochs on the tones) but small (widest layer 64), so it
trains in seconds; session scope lets every test module reuse it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SR = 44100


def tone(midi: int, seconds: float = 1.0, *, sr: int = SR, harmonics: int = 4, decay: float = 0.5) -> np.ndarray:
    """A harmonic tone of MIDI pitch ``midi``; shape (n_samples,), float32, peak about 0.5."""
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, harmonics + 1) if k * f0 < sr / 2)
    y = y * np.exp(-decay * t)
    return (0.5 * y / np.abs(y).max()).astype(np.float32)


def write_tones(folder: Path, pitches, *, seconds: float = 1.0, sr: int = SR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, midi in enumerate(pitches):
        p = folder / f"tone_{i:02d}_{midi}.wav"
        sf.write(p, tone(midi, seconds, sr=sr), sr)
        paths.append(p)
    return paths


# C major scale over two octaves: notes C D E F G A B (pitch classes 0 2 4 5 7 9 11)
SCALE = [48, 50, 52, 53, 55, 57, 59, 60, 62, 64, 65, 67, 69, 71, 72]


@pytest.fixture(scope="session")
def tone_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tones")
    write_tones(d, SCALE)
    return d


@pytest.fixture(scope="session")
def tiny_corpus(tone_dir, tmp_path_factory) -> Path:
    from manne.corpus import build, save

    out = tmp_path_factory.mktemp("corpus") / "tones.npz"
    save(build([tone_dir], val=0.15, test=0.15, progress=False), out)
    return out


@pytest.fixture(scope="session")
def tiny_model(tiny_corpus, tmp_path_factory) -> Path:
    """A 2-neuron sigmoid model with chroma augmentation and skip, widest layer 64."""
    from manne.config import ModelConfig, TrainConfig
    from manne.corpus import load_corpus
    from manne.train import train

    out = tmp_path_factory.mktemp("models") / "tiny"
    train(load_corpus(tiny_corpus), str(tiny_corpus), out,
          model_cfg=ModelConfig(latent=2, max_width=64),
          train_cfg=TrainConfig(epochs=30, batch=64, lr=2e-3), progress=False)
    return out
