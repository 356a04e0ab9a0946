"""A tiny real model: trains, saves, reloads; the NumPy forward pass matches Keras."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from manne.model.config import PAPER, ModelConfig, TrainConfig
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


def test_min_width_stops_the_halving_above_the_bottleneck():
    assert ModelConfig(latent=8, max_width=512, min_width=256).hidden == [512, 256]
    assert ModelConfig(latent=8, max_width=512, min_width=200).hidden == [512, 256]
    assert ModelConfig(latent=8, max_width=512, min_width=512).hidden == [512]
    with pytest.raises(ParameterError, match="min_width=1024 must be at most max_width=512"):
        ModelConfig(max_width=512, min_width=1024)


@pytest.mark.parametrize(
    "cfg",
    [
        ModelConfig(latent=2, **TINY),
        ModelConfig(latent=3, bottleneck="lrelu", skip=False, **TINY),
        ModelConfig(latent=8, augment="diff", skip=False, **TINY),
        ModelConfig(latent=8, augment="none", skip=True, **TINY),
        ModelConfig(latent=2, vae=True, beta=0.5, **TINY),
        ModelConfig(latent=8, **PAPER, **TINY),
        ModelConfig(latent=8, min_width=32, **TINY),
    ],
    ids=["chroma-skip", "lrelu-noskip", "diff", "none-skip", "vae", "paper", "shallow"],
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
    ref = keras_model.predict(x, verbose=0)  # S ** power
    ref = np.maximum(ref, 0.0) ** (1.0 / cfg.power)  # the linear magnitudes the NumPy decoder returns
    np.testing.assert_allclose(ae.reconstruct(corpus.S[idx], corpus.pitch[idx], corpus.clip[idx]), ref, atol=1e-5)
    lo, hi = ae.latent_range
    assert (lo <= hi).all()
    # training encodes the corpus once for the sliders' range, the examples and the landmarks: each as it would alone
    from manne.inspect.examples import Examples
    from manne.model.evaluate import latent_range
    from manne.timbre import landmarks

    np.testing.assert_allclose(ae.latent_range, latent_range(ae, corpus, corpus.indices("train")), atol=1e-6)
    np.testing.assert_allclose(Examples.load(out / "examples.npz").z, Examples.from_corpus(ae, corpus).z, rtol=2e-3, atol=1e-4)
    marks, alone = landmarks.read(out), landmarks.compute(ae, corpus)
    assert [(m.name, m.kind, m.frames) for m in marks] == [(m.name, m.kind, m.frames) for m in alone] and marks
    for m, a in zip(marks, alone):
        np.testing.assert_allclose(m.mean, a.mean, atol=1e-5)
        np.testing.assert_allclose(m.std, a.std, atol=1e-5)


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


def test_xla_trains_the_model_keras_trains(tiny_corpus, tmp_path, monkeypatch):
    """The XLA-compiled step (long runs) does the same arithmetic: same start, same batches, weights
    within float rounding of the plain step's after two epochs, and the same validation MSE within 1 %."""
    corpus = load_corpus(tiny_corpus)
    runs, mse = [], []
    for flag in ("0", "1"):
        monkeypatch.setenv("MANNE_XLA", flag)
        m = train(corpus, str(tiny_corpus), tmp_path / flag, model_cfg=ModelConfig(latent=2, **TINY),
                  train_cfg=TrainConfig(epochs=2, batch=64, seed=3), progress=False)
        mse.append(m["val_mse"])
        with np.load(tmp_path / flag / "weights.npz") as z:
            runs.append({k: z[k].astype(np.float64) for k in z.files})
    for k in runs[0]:
        np.testing.assert_allclose(runs[1][k], runs[0][k], rtol=0, atol=2e-3 * max(1.0, np.abs(runs[0][k]).max()))
    assert mse[1] == pytest.approx(mse[0], rel=0.01)


