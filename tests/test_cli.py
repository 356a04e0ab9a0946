"""The command line end to end on generated WAV files, and every bad input the user can give.

Each bad input must give one clear line on stderr naming the problem, a non-zero exit, no
traceback, and no partial output file.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import numpy as np
import pytest
import soundfile as sf

from manne.cli import main

from conftest import SR, tone, write_tones


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *words):
    assert code != 0
    lines = [l for l in err.strip().splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for w in words:
        assert w in lines[0], lines[0]


def test_corpus_train_evaluate_end_to_end(tone_dir, tmp_path, capsys):
    corpus = tmp_path / "tones.npz"
    code, out, _ = run(capsys, "corpus", tone_dir, "-o", corpus, "--val", "0.15", "--test", "0.15", "-q")
    assert code == 0 and corpus.exists()
    code, out, _ = run(capsys, "corpus", tone_dir, "-o", tmp_path / "b.npz", "--val", "0.15", "--test", "0.15")
    assert "15 files" in out and "train" in out and "notes:" in out
    model = tmp_path / "model"
    code, out, err = run(capsys, "train", corpus, "-o", model, "--latent", "3", "--max-width", "32", "--epochs", "2", "-q")
    assert code == 0, err
    assert "validation MSE" in out
    code, out, _ = run(capsys, "evaluate", model)
    assert code == 0 and "val  MSE" in out and "test MSE" in out and "its own corpus" in out
    code, out, _ = run(capsys, "evaluate", model, tmp_path / "b.npz", "--json")
    res = json.loads(out)
    assert res["test_mse"] > 0
    metrics = json.loads((model / "metrics.json").read_text())
    assert abs(metrics["test_mse"] - res["test_mse"]) < 1e-9


@pytest.fixture
def inputs(tmp_path):
    d = tmp_path / "in"
    write_tones(d, [60, 62, 64, 65, 67, 69], seconds=0.6)
    return d


def test_missing_path(tmp_path, capsys):
    code, _, err = run(capsys, "corpus", tmp_path / "nope", "-o", tmp_path / "c.npz")
    assert_one_line_error(code, err, "nope", "no such file")


def test_folder_without_audio(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("hi")
    code, _, err = run(capsys, "corpus", tmp_path / "empty", "-o", tmp_path / "c.npz")
    assert_one_line_error(code, err, "no audio files")


def test_corrupt_file_is_named_and_skip_bad_goes_on(inputs, tmp_path, capsys):
    wav = (inputs / "tone_00_60.wav").read_bytes()
    (inputs / "truncated.wav").write_bytes(wav[:30])
    out = tmp_path / "c.npz"
    code, _, err = run(capsys, "corpus", inputs, "-o", out)
    assert_one_line_error(code, err, "truncated.wav")
    assert not out.exists() and not list(tmp_path.glob(".c.npz*"))
    code, _, err = run(capsys, "corpus", inputs, "-o", out, "--skip-bad", "-q")
    assert code == 0 and out.exists() and "truncated.wav" in err


def test_silent_file(inputs, tmp_path, capsys):
    sf.write(inputs / "silence.wav", np.zeros(SR, dtype=np.float32), SR)
    code, _, err = run(capsys, "corpus", inputs, "-o", tmp_path / "c.npz")
    assert_one_line_error(code, err, "silence.wav", "silent")


def test_file_shorter_than_a_frame(inputs, tmp_path, capsys):
    sf.write(inputs / "blip.wav", tone(60, 0.05), SR)
    code, _, err = run(capsys, "corpus", inputs, "-o", tmp_path / "c.npz")
    assert_one_line_error(code, err, "blip.wav", "shorter than one frame")


def test_nan_samples(inputs, tmp_path, capsys):
    y = tone(60, 0.5)
    y[1000] = np.nan
    sf.write(inputs / "nan.wav", y, SR, subtype="FLOAT")
    code, _, err = run(capsys, "corpus", inputs, "-o", tmp_path / "c.npz")
    assert_one_line_error(code, err, "nan.wav", "NaN or Inf")


def test_existing_outputs_need_force(inputs, tmp_path, capsys):
    out = tmp_path / "c.npz"
    out.write_bytes(b"precious")
    code, _, err = run(capsys, "corpus", inputs, "-o", out)
    assert_one_line_error(code, err, "exists", "--force")
    assert out.read_bytes() == b"precious"
    assert run(capsys, "corpus", inputs, "-o", out, "--force", "-q")[0] == 0
    model = tmp_path / "m"
    model.mkdir()
    (model / "notes.txt").write_text("mine")
    code, _, err = run(capsys, "train", out, "-o", model, "--epochs", "1")
    assert_one_line_error(code, err, "exists", "--force")


def test_corpus_too_small_to_split(tmp_path, capsys):
    sf.write(tmp_path / "one.wav", tone(60, 4100 / SR), SR)
    code, _, err = run(capsys, "corpus", tmp_path / "one.wav", "-o", tmp_path / "c.npz")
    assert_one_line_error(code, err, "too small to split")


def test_bad_model_directories(tiny_model, tiny_corpus, tmp_path, capsys):
    code, _, err = run(capsys, "evaluate", tmp_path / "none")
    assert_one_line_error(code, err, "no such model directory")
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / "weights.npz").unlink()
    code, _, err = run(capsys, "evaluate", broken)
    assert_one_line_error(code, err, "incomplete", "weights.npz")
    old = tmp_path / "old"
    shutil.copytree(tiny_model, old)
    cfg = json.loads((old / "config.json").read_text())
    cfg["format_version"] = 0
    (old / "config.json").write_text(json.dumps(cfg))
    code, _, err = run(capsys, "evaluate", old, tiny_corpus)
    assert_one_line_error(code, err, "format version 0")


def test_corpus_with_other_analysis(tiny_model, tone_dir, tmp_path, capsys):
    other = tmp_path / "other.npz"
    assert run(capsys, "corpus", tone_dir, "-o", other, "--silence-db", "30", "-q")[0] == 0
    code, _, err = run(capsys, "evaluate", tiny_model, other)
    assert_one_line_error(code, err, "analysis parameters differ", "silence_db")


def test_bad_arguments(tiny_corpus, tmp_path, capsys):
    code, _, err = run(capsys, "corpus", tmp_path, "-o", tmp_path / "c.wav")
    assert_one_line_error(code, err, ".npz")
    code, _, err = run(capsys, "train", tiny_corpus, "-o", tmp_path / "m", "--latent", "0")
    assert_one_line_error(code, err, "latent=0 must be at least 1")
    code, _, err = run(capsys, "train", tmp_path / "missing.npz", "-o", tmp_path / "m")
    assert_one_line_error(code, err, "no such corpus")
    assert not (tmp_path / "m").exists()


def test_debug_shows_the_traceback(tmp_path, capsys):
    code, _, err = run(capsys, "--debug", "corpus", tmp_path / "nope", "-o", tmp_path / "c.npz")
    assert code == 2 and "Traceback" in err


def test_force_only_replaces_model_directories(tiny_corpus, tmp_path, capsys):
    music = tmp_path / "music"
    music.mkdir()
    (music / "take1.wav").write_bytes(b"precious")
    code, _, err = run(capsys, "train", tiny_corpus, "-o", music, "--force", "--epochs", "1")
    assert_one_line_error(code, err, "not a manne model directory")
    assert (music / "take1.wav").read_bytes() == b"precious"


def test_os_errors_are_one_line(tone_dir, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(capsys, "corpus", tone_dir, "-o", blocker / "c.npz", "-q")
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1


# ---- damaged model directories: every file a command reads is named in one line ------------------

def damaged_copy(tiny_model, tmp_path, name, content):
    """A copy of the tiny model (with its checkpoint) whose file ``name`` holds ``content``."""
    d = tmp_path / "damaged"
    shutil.copytree(tiny_model, d)
    (d / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return d


def config_with(tiny_model, **changes) -> str:
    cfg = json.loads((tiny_model / "config.json").read_text())
    for path, value in changes.items():
        section, _, key = path.partition("__")
        if key:
            cfg[section][key] = value
        elif value is None:
            del cfg[section]
        else:
            cfg[section] = value
    return json.dumps(cfg)


CHECKPOINT_DAMAGE = {
    "state-not-json": ("checkpoint/state.json", "{\"epoch\": 3", "checkpoint/state.json: the training state is not valid JSON"),
    "state-binary": ("checkpoint/state.json", b"\xff\xfe\x00\x01", "checkpoint/state.json: the training state is not UTF-8"),
    "state-list": ("checkpoint/state.json", "[1, 2]", "checkpoint/state.json: the training state is not a JSON object"),
    "state-epoch": ("checkpoint/state.json", '{"epoch": "ten", "seconds": 1.0}', "epoch='ten' is not an epoch count"),
    "best-values": ("checkpoint/best.json", '{"best_val": "low", "best_epoch": 3}', "checkpoint/best.json: best_val='low'"),
    "best-not-json": ("checkpoint/best.json", "", "checkpoint/best.json: the best score is not valid JSON"),
    "history-cells": ("checkpoint/history.csv", "epoch,loss,mse,val_mse,lr,seconds,frames\n1,x,1,1,1,1,1\n",
                      "checkpoint/history.csv: row 1 holds a cell that is not a number"),
    "history-header": ("checkpoint/history.csv", "a,b\n1,2\n", "checkpoint/history.csv: the training history's header"),
    "history-short": ("checkpoint/history.csv", "epoch,loss,mse,val_mse,lr,seconds,frames\n",
                      "checkpoint/history.csv: 0 epochs of history; state.json says 30"),
    "ckpt-config": ("checkpoint/config.json", "null", "checkpoint/config.json: the model configuration is not a JSON object"),
    "last-keras": ("checkpoint/last.keras", b"PK\x03\x04 not a zip", "checkpoint/last.keras: damaged, Keras cannot load it"),
}


@pytest.mark.parametrize("case", list(CHECKPOINT_DAMAGE), ids=list(CHECKPOINT_DAMAGE))
def test_damaged_checkpoint_stops_resume(case, tiny_model, tiny_corpus, tmp_path, capsys):
    name, content, words = CHECKPOINT_DAMAGE[case]
    d = damaged_copy(tiny_model, tmp_path, name, content)
    code, _, err = run(capsys, "train", tiny_corpus, "-o", d, "--resume", "--epochs", "40", "-q")
    assert code == 2
    assert_one_line_error(code, err, "manne train: error:", words)
    assert json.loads((d / "metrics.json").read_text())["epochs"] == 30  # the finished model is untouched


MODEL_DAMAGE = {
    "config-binary": ("config.json", b"\x89PNG\r\n", "config.json: the model configuration is not UTF-8"),
    "config-no-model": ("config.json", dict(model=None), "config.json: no 'model' section"),
    "config-latent-type": ("config.json", dict(model__latent="two"), "config.json: invalid model configuration (latent='two' must be an integer)"),
    "config-latent-value": ("config.json", dict(model__latent=0), "latent=0 must be at least 1"),
    "config-analysis-type": ("config.json", dict(analysis__n_fft="4096"), "n_fft='4096' must be an integer"),
    "config-latent-range": ("config.json", dict(latent_range=[[0, 1]]), "latent_range must be two lists of 2 finite numbers"),
    "weights-garbage": ("weights.npz", b"not an npz file", "weights.npz: not a .npz archive"),
    "weights-truncated": ("weights.npz", None, "weights.npz: not a .npz archive"),
    "weights-bad-array": ("weights.npz", "zip", "weights.npz: cannot be read"),
}


@pytest.mark.parametrize("case", list(MODEL_DAMAGE), ids=list(MODEL_DAMAGE))
def test_damaged_model_files(case, tiny_model, tiny_corpus, tmp_path, capsys):
    name, content, words = MODEL_DAMAGE[case]
    if isinstance(content, dict):
        content = config_with(tiny_model, **content)
    elif content is None:  # the first half of the real file
        data = (tiny_model / name).read_bytes()
        content = data[: len(data) // 2]
    elif content == "zip":  # a zip archive whose array is not an array
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("encoder/0/W.npy", b"\x93NUMPY garbage")
        content = buf.getvalue()
    d = damaged_copy(tiny_model, tmp_path, name, content)
    code, _, err = run(capsys, "evaluate", d, tiny_corpus)
    assert code == 2
    assert_one_line_error(code, err, "manne evaluate: error:", words)


def test_weights_of_another_shape(tiny_model, tiny_corpus, tmp_path, capsys):
    d = tmp_path / "m"
    shutil.copytree(tiny_model, d)
    with np.load(d / "weights.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["decoder/1/W"] = arrays["decoder/1/W"][:-1]
    np.savez(d / "weights.npz", **arrays)
    code, _, err = run(capsys, "evaluate", d, tiny_corpus)
    assert code == 2
    assert_one_line_error(code, err, "weights.npz: decoder layer 1 has W", "does not match config.json")


REFERENCE_DAMAGE = {
    "metrics-not-json": ("metrics.json", "{oops", "metrics.json: the metrics file is not valid JSON"),
    "metrics-value": ("metrics.json", '{"test_mse": "small", "val_mse": 1e-3}', "metrics.json: test_mse='small' is not a number"),
    "history-binary": ("history.csv", b"\xff\xfe\x00garbage", "history.csv: the training history is not CSV text"),
    "history-ragged": ("history.csv", "epoch,loss,mse,val_mse,lr,seconds,frames\n1,2\n", "history.csv: row 1 has 2 cells"),
}


@pytest.mark.parametrize("case", list(REFERENCE_DAMAGE), ids=list(REFERENCE_DAMAGE))
def test_damaged_benchmark_reference(case, tiny_model, tiny_corpus, tmp_path, capsys):
    name, content, words = REFERENCE_DAMAGE[case]
    d = damaged_copy(tiny_model, tmp_path, name, content)
    code, _, err = run(capsys, "bench", "train", tiny_corpus, "--reference", d, "--workdir", tmp_path / "runs")
    assert code == 2
    assert_one_line_error(code, err, "manne bench: error:", words)
    assert not (tmp_path / "runs").exists()
