"""Landmarks, the timbre map and morphs (issue 9), on tiny real models trained on tones of known
brightness, and on the bundled default model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from manne.cli import main
from manne.errors import ModelError, ParameterError
from manne.timbre import landmarks
from manne.timbre.morph import Source, interpolate, morph_path, note_path


def centroid(y: np.ndarray, sr: int = 44100, n_fft: int = 4096) -> np.ndarray:
    """Spectral centroid (Hz) of each 4096-sample frame of ``y``, hop 2048."""
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::2048] * np.hanning(n_fft)
    S = np.abs(np.fft.rfft(frames, axis=1))
    f = np.fft.rfftfreq(n_fft, 1 / sr)
    return (S @ f) / np.maximum(S.sum(axis=1), 1e-12)


def test_training_writes_landmarks_of_every_file_and_folder(bright_model, bright_dir):
    from manne.corpus import load_corpus
    from manne.model.forward import Autoencoder

    marks = landmarks.read(bright_model, latent=2)
    files = {m.name for m in marks if m.kind == "file"}
    assert files == {f"{d}/{d}_{m}" for d in ("dark", "bright") for m in (48, 52, 55, 60, 64, 67)}
    folders = {m.name: m for m in marks if m.kind == "folder"}
    assert set(folders) == {"dark", "bright"}
    assert [m.kind for m in marks][:2] == ["folder", "folder"]  # folders first
    assert folders["dark"].frames == sum(m.frames for m in marks if m.name.startswith("dark/"))
    # each is the mean and spread of its frames' codes, encoded one by one with their own notes
    ae, corpus = Autoencoder.load(bright_model), load_corpus(bright_model.parent / "corpus.npz")
    src = np.array(corpus.sources)[corpus.clip_source[corpus.clip]]
    rows = [i for i, s in enumerate(src) if "/dark/" in s]
    z = np.stack([ae.encode(corpus.S[i : i + 1], corpus.pitch[i : i + 1])[0] for i in rows])
    assert folders["dark"].frames == len(rows)
    assert folders["dark"].mean == pytest.approx(z.mean(axis=0), abs=1e-5)
    assert folders["dark"].std == pytest.approx(z.std(axis=0), abs=1e-5)


def test_find_a_landmark_by_name(bright_model):
    marks = landmarks.read(bright_model, latent=2)
    assert landmarks.find(marks, "dark").name == "dark"  # exact beats substring
    assert landmarks.find(marks, "bright_60").name == "bright/bright_60"
    assert landmarks.find(marks, " Bright-60").name == "bright/bright_60"  # case, space, _ and - alike
    with pytest.raises(ParameterError, match="ambiguous: .*dark"):
        landmarks.find(marks, "dark_")
    with pytest.raises(ParameterError, match="no landmark 'brigth' in .*closest: bright"):
        landmarks.find(marks, "brigth", where="the model")


def test_a_damaged_landmarks_file_is_one_line(bright_model, tmp_path):
    import shutil

    m = tmp_path / "m"
    shutil.copytree(bright_model, m)
    doc = json.loads((m / "landmarks.json").read_text())
    doc["landmarks"][0]["mean"] = [0.1]
    (m / "landmarks.json").write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="damaged landmarks file .*needs 2 finite mean"):
        landmarks.read(m)
    (m / "landmarks.json").write_bytes(b"\xff\xfe")
    with pytest.raises(ModelError, match="landmarks"):
        landmarks.read(m)
    (m / "landmarks.json").unlink()
    assert landmarks.read(m) == []


def test_landmarks_command_recomputes_and_map_draws_them(bright_model, tmp_path, capsys):
    import shutil

    m = tmp_path / "m"
    shutil.copytree(bright_model, m)
    before = (m / "landmarks.json").read_text()
    assert main(["landmarks", str(m)]) == 2
    assert "exists; --force adds" in capsys.readouterr().err
    assert main(["landmarks", str(m), str(bright_model.parent / "corpus.npz"), "--replace"]) == 0
    assert "12 files and 2 folders" in capsys.readouterr().out
    again, first = json.loads((m / "landmarks.json").read_text()), json.loads(before)  # same model, same corpus:
    assert [(L["name"], L["kind"], L["frames"]) for L in again["landmarks"]] == \
        [(L["name"], L["kind"], L["frames"]) for L in first["landmarks"]]
    for a, b in zip(again["landmarks"], first["landmarks"]):  # the same codes, within float rounding (BLAS
        for key in ("mean", "std"):  # threads differ between training and the command: 6th decimals move)
            np.testing.assert_allclose(a[key], b[key], rtol=0, atol=1e-5)
    out = tmp_path / "map"
    assert main(["map", str(m), "-o", str(out)]) == 0
    png = out / "map.png"
    assert png.stat().st_size > 20_000
    rows = (out / "map.csv").read_text().splitlines()
    assert rows[0] == "name,kind,frames,z1,z2,z1_std,z2_std" and len(rows) == 1 + 14
    dark = next(r.split(",") for r in rows if r.startswith("dark,"))
    mark = next(m for m in landmarks.read(m) if m.name == "dark")
    lo, hi = np.array(json.loads((m / "config.json").read_text())["latent_range"])
    # a 2-neuron map is the neurons themselves: coordinates and spread in units of the range
    assert [float(v) for v in dark[3:]] == pytest.approx([*(mark.mean - lo) / (hi - lo), *mark.std / (hi - lo)], abs=1e-4)


def test_map_of_the_default_model_uses_the_recordings_plane(tmp_path, capsys):
    from manne.io.settings import default_model_dir

    assert main(["map", str(default_model_dir()), "-o", str(tmp_path)]) == 0
    rows = (tmp_path / "map.csv").read_text().splitlines()
    assert rows[0] == "name,kind,frames,PC1,PC2,PC1_std,PC2_std" and len(rows) == 1 + 33
    uv = np.array([[float(x) for x in r.split(",")[3:5]] for r in rows[2:]])  # the 75 recordings
    assert uv.min() >= -1e-6 and uv.max() <= 1 + 1e-6  # the plane spans them


def test_map_labels_never_overlap(bright_model):
    from manne.inspect.examples import Examples
    from manne.inspect.figures import use_agg
    from manne.inspect.map_plot import plot_map
    from manne.model.forward import Autoencoder
    from manne.io.settings import default_model_dir
    from manne.timbre.plane import Plane

    use_agg()
    for model, named in ((bright_model, 14), (default_model_dir(), 20)):
        ae, ex = Autoencoder.load(model), Examples.load(model / "examples.npz")
        marks = landmarks.read(model, latent=ae.latent)
        means = np.stack([m.mean for m in marks if m.kind == "file"])
        drawn = plot_map(ex.z, ex.z_note, marks, Plane.of_model(ae.latent_range, codes=ex.z, landmark_means=means))
        assert len(drawn.info["labelled"]) >= named, (model, drawn.info["labelled"])
        drawn.fig.canvas.draw()
        ax = drawn.axes[0]
        boxes = [t.get_window_extent() for t in ax.texts]
        assert len(boxes) == len(drawn.info["labelled"])
        frame = ax.get_window_extent()
        for i, b1 in enumerate(boxes):
            assert frame.x0 <= b1.x0 and b1.x1 <= frame.x1 and frame.y0 <= b1.y0 and b1.y1 <= frame.y1
            assert not any(b1.overlaps(b2) for b2 in boxes[i + 1:]), ax.texts[i].get_text()


def test_morph_between_landmarks_of_the_default_model(tmp_path, capsys):
    from manne.io.settings import default_model_dir

    marks = landmarks.read(default_model_dir())
    assert landmarks.find(marks, "church organ v100").name == "train/019_church_organ_v100"
    assert landmarks.find(marks, "trumpet v60").name == "train/056_trumpet_v60"
    out = tmp_path / "m.wav"
    assert main(["morph", str(default_model_dir()), "church organ v100", "trumpet v60", "-o", str(out), "--seconds", "1",
                 "--path", "spherical"]) == 0
    assert "train/019_church_organ_v100 -> train/056_trumpet_v60, spherical path, harmonic; notes C4;" in capsys.readouterr().out
    y, sr = sf.read(out, dtype="float32")
    assert abs(len(y) / sr - 1.3) < 0.02 and np.abs(y).max() > 0.05


def test_spherical_paths_turn_about_the_centre_and_keep_their_ends():
    a, b = np.array([[1.0, 0.0]]), np.array([[0.0, 2.0]])
    w = np.linspace(0, 1, 5)
    z = interpolate(np.repeat(a, 5, 0), np.repeat(b, 5, 0), w, path="spherical")
    assert z[0] == pytest.approx([1, 0]) and z[-1] == pytest.approx([0, 2])
    assert np.linalg.norm(z, axis=1) == pytest.approx(1 + w)  # the radius grows linearly ...
    assert np.degrees(np.arctan2(z[:, 1], z[:, 0])) == pytest.approx(90 * w)  # ... as the angle turns evenly
    lin = interpolate(np.repeat(a, 5, 0), np.repeat(b, 5, 0), w)
    assert lin[2] == pytest.approx([0.5, 1.0])
    with pytest.raises(ParameterError, match="path='curly'"):
        interpolate(a, b, np.array([0.5]), path="curly")


def test_note_path_follows_a_then_b_and_ignores_a_stray_frame():
    a = Source("a", np.zeros((10, 2)), np.array([0, 0, 0, 0, 5, 0, 0, 0, 0, 0]))
    b = Source("b", np.zeros((1, 2)), None)
    notes = note_path(a, b, 20, min_run=3)
    assert set(notes) == {0}  # the lone F is merged away; B lends A's notes
    c = Source("c", np.zeros((1, 2)), np.array([7]))
    assert list(note_path(a, c, 4)) == [0, 0, 7, 7]
    assert note_path(b, b, 4) is None


@pytest.mark.parametrize("path", ["linear", "spherical"])
def test_a_morph_from_dark_to_bright_brightens_steadily(bright_model, tmp_path, path, capsys):
    out = tmp_path / f"{path}.wav"
    # between two recordings of one pitch (a folder's mean blurs six pitches into one code)
    assert main(["morph", str(bright_model), "dark_60", "bright_60", "-o", str(out), "--seconds", "4", "--note", "C4",
                 "--path", path]) == 0
    assert "dark/dark_60 -> bright/bright_60" in capsys.readouterr().out
    y, sr = sf.read(out, dtype="float32")
    assert sr == 44100 and abs(len(y) / sr - 4.3) < 0.05
    c = centroid(y[: 4 * sr])
    seg = [np.median(s) for s in np.array_split(c[2:], 5)]  # past the attack
    assert all(b2 >= b1 * 0.97 for b1, b2 in zip(seg, seg[1:])), seg  # never darker by more than 3 %
    assert seg[-1] > 1.5 * seg[0], seg
    marks = {m.name: m for m in landmarks.read(bright_model)}
    d, b = marks["dark/dark_60"].mean, marks["bright/bright_60"].mean
    z = morph_path(Source("d", d[None], None), Source("b", b[None], None), 9, path=path,
                   latent_range=np.array([[0, 0], [1, 1]]))
    assert z[0] == pytest.approx(d) and z[-1] == pytest.approx(b)


def test_morph_between_audio_files_follows_their_notes(bright_model, bright_dir, tmp_path, capsys):
    out = tmp_path / "files.wav"
    assert main(["morph", str(bright_model), str(bright_dir / "dark" / "dark_55.wav"),
                 str(bright_dir / "bright" / "bright_64.wav"), "-o", str(out), "--seconds", "2"]) == 0
    assert "notes G3 E4;" in capsys.readouterr().out  # A's G3, then B's E4: pitch class and octave from the files
    assert main(["morph", str(bright_model), str(bright_dir / "dark" / "dark_55.wav"),
                 str(bright_dir / "bright" / "bright_64.wav"), "-o", str(out), "--seconds", "2", "--octave", "2",
                 "--force"]) == 0
    assert "notes G2 E2;" in capsys.readouterr().out


@pytest.mark.parametrize("midi", [33, 45, 57, 64, 76, 88])
def test_frame_notes_are_the_tracked_pitch(midi):
    from conftest import tone

    from manne.corpus.analysis import Analysis, analyse
    from manne.timbre.sources import frame_notes

    frames = analyse(tone(midi, 0.5, harmonics=6, decay=0.0), analysis=Analysis())
    assert (frames.note == midi % 12).all()
    assert (frame_notes(frames.pitch) == midi).all() and frames.voiced.all()


def test_morph_bad_inputs_are_one_line(bright_model, tmp_path, capsys):
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(500, dtype=np.float32), 44100)
    cases = [
        (["nowhere", "bright"], "no landmark 'nowhere'"),
        ([str(short), "bright"], "too short"),
        ([str(tmp_path / "missing.wav"), "bright"], "no such audio file"),
        (["dark", "bright", "--seconds", "0"], "--seconds 0.0 must be more than 0"),
        (["dark", "bright", "--note", "H9"], "--note 'H9' is not a note"),
        (["dark", "bright", "--note", "C9"], "--note C9 is MIDI note 120; the instrument plays 21 (A0) to 108 (C8)"),
    ]
    for extra, message in cases:
        assert main(["morph", str(bright_model), *extra[:2], "-o", str(tmp_path / "x.wav"), *extra[2:]]) == 2, extra
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
