"""Every command that writes: onto a full disk, one line naming the output (never a hidden temporary
name), exit 1, and no temporary file left; into a folder that cannot be written, one line before any
work. (Training, the corpus and render have their own files for the rest of their faults.)
"""

from __future__ import annotations

import shutil

import pytest

from faults import file_size_limited, one_line_error, run, temporaries

COMMANDS = {  # name -> (arguments after the model, the output that fails first)
    "plot": (["--corpus", "{corpus}", "-o", "{out}/plots", "--dpi", "40", "--frames", "1"], "plots/embedding.png"),
    "mesh": (["--points", "3", "-o", "{out}/mesh", "-q"], "mesh/mesh.png"),
    "landmarks": (["{corpus}", "--replace"], "model/landmarks.json"),
    "map": (["-o", "{out}/map", "--dpi", "40"], "map/map.png"),
    "descriptors": (["-o", "{out}/desc", "--points", "5", "--notes", "C"], "desc/centroid.png"),
    "morph": (["{tones}/tone_00_48.wav", "{tones}/tone_01_50.wav", "-o", "{out}/morph.wav", "--seconds", "1"], "morph.wav"),
    "transfer": (["{tones}/tone_00_48.wav", "-o", "{out}/transfer.wav"], "transfer.wav"),
    "follow": (["--target", "{out}/target.csv", "-o", "{out}/follow.wav"], "follow.wav"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_full_disk_names_the_output(command, tiny_model, tiny_corpus, tone_dir, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model, ignore=shutil.ignore_patterns("checkpoint", "model.keras"))
    (tmp_path / "target.csv").write_text("time,centroid\n0,500\n1,900\n")
    args, first = COMMANDS[command]
    argv = [a.format(corpus=tiny_corpus, out=tmp_path, tones=tone_dir) for a in args]
    before = (model / "landmarks.json").read_bytes()
    with file_size_limited(2000):
        code, _, err = run(capsys, command, model, *argv)
    line = one_line_error(code, err, f"manne {command}: error: {tmp_path / first}: File too large")
    assert code == 1 and ".part" not in line
    assert temporaries(tmp_path) == [] and (model / "landmarks.json").read_bytes() == before


NEEDS = {  # each writing command with inputs that do not exist: only its -o is checked before them
    "corpus": ["missing.wav"], "train": ["missing.npz"], "render": ["missing"], "plot": ["missing"],
    "mesh": ["missing", "--points", "3"], "map": ["missing"], "descriptors": ["missing"],
    "morph": ["missing", "a.wav", "b.wav"], "transfer": ["missing", "a.wav"], "follow": ["missing", "--target", "t.csv"],
    "experiments": ["--corpus", "a=missing.npz"],
}


@pytest.mark.parametrize("command", list(NEEDS))
def test_an_output_folder_that_cannot_be_written_is_refused_first(command, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = run(capsys, command, *NEEDS[command], "-o", blocker / "out" / "x")
    one_line_error(code, err, f"manne {command}: error: {blocker}: not a folder")
    assert code == 1


def test_an_error_names_the_output_its_temporary_stands_for(tmp_path):
    """One rule (io.files.renamed) for a temporary file (atomic_path) and a staged model folder (training)."""
    import errno
    import os

    from manne.io.files import renamed

    out, tmp = tmp_path / "model", tmp_path / ".model.ab12-1-xxxxxxxx.part"
    full = lambda name: OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), name)  # noqa: E731
    assert renamed(full(str(tmp)), tmp, out).filename == str(out)
    assert renamed(full(str(tmp) + ".npz"), tmp, out).filename == str(out)  # a suffix a library added
    assert renamed(full(str(tmp / "checkpoint" / "state.json")), tmp, out).filename == str(out / "checkpoint" / "state.json")
    assert renamed(full(None), tmp, out).filename == str(out)
    assert renamed(full(str(out / "x")), out, out).filename == str(out / "x")  # a model written in place
    other = full(str(tmp_path / "elsewhere"))
    assert renamed(other, tmp, out) is other
    assert renamed(OSError("no errno"), tmp, out).filename is None
    assert renamed(full(str(tmp)), tmp, out).strerror == os.strerror(errno.ENOSPC)
