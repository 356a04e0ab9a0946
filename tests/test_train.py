"""A tiny real model: trains, saves, reloads; the NumPy forward pass matches Keras."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from manne.model.config import ModelConfig, TrainConfig
from manne.corpus import load_corpus
from manne.errors import ModelError, OutputExistsError, ParameterError
from manne.model.forward import Autoencoder
from manne.model.train import model_inputs, train

TINY = dict(max_width=64)


def test_model_directory_contents(tiny_model):
    files = {p.name for p in tiny_model.iterdir()}
    assert {"config.json", "model.keras", "weights.npz", "history.csv", "metrics.json"} <= files
    cfg = json.loads((tiny_model / "config.json").read_text())
    assert cfg["analysis"]["n_fft"] == 4096 and cfg["model"]["latent"] == 2 and cfg["corpus"]["hash"]
    assert cfg["widths"]["encoder"] == [64, 32, 16, 8, 4, 2]
    metrics = json.loads((tiny_model / "metrics.json").read_text())
    assert metrics["val_mse"] > 0 and metrics["test_mse"] > 0 and metrics["frames_per_second"] > 0
    lines = (tiny_model / "history.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,") and len(lines) == 31


def test_training_lowers_the_loss(tiny_model):
    rows = (tiny_model / "history.csv").read_text().splitlines()[1:]
    mse = [float(r.split(",")[2]) for r in rows]  # training MSE (held-out pitches generalise less)
    assert min(mse[-5:]) < 0.6 * mse[0]


@pytest.mark.parametrize("latent", [2, 3, 8])
def test_widths_halve_down_to_the_bottleneck(latent):
    cfg = ModelConfig(latent=latent)
    assert cfg.hidden[0] == 1024 and all(a == 2 * b for a, b in zip(cfg.hidden, cfg.hidden[1:]))
    assert cfg.hidden[-1] // 2 <= latent < cfg.hidden[-1]


@pytest.mark.parametrize(
    "cfg",
    [
        ModelConfig(latent=2, **TINY),
        ModelConfig(latent=3, bottleneck="lrelu", skip=False, **TINY),
        ModelConfig(latent=8, augment="diff", skip=False, **TINY),
        ModelConfig(latent=8, augment="none", skip=True, **TINY),
        ModelConfig(latent=2, vae=True, beta=0.5, **TINY),
    ],
    ids=["chroma-skip", "lrelu-noskip", "diff", "none-skip", "vae"],
)
def test_numpy_forward_matches_keras(cfg, tiny_corpus, tmp_path):
    import keras

    corpus = load_corpus(tiny_corpus)
    out = tmp_path / "m"
    train(corpus, str(tiny_corpus), out, model_cfg=cfg, train_cfg=TrainConfig(epochs=2, batch=64), progress=False)
    ae = Autoencoder.load(out)
    keras_model = keras.models.load_model(out / "model.keras")
    idx = corpus.indices("test")
    x = model_inputs(corpus, cfg, idx)
    ref = keras_model.predict(x, verbose=0)
    np.testing.assert_allclose(ae.reconstruct(corpus.S[idx], corpus.note[idx], corpus.clip[idx]), ref, atol=1e-5)
    lo, hi = ae.latent_range
    assert (lo <= hi).all()


def test_same_seed_same_model(tiny_corpus, tmp_path):
    corpus = load_corpus(tiny_corpus)
    runs = []
    for name in ("a", "b"):
        train(corpus, str(tiny_corpus), tmp_path / name, model_cfg=ModelConfig(latent=2, **TINY),
              train_cfg=TrainConfig(epochs=2, batch=64, seed=3), progress=False)
        with np.load(tmp_path / name / "weights.npz") as z:
            runs.append({k: z[k] for k in z.files})
    for k in runs[0]:
        np.testing.assert_array_equal(runs[0][k], runs[1][k])


def test_refuses_to_overwrite_and_resumes(tiny_corpus, tmp_path):
    corpus = load_corpus(tiny_corpus)
    out = tmp_path / "m"
    kw = dict(model_cfg=ModelConfig(latent=2, **TINY), progress=False)
    train(corpus, str(tiny_corpus), out, train_cfg=TrainConfig(epochs=2, batch=64), **kw)
    with pytest.raises(OutputExistsError, match="--force"):
        train(corpus, str(tiny_corpus), out, train_cfg=TrainConfig(epochs=2), **kw)
    m = train(corpus, str(tiny_corpus), out, train_cfg=TrainConfig(epochs=4, batch=64), resume=True, **kw)
    assert m["epochs"] == 4
    assert len((out / "history.csv").read_text().splitlines()) == 5
    with pytest.raises(ModelError, match="nothing to resume"):
        train(corpus, str(tiny_corpus), tmp_path / "new", train_cfg=TrainConfig(epochs=2), resume=True, **kw)


def test_early_stopping_and_target(tiny_corpus, tmp_path):
    corpus = load_corpus(tiny_corpus)
    m = train(corpus, str(tiny_corpus), tmp_path / "m", model_cfg=ModelConfig(latent=2, **TINY),
              train_cfg=TrainConfig(epochs=200, batch=64, target_mse=1.0), progress=False)
    assert m["epochs"] == 1


def test_bad_training_parameters():
    with pytest.raises(ParameterError, match="--latent 0"):
        ModelConfig(latent=0)
    with pytest.raises(ParameterError, match="--bottleneck 'tanh'"):
        ModelConfig(bottleneck="tanh")
    with pytest.raises(ParameterError, match="--epochs 0"):
        TrainConfig(epochs=0)


def test_ctrl_c_keeps_the_best_model_and_resume_continues(tiny_corpus, tmp_path):
    """A real SIGINT to `manne train`: the best model so far is written, then --resume goes on."""
    out = tmp_path / "m"
    cmd = [sys.executable, "-m", "manne.cli", "train", str(tiny_corpus), "-o", str(out), "--latent", "2",
           "--max-width", "64", "--epochs", "2000", "--batch", "32", "--patience", "0", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    best = out / "checkpoint" / "best.weights.h5"  # written at the first epoch's end
    deadline = time.time() + 120
    while time.time() < deadline and not best.exists():
        time.sleep(0.1)
    time.sleep(3)  # a few more epochs
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["interrupted"] and 2 <= metrics["epochs"] < 2000
    Autoencoder.load(out)  # complete and loadable
    done = metrics["epochs"]
    res = subprocess.run(cmd[:-5] + ["--epochs", str(done + 2), "--resume", "-q"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert json.loads((out / "metrics.json").read_text())["epochs"] == done + 2
