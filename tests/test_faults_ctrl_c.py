"""Ctrl-C while training, wherever it lands: exit 130, no traceback, the best model written, and an
interrupted ``--force`` run never replaces the old model (its own stays resumable in ``.next/``).

The signals are real (``signal.raise_signal`` from a callback at a named moment of the run, in this
process or a child), so each test knows where the press landed and the outcome cannot depend on
timing; the slow test sends one from outside at whatever moment it reaches.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from manne.model import modeldir
from manne.model.forward import Autoencoder

from faults import TINY_TRAIN, copy_model, model_files, run, start, temporaries, wait_for

# where the press lands: (hook, epoch, batch); "finish" is after the last epoch, while the model is written
MOMENTS = {
    "before-training": ("on_train_begin", None, None),
    "first-batch": ("on_train_batch_begin", 0, 1),
    "first-validation": ("on_test_batch_begin", 0, 0),
    "first-epoch-end": ("on_epoch_end", 0, None),
    "between-epochs": ("on_epoch_begin", 1, None),
    "second-epoch-batch": ("on_train_batch_begin", 1, 2),
    "second-validation": ("on_test_batch_begin", 1, 0),
    "while-the-model-is-written": ("on_train_end", None, None),
}
TAKEN = ("first-epoch-end", "while-the-model-is-written")  # (taking the new run as it is: for two of them)
EPOCHS_DONE = {"before-training": 0, "first-batch": 0, "first-validation": 0, "first-epoch-end": 1,
               "between-epochs": 1, "second-epoch-batch": 1, "second-validation": 1, "while-the-model-is-written": 3}


def press_at(monkeypatch, moment: str, times: int = 1):
    """Press Ctrl-C (a real SIGINT to this process) at ``moment`` of the next training run."""
    from manne.model import callbacks

    hook, at_epoch, at_batch = MOMENTS[moment]
    state = {"epoch": None}

    class Press(callbacks.keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            state["epoch"] = epoch
            self._maybe("on_epoch_begin", epoch=epoch)

        def _maybe(self, name, *, epoch=None, batch=None):
            if name == hook and at_epoch in (None, epoch) and at_batch in (None, batch):
                for _ in range(times):
                    signal.raise_signal(signal.SIGINT)

        def on_train_begin(self, logs=None):
            self._maybe("on_train_begin")

        def on_train_end(self, logs=None):
            self._maybe("on_train_end")

        def on_epoch_end(self, epoch, logs=None):
            self._maybe("on_epoch_end", epoch=epoch)

        def on_train_batch_begin(self, batch, logs=None):
            self._maybe("on_train_batch_begin", epoch=state["epoch"], batch=batch)

        def on_test_batch_begin(self, batch, logs=None):
            self._maybe("on_test_batch_begin", epoch=state["epoch"], batch=batch)

    original = callbacks.callbacks  # (the schedule's list: before the history and the Monitor)
    monkeypatch.setattr(callbacks, "callbacks", lambda *a, **k: [Press(), *original(*a, **k)])


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_ctrl_c_under_force_keeps_the_old_model_and_the_new_run(moment, tiny_model, tiny_corpus, tmp_path, capsys,
                                                                 monkeypatch):
    out = copy_model(tiny_model, tmp_path / "m")
    (out / "descriptors.json").write_text("{}")  # a file of the user's, beside the model
    before = model_files(out)
    press_at(monkeypatch, moment)
    code, stdout, err = run(capsys, "train", tiny_corpus, "-o", out, "--force", "--epochs", "3", *TINY_TRAIN)
    assert code == 130, err
    assert "Traceback" not in err and "manne train: interrupted" in err
    assert model_files(out) == before and temporaries(tmp_path) == []
    done = EPOCHS_DONE[moment]
    if done == 0:
        assert f"nothing written ({out} is as it was)" in stdout and not (out / modeldir.NEXT).exists()
        return
    assert f"{out} is as it was" in stdout and f"--resume --epochs {done}` takes it" in stdout
    assert modeldir.resumable_run(out) == out / modeldir.NEXT
    if moment not in TAKEN:
        return
    monkeypatch.undo()
    code, _, err = run(capsys, "train", tiny_corpus, "-o", out, "--resume", "--epochs", done, "-q")  # take it
    assert code == 0, err
    assert json.loads((out / "metrics.json").read_text())["epochs"] == done
    assert not (out / modeldir.NEXT).exists() and not (out / "descriptors.json").exists()
    Autoencoder.load(out)


@pytest.mark.parametrize("moment", ["before-training", "second-epoch-batch", "while-the-model-is-written"])
def test_ctrl_c_in_a_new_model_writes_the_best_so_far(moment, tiny_corpus, tmp_path, capsys, monkeypatch):
    out = tmp_path / "m"
    press_at(monkeypatch, moment)
    code, stdout, err = run(capsys, "train", tiny_corpus, "-o", out, "--epochs", "3", *TINY_TRAIN)
    assert code == 130, err
    assert "Traceback" not in err and temporaries(tmp_path) == []
    done = EPOCHS_DONE[moment]
    if done == 0:
        assert not out.exists()  # so the same command can simply be run again
        return
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == done and metrics["interrupted"] == (done < 3)
    Autoencoder.load(out)


_TWICE = """
import signal, sys
from manne.model import callbacks
from manne.cli import main
original = callbacks.callbacks
class Twice(callbacks.keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
    def on_train_batch_begin(self, batch, logs=None):
        if self.epoch == 1 and batch == 1:
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)
            print("still running after the second Ctrl-C", file=sys.stderr)
