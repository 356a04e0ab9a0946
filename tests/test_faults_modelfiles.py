"""The files beside a model's weights: landmarks added, never lost; pipes refused, never waited on;
a folder that cannot take a file refused before the work, naming the user's file; damaged files said.

A pipe is a real named pipe (``mkfifo``), and each command that could wait on one runs in a child
with a time limit, so a hang fails the test instead of stopping the suite.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from manne.corpus import build, save
from manne.timbre import landmarks

from conftest import write_tones
from faults import copy_model, fifo, manne, one_line_error, read_only, run, snapshot, temporaries


@pytest.fixture(scope="module")
def other_corpus(tmp_path_factory):
    """A corpus of other recordings (other names, another folder) than the tiny model's."""
    d = tmp_path_factory.mktemp("other")
    write_tones(d / "cellos", [49, 56, 61])
    out = d / "other.npz"
    save(build([d / "cellos"], progress=False), out)
    return out


def _names(model):
    return [(m.kind, m.name) for m in landmarks.read(model)]


# ---- landmarks: --force adds, a name already there is refused or --replace'd -------------------

def test_landmarks_force_adds_to_those_already_there(tiny_model, other_corpus, tmp_path, capsys):
    m = copy_model(tiny_model, tmp_path / "m")
    before = landmarks.read(m)
    code, _, err = run(capsys, "landmarks", m, other_corpus)
    one_line_error(code, err, f"{m / 'landmarks.json'} exists; --force adds")
    code, out, err = run(capsys, "landmarks", m, other_corpus, "--force")
    assert code == 0, err
    assert f"kept {len(before)} landmarks already there" in out
    after = {(x.kind, x.name): x for x in landmarks.read(m)}
    assert len(after) == len(before) + 4  # three files and their folder
    for old in before:  # every landmark that was there is there still, as it was
        assert np.allclose(after[(old.kind, old.name)].mean, old.mean)
    assert ("folder", "cellos") in after and [k for k, _ in after][:2] == ["folder", "folder"]


def test_landmarks_of_the_same_names_are_refused_before_the_work_or_replaced(tiny_model, other_corpus, tmp_path, capsys):
    m = copy_model(tiny_model, tmp_path / "m")
    assert run(capsys, "landmarks", m, other_corpus, "--force")[0] == 0
    before = (m / "landmarks.json").read_bytes()
    code, _, err = run(capsys, "landmarks", m, other_corpus, "--force")
    one_line_error(code, err, f"4 of these landmarks are already in {m / 'landmarks.json'} (file 'tone_00_49', ",
                   "folder 'cellos'); --replace replaces them")
    assert (m / "landmarks.json").read_bytes() == before
    code, _, err = run(capsys, "landmarks", m, other_corpus, "--replace")
    assert code == 0, err
    assert _names(m) == [(x["kind"], x["name"]) for x in json.loads(before)["landmarks"]]  # the same ones, anew


def test_replace_writes_a_damaged_landmarks_file_anew(tiny_model, tiny_corpus, tmp_path, capsys):
    m = copy_model(tiny_model, tmp_path / "m")
    names = _names(m)
    (m / "landmarks.json").write_bytes(b"\x00\xff binary")
    code, _, err = run(capsys, "landmarks", m, tiny_corpus, "--force")
    one_line_error(code, err, "landmarks.json: the landmarks file is not UTF-8 text", "--replace")
    assert run(capsys, "landmarks", m, tiny_corpus, "--replace")[0] == 0
    assert _names(m) == names


# ---- pipes in a model folder: refused at once ---------------------------------------------------

PIPES = {  # the file made a pipe -> the command, its arguments after the model
    "landmarks.json/map": ("landmarks.json", "map", ["-o", "{out}/map"]),
    "landmarks.json/morph": ("landmarks.json", "morph", ["tone_00_48", "tone_01_50", "-o", "{out}/m.wav", "--seconds", "1"]),
    "landmarks.json/descriptors": ("landmarks.json", "descriptors", ["-o", "{out}/d", "--points", "3", "--notes", "C"]),
    "landmarks.json/landmarks": ("landmarks.json", "landmarks", ["--force"]),
    "descriptors.json/descriptors": ("descriptors.json", "descriptors", ["-o", "{out}/d", "--points", "3", "--notes", "C"]),
    "config.json/render": ("config.json", "render", ["-o", "{out}/r.wav"]),
    "weights.npz/render": ("weights.npz", "render", ["-o", "{out}/r.wav"]),
}