def test_xla_is_for_long_runs_on_one_device(monkeypatch):
    from manne.model.train import XLA_MIN_STEPS, use_xla

    monkeypatch.delenv("MANNE_XLA", raising=False)
    cfg = TrainConfig()
    assert use_xla(cfg, XLA_MIN_STEPS) and not use_xla(cfg, XLA_MIN_STEPS - 1)
    assert use_xla(TrainConfig(minutes=3), 10)  # a time budget is a long run whatever its epochs
    assert not use_xla(cfg, 10 * XLA_MIN_STEPS, devices=2)
    monkeypatch.setenv("MANNE_XLA", "1")
    assert use_xla(cfg, 1) and not use_xla(cfg, 1, devices=2)
    monkeypatch.setenv("MANNE_XLA", "0")
    assert not use_xla(cfg, 10 * XLA_MIN_STEPS)


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
    with pytest.raises(ParameterError, match="latent=0 must be at least 1"):
        ModelConfig(latent=0)
    with pytest.raises(ParameterError, match="bottleneck='tanh' must be one of sigmoid, lrelu"):
        ModelConfig(bottleneck="tanh")
    with pytest.raises(ParameterError, match="epochs=0 must be at least 1"):
        TrainConfig(epochs=0)
    with pytest.raises(ParameterError, match="schedule=.sgdr. must be one of cosine, plateau, constant"):
        TrainConfig(schedule="sgdr")
    with pytest.raises(ParameterError, match="max_minutes=-1 must be >= 0"):
        TrainConfig(max_minutes=-1)
    with pytest.raises(ParameterError, match="warmup=0.9 must be at most 0.5"):
        TrainConfig(warmup=0.9)
    with pytest.raises(ParameterError, match="minutes=nan must be a finite number"):
        TrainConfig(minutes=float("nan"))
    with pytest.raises(ParameterError, match="min_gain=-1 must be >= 0"):
        TrainConfig(min_gain=-1)


def test_command_line_choices_are_the_config_enums():
    from manne.cli import build_parser
    from manne.model.config import AUGMENTS, BOTTLENECKS, SCHEDULES

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["train"]
    choices = {a.dest: a.choices for a in sub._actions}
    assert choices["bottleneck"] is BOTTLENECKS and choices["augment"] is AUGMENTS and choices["schedule"] is SCHEDULES


