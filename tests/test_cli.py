"""The command line end to end on generated WAV files, and every bad input the user can give.

Each bad input must give one clear line on stderr naming the problem, a non-zero exit, no
traceback, and no partial output file.
"""

from __future__ import annotations

import json
import shutil

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
    assert_one_line_error(code, err, "--latent 0")
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