callbacks.callbacks = lambda *a, **k: [Twice(), *original(*a, **k)]
sys.exit(main(sys.argv[1:]))
"""


def test_a_second_ctrl_c_stops_at_once(tiny_model, tiny_corpus, tmp_path, capsys):
    """In a child (it ends with os._exit): the old model as it was, the new run resumable from its first epoch."""
    out = copy_model(tiny_model, tmp_path / "m")
    before = model_files(out)
    res = subprocess.run([sys.executable, "-c", _TWICE, "train", str(tiny_corpus), "-o", str(out), "--force",
                          "--epochs", "3", *TINY_TRAIN], capture_output=True, text=True, timeout=300)
    assert res.returncode == 130, res.stderr
    assert "Ctrl-C again: stopped at once" in res.stderr and "still running" not in res.stderr
    assert "Traceback" not in res.stderr
    assert model_files(out) == before
    assert modeldir.resumable_run(out) == out / modeldir.NEXT
    code, _, err = run(capsys, "train", tiny_corpus, "-o", out, "--resume", "--epochs", "2", "-q")
    assert code == 0, err
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 2 and temporaries(tmp_path) == []


@pytest.mark.slow
def test_sigint_under_force_from_outside_keeps_the_old_model(tiny_model, tiny_corpus, tmp_path, capsys):
    """A real Ctrl-C from outside after the first epoch, wherever in the run it lands (TensorFlow's C++
    code included): exit 130, no traceback, the old model byte for byte, the new run resumable."""
    out = copy_model(tiny_model, tmp_path / "m")
    before = model_files(out)
    proc = start("train", tiny_corpus, "-o", out, "--force", "--epochs", "2000", "--patience", "0", *TINY_TRAIN)
    wait_for(lambda: (out / modeldir.NEXT / "checkpoint" / "best.json").exists(), proc)
    proc.send_signal(signal.SIGINT)
    stdout, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "--resume --epochs" in stdout
    assert model_files(out) == before and temporaries(tmp_path) == []
    Autoencoder.load(out)
    assert modeldir.resumable_run(out) == out / modeldir.NEXT
    done = json.loads((out / modeldir.NEXT / "checkpoint" / "state.json").read_text())["epoch"]
    code, _, err = run(capsys, "train", tiny_corpus, "-o", out, "--resume", "--epochs", done, "-q")
    assert code == 0, err
    assert json.loads((out / "metrics.json").read_text())["epochs"] == done


def test_ctrl_c_before_anything_loads_exits_130(tiny_corpus, tmp_path):
    """Ctrl-C while the corpus loads (the handler is in place before it): nothing written, no traceback."""
    code = ("import signal, sys\nfrom manne import corpus\nfrom manne.cli import main\n"
            "load = corpus.load_corpus\n"
            "def pressed(*a, **k):\n    signal.raise_signal(signal.SIGINT)\n    return load(*a, **k)\n"
            "corpus.load_corpus = pressed\nsys.exit(main(sys.argv[1:]))\n")
    out = tmp_path / "m"
    res = subprocess.run([sys.executable, "-c", code, "train", str(tiny_corpus), "-o", str(out), *TINY_TRAIN],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 130 and "Traceback" not in res.stderr, res.stderr
    assert "manne train: interrupted" in res.stderr and not out.exists()