def test_ctrl_c_keeps_the_best_model_and_resume_continues(tiny_corpus, tmp_path):
    """A real SIGINT to `manne train`: the best model so far is written, then --resume goes on."""
    out = tmp_path / "m"
    cmd = [sys.executable, "-m", "manne.cli", "train", str(tiny_corpus), "-o", str(out), "--latent", "2",
           "--max-width", "64", "--epochs", "2000", "--batch", "32", "--patience", "0", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    history = out / "checkpoint" / "history.csv"  # rewritten whole (atomically) after each epoch
    deadline = time.time() + 300
    while not (history.exists() and len(history.read_text().splitlines()) >= 3):  # a header and two epochs
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < deadline, "two epochs did not end in 300 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # (wherever it lands, two epochs are done: no sleep decides the outcome)
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


# ---- the schedule and the stops ------------------------------------------------------------------

def expected_rates(val_mse, cfg: TrainConfig) -> list[float]:
    """The plateau schedule done by hand: the rate each epoch ran at, given the validation MSEs."""
    rates, lr, best, wait = [], cfg.lr, np.inf, 0
    for v in val_mse:
        rates.append(lr)
        if v < best:
            best, wait = v, 0
        else:
            wait += 1
            if wait >= cfg.plateau_patience:
                lr, wait = max(cfg.min_lr, lr / 2), 0
    return rates


def test_plateau_halves_the_rate_and_patience_stops(tiny_corpus, tmp_path):
    from manne.model.modeldir import read_history

    corpus = load_corpus(tiny_corpus)
    cfg = TrainConfig(epochs=60, batch=64, patience=6, seed=1, schedule="plateau")  # halve after 3 epochs without progress, stop after 6
    m = train(corpus, str(tiny_corpus), tmp_path / "m", model_cfg=ModelConfig(latent=2, **TINY), train_cfg=cfg, progress=False)
    rows = read_history(tmp_path / "m" / "history.csv")
    val, lr = [r["val_mse"] for r in rows], [r["lr"] for r in rows]
    assert lr[-1] < lr[0], "the validation MSE never stalled: no plateau to test"
    np.testing.assert_allclose(lr, expected_rates(val, cfg), rtol=1e-6)
    assert m["stopped"] == "patience" and m["epochs"] < cfg.epochs
    assert m["best_epoch"] == int(np.argmin(val)) + 1
    assert m["epochs"] - m["best_epoch"] == cfg.patience
    assert min(val[m["best_epoch"]:]) >= val[m["best_epoch"] - 1]


def test_constant_schedule_and_no_patience(tiny_corpus, tmp_path):
    from manne.model.modeldir import read_history

    corpus = load_corpus(tiny_corpus)
    cfg = TrainConfig(epochs=12, batch=64, schedule="constant", patience=0, lr=1e-3)
    m = train(corpus, str(tiny_corpus), tmp_path / "m", model_cfg=ModelConfig(latent=2, **TINY), train_cfg=cfg, progress=False)
    rows = read_history(tmp_path / "m" / "history.csv")
    assert m["stopped"] == "epochs" and len(rows) == 12
    np.testing.assert_allclose([r["lr"] for r in rows], 1e-3, rtol=1e-6)


def test_resumed_callbacks_start_where_the_run_stood():
    from manne.model import callbacks as cb

    plateau, stop = cb.callbacks(TrainConfig(patience=6, schedule="plateau"), monitor="val_mse", epoch=11, best_val=0.25, best_epoch=7)
    assert isinstance(plateau, cb.keras.callbacks.ReduceLROnPlateau) and isinstance(stop, cb.keras.callbacks.EarlyStopping)
    plateau.on_train_begin()
    stop.on_train_begin()
    # 4 epochs since the best: the rate was halved after 3 of them, and 1 more has passed since
    assert (plateau.best, plateau.wait, plateau.patience, plateau.factor) == (0.25, 1, 3, 0.5)
    assert (stop.best, stop.wait, stop.patience) == (0.25, 4, 6)
    assert cb.callbacks(TrainConfig(schedule="constant", patience=0), monitor="mse", epoch=0, best_val=None, best_epoch=None) == []


def test_max_minutes_stops_with_a_complete_model(tiny_corpus, tmp_path, capsys):
    from manne.cli import main
    from manne.model.modeldir import is_complete

    out = tmp_path / "m"
    code = main(["train", str(tiny_corpus), "-o", str(out), "--latent", "2", "--max-width", "64", "--epochs", "500",
                 "--batch", "64", "--max-minutes", "0.0001", "-q"])
    stdout = capsys.readouterr().out
    assert code == 0 and "reached --max-minutes" in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stopped"] == "max_minutes" and metrics["epochs"] == 1 and not metrics["interrupted"]
    assert is_complete(out)
    ae = Autoencoder.load(out)
    assert np.isfinite(ae.decode(ae.latent_range.mean(axis=0), 0)).all()


def test_float16_weights_decode_like_float32(tiny_corpus, tmp_path, capsys):
    from manne.cli import main

    corpus = load_corpus(tiny_corpus)
    train(corpus, str(tiny_corpus), tmp_path / "f32", model_cfg=ModelConfig(latent=2, **TINY),
          train_cfg=TrainConfig(epochs=3, batch=64), progress=False)
    code = main(["train", str(tiny_corpus), "-o", str(tmp_path / "f16"), "--latent", "2", "--max-width", "64",
                 "--epochs", "3", "--batch", "64", "--float16", "-q"])
    assert code == 0, capsys.readouterr().err
    with np.load(tmp_path / "f16" / "weights.npz") as z16, np.load(tmp_path / "f32" / "weights.npz") as z32:
        assert {z16[k].dtype for k in z16.files} == {np.dtype(np.float16)}
        assert {z32[k].dtype for k in z32.files} == {np.dtype(np.float32)}
        for k in z32.files:  # the same training, rounded to float16
            np.testing.assert_allclose(z16[k].astype(np.float32), z32[k], rtol=2 ** -10, atol=2 ** -24)
    ae16, ae32 = Autoencoder.load(tmp_path / "f16"), Autoencoder.load(tmp_path / "f32")
    assert ae16.decoder[0].W.dtype == np.float32  # loaded as float32 for the matmul chain
    z = np.random.default_rng(0).uniform(0, 1, (64, 2))
    note = np.arange(64) % 12
    S16, S32 = ae16.decode(z, note), ae32.decode(z, note)
    assert np.abs(S16 - S32).max() <= 1e-2 * np.abs(S32).max()  # float16 rounding, 12 layers deep
    m16 = json.loads((tmp_path / "f16" / "metrics.json").read_text())
    assert m16["test_mse"] == pytest.approx(ae16.mse(*(getattr(corpus, a)[corpus.indices("test")] for a in ("S", "pitch", "clip"))))


def test_bundled_default_model_loads_and_decodes():
    from manne.io.settings import default_model_dir

    d = default_model_dir()
    with np.load(d / "weights.npz") as z:
        assert {z[k].dtype for k in z.files} == {np.dtype(np.float16)}
    ae = Autoencoder.load(d)
    assert ae.latent == 8 and ae.latent_range.shape == (2, 8)
    for note in (0, 7, 11):
        S = ae.decode(ae.latent_range.mean(axis=0), note)
        assert S.shape == (1, ae.analysis.n_bins) and np.isfinite(S).all() and (S >= 0).all() and S.max() > 0


def test_cosine_plan_warms_up_decays_and_stops_at_its_end(tiny_corpus, tmp_path):
    from manne.model.modeldir import read_history
    from manne.model.schedule import CosinePlan

    corpus = load_corpus(tiny_corpus)
    cfg = TrainConfig(epochs=8, batch=64, lr=2e-3, min_lr=1e-5, warmup=0.25, patience=0, min_gain=0)
    m = train(corpus, str(tiny_corpus), tmp_path / "m", model_cfg=ModelConfig(latent=2, **TINY), train_cfg=cfg, progress=False)
    rows = read_history(tmp_path / "m" / "history.csv")
    assert m["stopped"] == "epochs" and len(rows) == 8
    # the rate of each epoch's last batch: the plan's, computed the slow way
    spe = -(-len(corpus.indices("train")) // cfg.batch)
    warm, end = round(0.25 * 8 * spe), 8 * spe

    def slow(step):
        if step < warm:
            return 2e-3 * (step + 1) / warm
        return 1e-5 + (2e-3 - 1e-5) * 0.5 * (1 + np.cos(np.pi * (step - warm) / (end - warm)))

    np.testing.assert_allclose([r["lr"] for r in rows], [slow((e + 1) * spe - 1) for e in range(8)], rtol=1e-5)
    lr = [r["lr"] for r in rows]
    peak = int(np.argmax(lr))
    assert lr[0] < lr[peak] == pytest.approx(2e-3) and (np.diff(lr[peak:]) < 0).all() and lr[-1] < 0.02 * lr[peak]
    plan = CosinePlan(cfg, steps_per_epoch=spe, monitor="val_mse")
    assert plan.rate(warm) == pytest.approx(2e-3) and plan.rate(end) == pytest.approx(1e-5) and plan.planned == 8


def test_a_minutes_budget_plans_the_decay_to_end_with_it(tiny_corpus, tmp_path):
    from manne.model.modeldir import read_history

    corpus = load_corpus(tiny_corpus)
    cfg = TrainConfig(epochs=10_000, batch=64, minutes=0.4, patience=0, min_gain=0)  # 24 s: tens of epochs
    m = train(corpus, str(tiny_corpus), tmp_path / "m", model_cfg=ModelConfig(latent=2, **TINY), train_cfg=cfg, progress=False)
    rows = read_history(tmp_path / "m" / "history.csv")
    assert m["stopped"] == "minutes" and 2 <= len(rows) < 10_000
    assert rows[-1]["lr"] < 0.05 * cfg.lr  # the decay ended with the budget, not cut off at a high rate


def test_slow_progress_anneals_and_stops(tiny_corpus, tmp_path):
    from manne.model.modeldir import read_history

    corpus = load_corpus(tiny_corpus)
    # any progress slower than 1000 % a minute counts as converged: the plan anneals after the window
    cfg = TrainConfig(epochs=10_000, batch=64, patience=0, min_gain=1000.0, warmup=0.0)
    m = train(corpus, str(tiny_corpus), tmp_path / "m", model_cfg=ModelConfig(latent=2, **TINY), train_cfg=cfg, progress=False)
    rows = read_history(tmp_path / "m" / "history.csv")
    assert m["stopped"] == "converged" and len(rows) < 10_000
    assert rows[-1]["lr"] < 0.05 * cfg.lr
    # the anneal takes a fifth as many epochs as ran before it: within the last fifth of the run, the rate
    # fell from where the (hardly begun) cosine stood to the floor
    assert rows[-(len(rows) // 5 + 2)]["lr"] > 0.9 * cfg.lr
