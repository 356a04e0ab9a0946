"""Faults while training: a full disk, a hard kill, a diverging run, bad numbers, damaged checkpoints.
(Ctrl-C: ``test_faults_ctrl_c``.)

Nothing that existed is lost (``--force`` replaces a model only once the new one is complete), the
best weights are always resumable, and every failure is one line naming the output.
"""

from __future__ import annotations

import json
import signal

import numpy as np
import pytest

from manne.corpus import load_corpus
from manne.model import modeldir
from manne.model.config import ModelConfig, TrainConfig
from manne.model.forward import Autoencoder

from faults import (TINY_TRAIN, copy_model, file_size_limited, manne, model_files, one_line_error, run, snapshot, stale_name, start, temporaries,
                    wait_for)


def between_checkpoint_and_model(tiny_model) -> int:
    """A file-size limit that the best weights fit under and a Keras model file does not."""
    best = (tiny_model / "checkpoint" / modeldir.BEST_WEIGHTS).stat().st_size
    keras_file = (tiny_model / "model.keras").stat().st_size
    assert best < keras_file, (best, keras_file)
    return (best + keras_file) // 2


# ---- a full disk (a file-size limit: the same OSError path as ENOSPC) -----------------------------

def test_full_disk_at_the_first_best_weights_leaves_nothing(tiny_corpus, tmp_path):
    """In a child process: manne 0.1 crashed here (HDF5 on a full disk: segmentation fault, status 139)."""
    out = tmp_path / "m"
    res = manne("train", tiny_corpus, "-o", out, "--epochs", "3", *TINY_TRAIN, limit=200_000)
    one_line_error(res.returncode, res.stderr, f"{out}/checkpoint/best.weights.npz: File too large")
    assert res.returncode == 1
    assert not out.exists() and temporaries(tmp_path) == []


def test_full_disk_after_the_best_weights_keeps_them_resumable(tiny_model, tiny_corpus, tmp_path, capsys):
    out = tmp_path / "m"
    with file_size_limited(between_checkpoint_and_model(tiny_model)):
        code, _, err = run(capsys, "train", tiny_corpus, "-o", out, "--epochs", "3", *TINY_TRAIN)
    one_line_error(code, err, f"{out}/checkpoint/", "File too large")
    assert not (out / "config.json").exists() and not (out / "weights.npz").exists()  # no half model
    assert modeldir.is_resumable(out) and temporaries(tmp_path) == []
    code, stdout, err = run(capsys, "train", tiny_corpus, "-o", out, "--resume", "--epochs", "3", "-q")
    assert code == 0, err
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 3
    Autoencoder.load(out)


def test_full_disk_under_force_keeps_the_old_model(tiny_model, tiny_corpus, tmp_path, capsys):
    out = copy_model(tiny_model, tmp_path / "m")
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    with file_size_limited(between_checkpoint_and_model(tiny_model)):
        code, _, err = run(capsys, "train", tiny_corpus, "-o", out, "--force", "--epochs", "3", *TINY_TRAIN)
    one_line_error(code, err, f"{out}/", "File too large")
    assert model_files(out) == before and temporaries(tmp_path) == []
    assert modeldir.resumable_run(out) == out / modeldir.NEXT  # the new run's best weights are kept, beside
    code, _, err = run(capsys, "train", tiny_corpus, "-o", out, "--resume", "--epochs", "3", "-q")
    assert code == 0, err
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 3 and not (out / modeldir.NEXT).exists()
    assert (out / "notes.txt").read_text() == "mine"
    Autoencoder.load(out)


def test_full_disk_as_a_force_run_replaces_the_model_keeps_both(tiny_model, tiny_corpus, tmp_path, capsys, monkeypatch):
    """The last step (the renames that swap the new model in) fails: the old model stays, the new run resumes."""
    import errno

    out = copy_model(tiny_model, tmp_path / "m")
    before = snapshot(out)

    def full(stage, out):
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "config.json"))

    monkeypatch.setattr(modeldir, "commit", full)
    code, _, err = run(capsys, "train", tiny_corpus, "-o", out, "--force", "--epochs", "2", *TINY_TRAIN)
    one_line_error(code, err, f"{out}/config.json: No space left on device")
    assert model_files(out) == before and modeldir.resumable_run(out) == out / modeldir.NEXT
    monkeypatch.undo()
    code, _, err = run(capsys, "train", tiny_corpus, "-o", out, "--resume", "--epochs", "2", "-q")
    assert code == 0, err
    assert not (out / modeldir.NEXT).exists() and temporaries(tmp_path) == []
    Autoencoder.load(out)


