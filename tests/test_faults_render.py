"""Faults of ``manne render`` and its automation files: a full disk, a folder that cannot take the
file, a broken model's output, durations past the longest render, binary files and pipes.

Every case: one line naming the file, a non-zero exit, no WAV and no temporary file left.
"""

from __future__ import annotations

import os
import re
import shutil
import threading

import numpy as np
import pytest

from manne.commands.render import check_output
from manne.errors import ModelError
from manne.model.modeldir import REQUIRED_FILES
from manne.model.weights import WEIGHT_MAX

from faults import file_size_limited, one_line_error, run, stale_name, temporaries


def test_full_disk_names_the_wav_and_leaves_nothing(tiny_model, tmp_path, capsys):
    out = tmp_path / "take.wav"
    with file_size_limited(20_000):  # a 1 s WAV is 88 kB
        code, _, err = run(capsys, "render", tiny_model, "-o", out, "--seconds", "1")
    line = one_line_error(code, err, f"manne render: error: {out}: File too large")
    assert code == 1 and ".part" not in line
    assert not out.exists() and temporaries(tmp_path) == []


def test_full_disk_over_an_existing_file_keeps_it(tiny_model, tmp_path, capsys):
    out = tmp_path / "take.wav"
    out.write_bytes(b"the take I keep")
    with file_size_limited(20_000):
        code, _, err = run(capsys, "render", tiny_model, "-o", out, "--seconds", "1", "--force")
    one_line_error(code, err, f"{out}: File too large")
    assert out.read_bytes() == b"the take I keep" and temporaries(tmp_path) == []


def test_a_folder_that_cannot_take_the_file_fails_before_the_model_loads(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    # the model is damaged too: the folder is checked first, so that is the error
    code, _, err = run(capsys, "render", tmp_path / "no-model", "-o", blocker / "sub" / "out.wav")
    one_line_error(code, err, f"{blocker}: not a folder")
    assert code == 1


def test_stale_temporaries_of_a_killed_render_are_removed_and_nothing_else(tiny_model, tmp_path, capsys):
    out = tmp_path / "take.wav"
    stale = stale_name(out)
    stale.write_bytes(b"\0" * 1000)
    mine = [tmp_path / ".take.wav.mine.part.wav", tmp_path / ".hidden", tmp_path / "take.part.wav"]
    for p in mine:
        p.write_text("mine")
    code, _, err = run(capsys, "render", tiny_model, "-o", out, "--seconds", "0.2")
    assert code == 0, err
    assert not stale.exists() and all(p.read_text() == "mine" for p in mine)


def test_a_model_that_plays_full_scale_noise_is_refused(tiny_paper_model, tiny_corpus, tmp_path, capsys):
    """Weights within the loader's bound (so it loads) but so large that the output is clipped noise (the
    paper's model: a register-aware one's fourth power overflows, and is refused as NaN or Inf)."""
    d = tmp_path / "loud"
    d.mkdir()
    for name in REQUIRED_FILES:
        shutil.copy(tiny_paper_model / name, d / name)
    with np.load(d / "weights.npz") as z:
        arrays = {k: (np.full_like(v, WEIGHT_MAX * 0.9) if k.startswith("decoder") else v) for k, v in z.items()}
    np.savez(d / "weights.npz", **arrays)
    out = tmp_path / "loud.wav"
    code, stdout, err = run(capsys, "render", d, "-o", out, "--seconds", "0.5")
    one_line_error(code, err, f"{d}: the output is at full scale for", "the model is damaged")
    assert code == 2 and not out.exists() and "silent" not in stdout
    code, stdout, err = run(capsys, "evaluate", d, tiny_corpus)
    one_line_error(code, err, "the val MSE is inf; the model's output is not finite")


@pytest.mark.parametrize("y, words", [
    (np.r_[np.zeros(100), np.nan, np.zeros(99)].astype(np.float32), "the output is NaN or Inf from 0.10 s (1 samples)"),
    (np.full(1000, -1.0, np.float32), "constant offset of -1.00 of full scale (DC)"),
    (np.sign(np.random.default_rng(0).standard_normal(1000)).astype(np.float32), "at full scale for 100 %"),
])
def test_output_checks(y, words):
    with pytest.raises(ModelError, match=re.escape(words)):
        check_output(y, sr=1000, model="m")
    check_output(0.9 * np.sin(np.linspace(0, 200, 1000)).astype(np.float32), sr=1000, model="m")  # a loud sine passes


# ---- automation files ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, extra, words", [
    ("0,z,0.5,0.5\n3600.5,z,0.5,0.5\n", [], "row 2 (3600.5, z, 0.5, 0.5): time 3600.5 s is past the longest render (3600 s)"),
    ("0,on,C4\n1e9,off,C4\n", ["--seconds", "1"], "row 2 (1e9, off, C4): time 1e9 s is past the longest render"),
    ("0,z,0.5,0.5\ninf,z,0.5,0.5\n", [], "time inf must be a number >= 0"),
    ("time,z1,z2,note\n0,0.5,0.5,C\n\0\0,1,1\n", [], "the automation file is not CSV text (it holds NUL bytes: a binary file)"),
    (b"\x00" * 64, [], "the automation file is not CSV text (it holds NUL bytes"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", [], "the automation file is not CSV text"),
])
def test_bad_automation_files(text, extra, words, tiny_model, tmp_path, capsys):
    auto = tmp_path / "auto.csv"
    auto.write_bytes(text if isinstance(text, bytes) else text.encode())
    out = tmp_path / "out.wav"
    code, _, err = run(capsys, "render", tiny_model, "--automation", auto, "-o", out, *extra)
    one_line_error(code, err, "manne render: error:", words)
    assert code == 2 and not out.exists()


def test_an_automation_pipe_is_refused_without_waiting(tiny_model, tmp_path, capsys):
    fifo = tmp_path / "auto.csv"
    os.mkfifo(fifo)
    result = {}
    worker = threading.Thread(target=lambda: result.update(r=run(capsys, "render", tiny_model, "--automation", fifo,
                                                                    "-o", tmp_path / "out.wav")), daemon=True)
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():  # let the reader go before failing
        with open(fifo, "w"):
            pass
        pytest.fail("manne render waited on a named pipe")
    code, _, err = result["r"]
    one_line_error(code, err, f"{fifo}: not a regular file")