@pytest.mark.parametrize("case", list(PIPES))
def test_a_pipe_in_a_model_folder_is_refused_without_waiting(case, tiny_model, tmp_path):
    name, command, args = PIPES[case]
    m = copy_model(tiny_model, tmp_path / "m")
    fifo(m / name)
    res = manne(command, m, *[a.format(out=tmp_path) for a in args], timeout=120)
    if name == "descriptors.json":  # descriptors replaces it (it is only the slider labels)
        assert res.returncode == 0, res.stderr
        assert "in place of the damaged one (a pipe, folder or device" in res.stdout
        assert (m / name).is_file()
        return
    one_line_error(res.returncode, res.stderr, f"{m / name}: a pipe, folder or device, not a")


def test_the_window_opens_with_pipes_and_damaged_files_and_says_what_it_ignored(xvfb, tiny_model, tmp_path):
    import tkinter as tk

    from manne.gui.window import SynthWindow
    from manne.model.forward import Autoencoder
    from manne.synth.instrument import Synth

    from tkpump import pump

    cases = {"damaged": lambda m: ((m / "descriptors.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00"),
                                   _nan_landmarks(m)),
             "pipes": lambda m: (fifo(m / "descriptors.json"), fifo(m / "landmarks.json"))}
    for case, damage in cases.items():
        m = copy_model(tiny_model, tmp_path / case)
        damage(m)
        ae = Autoencoder.load(m)
        root = tk.Tk(className="manne")
        win = SynthWindow(root, ae, m, engine=Synth(ae, sr=ae.analysis.sr), audio=None, audio_error="no sound card here")
        try:
            pump(win)
            status = win.status_text()
            assert "ignored landmarks.json (" in status and "ignored descriptors.json (" in status, status
            assert win.pad.landmarks == [] and all(label.cget("text") == "" for label in win.slider_labels)
        finally:
            win.close()


def _nan_landmarks(m):
    doc = json.loads((m / "landmarks.json").read_text())
    doc["landmarks"][0]["mean"] = [float("nan")] * len(doc["landmarks"][0]["mean"])
    (m / "landmarks.json").write_text(json.dumps(doc))


def test_descriptors_replaces_a_binary_descriptors_file_and_says_so(tiny_model, tmp_path, capsys):
    m = copy_model(tiny_model, tmp_path / "m")
    (m / "descriptors.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    code, out, err = run(capsys, "descriptors", m, "-o", tmp_path / "d", "--points", "3", "--notes", "C")
    assert code == 0, err
    assert "kept the slider labels" not in out
    assert "in place of the damaged one (the descriptors file is not UTF-8 text" in out
    assert json.loads((m / "descriptors.json").read_text())["version"]


# ---- a model folder that cannot take a file: refused first, the user's file named ----------------

@pytest.mark.parametrize("command, args", [
    ("descriptors", ["-o", "{out}/d", "--points", "3", "--notes", "C"]),
    ("landmarks", ["{corpus}", "--force"]),
])
def test_a_read_only_model_is_refused_before_the_work(command, args, tiny_model, other_corpus, tmp_path, capsys):
    m = copy_model(tiny_model, tmp_path / "m")
    if command == "descriptors":
        (m / "descriptors.json").unlink(missing_ok=True)  # (so descriptors will want to write it)
    before = snapshot(m)
    argv = [a.format(out=tmp_path, corpus=other_corpus) for a in args]
    with read_only(m):
        code, out, err = run(capsys, command, m, *argv)
    line = one_line_error(code, err, f"manne {command}: error: {m}:")
    assert code == 1 and ".part" not in line and out == ""  # nothing done: no analysis printed
    assert snapshot(m) == before and not (tmp_path / "d").exists()


def test_a_long_legal_output_name_is_written(tiny_model, tmp_path, capsys):
    """A 250-character name: its temporary name (with host, process and random parts) is cut to fit."""
    out = tmp_path / ("x" * 246 + ".wav")
    code, _, err = run(capsys, "render", tiny_model, "-o", out, "--seconds", "0.5")
    assert code == 0, err
    assert out.is_file() and temporaries(tmp_path) == []


def test_a_folder_that_refuses_the_temporary_file_names_the_output(tiny_model, tmp_path, capsys):
    from manne.io.files import atomic_path

    folder = tmp_path / "out"
    folder.mkdir()
    with read_only(folder):
        code, _, err = run(capsys, "render", tiny_model, "-o", folder / "r.wav", "--seconds", "0.5")
        line = one_line_error(code, err, f"manne render: error: {folder}")  # checked first, by the command line
        with pytest.raises(OSError) as exc:  # and should it get past that check, the write names the file
            with atomic_path(folder / "r.wav"):
                pass
    assert ".part" not in line and exc.value.filename == str(folder / "r.wav")
    assert not list(folder.iterdir())