def test_a_folder_that_cannot_take_the_model_fails_before_the_corpus_loads(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    # the corpus does not exist either: the output is checked first, so that is the error
    code, _, err = run(capsys, "train", tmp_path / "no-corpus.npz", "-o", blocker / "models" / "m", "--epochs", "1")
    one_line_error(code, err, f"manne train: error: {blocker}: not a folder")
    assert code == 1


# ---- a hard kill (Ctrl-C: test_faults_ctrl_c) --------------------------------------------------

@pytest.mark.slow
def test_sigkill_after_the_first_best_epoch_is_resumable(tiny_corpus, tmp_path, capsys):
    out = tmp_path / "m"
    proc = start("train", tiny_corpus, "-o", out, "--epochs", "2000", "--patience", "0", *TINY_TRAIN)
    wait_for(lambda: (out / "checkpoint" / "best.json").exists(), proc)  # written after the best weights
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert modeldir.is_resumable(out)
    done = max(json.loads((out / "checkpoint" / "best.json").read_text())["best_epoch"],
               json.loads((out / "checkpoint" / "state.json").read_text())["epoch"] if (out / "checkpoint" / "state.json").exists() else 0)
    code, stdout, err = run(capsys, "train", tiny_corpus, "-o", out, "--resume", "--epochs", done + 2, "-q")
    assert code == 0, err
    assert json.loads((out / "metrics.json").read_text())["epochs"] == done + 2 and temporaries(tmp_path) == []


@pytest.mark.slow
def test_sigkill_under_force_keeps_the_old_model_and_the_new_run_resumable(tiny_model, tiny_corpus, tmp_path, capsys):
    out = copy_model(tiny_model, tmp_path / "m")
    before = snapshot(out)
    proc = start("train", tiny_corpus, "-o", out, "--force", "--epochs", "2000", "--patience", "0", *TINY_TRAIN)
    wait_for(lambda: (out / modeldir.NEXT / "checkpoint" / "best.json").exists(), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert model_files(out) == before  # the old model plays on ...
    Autoencoder.load(out)
    code, _, err = run(capsys, "train", tiny_corpus, "-o", out, "--resume", "--epochs", "2", "-q")
    assert code == 0, err  # ... until the resumed new run replaces it
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 2
    assert not (out / modeldir.NEXT).exists() and temporaries(tmp_path) == []


# ---- numbers -------------------------------------------------------------------------------------

@pytest.mark.parametrize("option, value, words", [
    ("--beta", "nan", "beta=nan must be a finite number"),
    ("--beta", "inf", "beta=inf must be a finite number"),
    ("--seed", "-1", "seed=-1 must be at least 0"),
    ("--seed", str(2**32), "seed=4294967296 must be at most 4294967295"),
    ("--lr", "nan", "lr=nan must be a finite number"),
    ("--min-lr", "nan", "min_lr=nan must be a finite number"),
    ("--max-minutes", "inf", "max_minutes=inf must be a finite number"),
    ("--latent", "1000000000", "latent=1000000000 must be at most 256"),
])
def test_bad_numbers_are_refused_before_anything_loads(option, value, words, tiny_corpus, tmp_path, capsys):
    out = tmp_path / "m"
    code, _, err = run(capsys, "train", tiny_corpus, "-o", out, "--vae", option, value, "--epochs", "1")
    one_line_error(code, err, "manne train: error:", words)
    assert code == 2 and not out.exists()


def test_a_diverging_run_writes_no_model_and_keeps_the_old_one(tiny_model, tiny_corpus, tmp_path, capsys):
    out = copy_model(tiny_model, tmp_path / "m")
    before = snapshot(out)
    stale = stale_name(out)  # a folder a killed run left beside the model
    (stale / "checkpoint").mkdir(parents=True)
    code, _, err = run(capsys, "train", tiny_corpus, "-o", out, "--force", "--lr", "10", "--bottleneck", "lrelu",
                       "--epochs", "3", *TINY_TRAIN)
    one_line_error(code, err, "training diverged at epoch 1", f"({out} is as it was)", "try a lower --lr")
    assert snapshot(out) == before and temporaries(tmp_path) == []
    assert not stale.exists()


def test_a_run_that_diverges_later_keeps_its_best_epoch(tiny_corpus, tmp_path, monkeypatch):
    from manne.model import callbacks
    from manne.model.train import train

    class Diverge(callbacks.keras.callbacks.Callback):  # the third epoch's weights turn to NaN (before the Monitor sees them)
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                self.model.set_weights([np.full_like(w, np.nan) for w in self.model.get_weights()])

    original = callbacks.callbacks
    monkeypatch.setattr(callbacks, "callbacks", lambda *a, **k: [*original(*a, **k), Diverge()])
    metrics = train(load_corpus(tiny_corpus), str(tiny_corpus), tmp_path / "m", model_cfg=ModelConfig(latent=2, max_width=64),
                    train_cfg=TrainConfig(epochs=10, batch=64), progress=False, log=lambda m: None)
    assert metrics["stopped"] == "diverged" and metrics["best_epoch"] <= 2 and metrics["epochs"] == 3
    ae = Autoencoder.load(tmp_path / "m")
    assert np.isfinite(ae.decode(np.full((1, 2), 0.5), 0)).all()


# ---- damaged checkpoints: one line naming the file and the field ----------------------------------

def _edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _wrong_best_weights(d):
    np.savez(d / "checkpoint" / modeldir.BEST_WEIGHTS, **{"w/0": np.zeros((3, 3), np.float32)})
    (d / "checkpoint" / "state.json").unlink()  # so --resume starts from the best weights


def _truncated_best_weights(d):
    p = d / "checkpoint" / modeldir.BEST_WEIGHTS
    p.write_bytes(p.read_bytes()[:1000])
    (d / "checkpoint" / "state.json").unlink()


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _pickled_best_weights(d):
    np.savez(d / "checkpoint" / modeldir.BEST_WEIGHTS, **{"w/0": np.array([{"run": "code"}], dtype=object)})
    (d / "checkpoint" / "state.json").unlink()


RESUME_DAMAGE = {
    "state-seconds-nan": (lambda d: (d / "checkpoint" / "state.json").write_text('{"epoch": 30, "seconds": NaN}'),
                          "checkpoint/state.json: seconds=nan is not a duration"),
    "best-val-nan": (lambda d: (d / "checkpoint" / "best.json").write_text('{"best_val": NaN, "best_epoch": 3}'),
                     "checkpoint/best.json: best_val=nan and best_epoch=3 must be a finite number and an epoch from 1"),
    "best-epoch-after-the-last": (lambda d: _edit_json(d / "checkpoint" / "best.json", lambda c: c.update(best_epoch=31)),
                                  "checkpoint/history.csv: 30 epochs of history; best.json says the best was epoch 31"),
    "config-without-corpus": (lambda d: _edit_json(d / "checkpoint" / "config.json", lambda c: c.pop("corpus")),
                              "checkpoint/config.json: no 'corpus' section"),
    "config-corpus-without-hash": (lambda d: _edit_json(d / "checkpoint" / "config.json", lambda c: c["corpus"].pop("hash")),
                                   "checkpoint/config.json: the corpus section names no hash"),
    "config-seed-negative": (lambda d: _edit_json(d / "checkpoint" / "config.json", lambda c: c["training"].update(seed=-1)),
                             "checkpoint/config.json: invalid training configuration (seed=-1 must be at least 0)"),
    "config-lr-nan": (lambda d: _edit_json(d / "checkpoint" / "config.json", lambda c: c["training"].update(lr=float("nan"))),
                      "checkpoint/config.json: invalid training configuration (lr=nan must be a finite number)"),
    "best-weights-truncated": (_truncated_best_weights, "checkpoint/best.weights.npz: not a .npz archive"),
    "best-weights-of-another-model": (_wrong_best_weights, "checkpoint/best.weights.npz: does not fit the model"),
    "nothing-to-resume": (lambda d: [(d / "checkpoint" / n).unlink() for n in ("state.json", "best.json")],
                          "nothing to resume"),
    "last-keras-truncated": (lambda d: _truncate(d / "checkpoint" / "last.keras"),
                             "checkpoint/last.keras: damaged, Keras cannot load it"),
    "best-weights-pickled": (_pickled_best_weights, "checkpoint/best.weights.npz: cannot be read (ValueError: Object arrays"),
}


@pytest.mark.parametrize("case", list(RESUME_DAMAGE))
def test_damaged_checkpoint(case, tiny_model, tiny_corpus, tmp_path, capsys):
    damage, words = RESUME_DAMAGE[case]
    d = copy_model(tiny_model, tmp_path / "m")
    damage(d)
    before = snapshot(d)
    code, _, err = run(capsys, "train", tiny_corpus, "-o", d, "--resume", "--epochs", "40", "-q")
    one_line_error(code, err, "manne train: error:", words)
    assert code == 2 and snapshot(d) == before


def test_a_crafted_keras_checkpoint_runs_no_code(tiny_model, tiny_corpus, tmp_path, capsys):
    """A last.keras whose Lambda layer carries Python code: Keras's safe mode refuses it, the code never runs."""
    from manne.model.network import keras

    marker = tmp_path / "the-code-ran"

    def payload(x):
        marker.write_text("ran")
        return x

    crafted = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(payload)])
    d = copy_model(tiny_model, tmp_path / "m")
    crafted.save(d / "checkpoint" / "last.keras")
    marker.unlink(missing_ok=True)  # (building the model above called it)
    code, _, err = run(capsys, "train", tiny_corpus, "-o", d, "--resume", "--epochs", "40", "-q")
    one_line_error(code, err, "checkpoint/last.keras: damaged, Keras cannot load it")
    assert not marker.exists()
