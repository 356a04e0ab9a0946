"""Figures render under Agg with the expected panels and points; the plot and experiments commands."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.figure  # noqa: E402

from manne.inspect import plots  # noqa: E402
from manne.corpus import load_corpus  # noqa: E402
from manne.errors import CorpusError, ModelError, ParameterError  # noqa: E402
from manne.model.forward import Autoencoder  # noqa: E402
from manne.inspect.examples import Examples  # noqa: E402
from manne.inspect.mesh import mesh_accuracy  # noqa: E402

from test_mesh import random_ae  # noqa: E402


def n_points(drawn: plots.Drawn) -> list[int]:
    return [len(a.get_offsets()) for a in drawn.artists]


# -- embedding --------------------------------------------------------------------------------------


def test_embedding_of_tiny_model_shows_every_training_frame(tiny_model, tiny_corpus, tmp_path):
    ae, corpus = Autoencoder.load(tiny_model), load_corpus(tiny_corpus)
    idx = corpus.indices("train")
    z = ae.encode(corpus.S[idx], corpus.note[idx])
    d = plots.plot_embedding(z, corpus.note[idx], ranges=ae.latent_range)
    assert len(d.axes) == 1 and n_points(d) == [len(idx)]
    legend = [t.get_text() for t in d.axes[0].get_legend().get_texts()]
    assert legend == [plots.NOTE_NAMES[n] for n in corpus.notes_present("train")]
    # each point has its note's colour
    colors = d.artists[0].get_facecolors()
    assert len(colors) == len(idx)
    assert {tuple(np.round(c[:3], 4)) for c in colors} == {tuple(np.round(plots.note_colors()[n, :3], 4)) for n in np.unique(corpus.note[idx])}
    plots.save_figure(d.fig, tmp_path / "e.png")
    assert (tmp_path / "e.png").stat().st_size > 1000


@pytest.mark.parametrize("latent,panels", [(3, 3), (5, 1), (8, 1)])
def test_embedding_panels(latent, panels):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((300, latent))
    d = plots.plot_embedding(z, rng.integers(0, 12, 300))
    assert len(d.axes) == panels and n_points(d) == [300] * panels
    if latent == 3:
        assert [(a.get_xlabel(), a.get_ylabel()) for a in d.axes] == [("z1", "z2"), ("z1", "z3"), ("z2", "z3")]
    else:
        assert d.axes[0].get_xlabel().startswith("PC1")


def test_embedding_rejects_bad_input():
    with pytest.raises(ParameterError, match="0-11"):
        plots.plot_embedding(np.zeros((3, 2)), np.array([0, 1, 12]))
    with pytest.raises(ParameterError, match="need"):
        plots.plot_embedding(np.zeros((3, 2)), np.array([0, 1]))


def test_pca_2d_matches_the_dominant_directions():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((500, 4)) * [10, 3, 0.1, 0.1]
    p, ex = plots.pca_2d(z)
    assert p.shape == (500, 2) and ex[0] > ex[1] > 0 and ex.sum() <= 1
    assert abs(np.corrcoef(p[:, 0], z[:, 0])[0, 1]) > 0.99


# -- training curves and reconstructions ------------------------------------------------------------


def test_training_curves_from_history(tiny_model):
    lines = plots.plot_training(tiny_model / "history.csv")
    h = plots.read_history(tiny_model / "history.csv")
    labels = [ln.get_label() for ln in lines]
    assert labels[0] == "train" and "validation" in labels and labels[-1].startswith("best (epoch ")
    assert len(lines[0].get_xdata()) == len(h["epoch"]) == 30
    assert lines[0].axes.get_yscale() == "log"


def test_training_curves_read_both_history_formats():
    ax = matplotlib.figure.Figure().subplots()
    old = {"epoch": np.arange(1, 4), "loss": np.array([3.0, 2.0, 1.0]), "val_loss": np.array([3.0, 1.5, 2.0])}
    lines = plots.plot_training(old, ax=ax)
    assert lines[0].axes is ax and [ln.get_label() for ln in lines] == ["train", "validation", "best (epoch 2)"]
    new = {"epoch": np.arange(1, 4), "loss": np.array([4.0, 3.0, 2.0]), "mse": np.array([3.0, 2.0, 1.0]),
           "val_mse": np.full(3, np.nan)}
    lines = plots.plot_training(new)
    assert [ln.get_label() for ln in lines] == ["train", "train loss (with penalties)"]
    np.testing.assert_array_equal(lines[0].get_ydata(), new["mse"])


HISTORY = "epoch,loss,mse,val_mse,lr,seconds,frames\n1,0.5,0.4,0.45,0.001,1.0,100\n2,0.3,0.2,,0.001,1.0,100\n"


def test_read_history_reads_empty_cells_as_nan(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(HISTORY)
    h = plots.read_history(path)
    assert list(h) == ["epoch", "loss", "mse", "val_mse", "lr", "seconds", "frames"]
    np.testing.assert_array_equal(h["epoch"], [1, 2])
    assert h["val_mse"][0] == 0.45 and np.isnan(h["val_mse"][1])


@pytest.mark.parametrize("content,match", [
    (HISTORY.encode() + b"3,\xff\xfe,0.1,,,,\n", "the training history is not CSV text"),  # not UTF-8
    (b"", "the training history is empty"),
    (b"step,value\n1,0.5\n", "not a training history: the header 'step,value' needs epoch and loss or mse"),
    (b"epoch,loss,loss\n1,0.5,0.5\n", "names column loss twice"),
    (HISTORY.encode() + b"3,0.2\n", "epoch row 3 has 2 cells; the header has 7"),
    (HISTORY.encode().replace(b"0.3", b"low"), "epoch row 2, column loss: 'low' is not a number"),
])
def test_read_history_refuses_a_damaged_file(tmp_path, content, match):
    path = tmp_path / "history.csv"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=match) as info:
        plots.read_history(path)
    assert str(path) in str(info.value)
    with pytest.raises(ModelError, match=match):
        plots.plot_training(path)
    with pytest.raises(ModelError, match="no such training history"):
        plots.read_history(tmp_path / "none.csv")


def small_examples() -> Examples:
    rng = np.random.default_rng(0)
    return Examples(rng.random((50, 2), dtype=np.float32), rng.integers(0, 12, 50), rng.random((3, 9), dtype=np.float32),
                    np.array([0, 4, 7]), ["a", "b", "c"], "test")


def test_examples_round_trip(tmp_path):
    ex = small_examples()
    ex.save(tmp_path / "examples.npz")
    back = Examples.load(tmp_path / "examples.npz")
    np.testing.assert_allclose(back.z, ex.z, atol=1e-3)  # stored as float16
    np.testing.assert_array_equal(back.S_note, ex.S_note)
    assert back.S_label == ex.S_label and back.split == "test"
    assert [p.name for p in tmp_path.iterdir()] == ["examples.npz"]  # no temporary file left


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _flipped(data: bytes) -> bytes:  # damage inside the compressed arrays, the zip directory intact
    b = bytearray(data)
    for i in range(100, len(b) // 2, 7):
        b[i] ^= 0xFF
    return bytes(b)


@pytest.mark.parametrize("damage,match", [
    (_truncated, "not an examples archive .* truncated or damaged"),
    (lambda data: b"", r"not an examples archive \(.npz, a zip file\): the file is empty"),
    (lambda data: "été".encode("latin-1") * 40, "the file is another kind of file"),  # not UTF-8, not a zip
    (lambda data: b"note,accuracy\nC,0.5\n", "the file is another kind of file"),
    (_flipped, "the examples file is damaged: its arrays cannot be read"),
])
def test_examples_load_refuses_a_damaged_file(tmp_path, damage, match):
    path = tmp_path / "examples.npz"
    small_examples().save(path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ModelError, match=match) as info:
        Examples.load(path)
    assert str(path) in str(info.value)


def test_examples_load_refuses_wrong_arrays(tmp_path):
    path = tmp_path / "examples.npz"
    with pytest.raises(ModelError, match="no such examples file"):
        Examples.load(path)
    ex = small_examples()
    np.savez(path, z=ex.z, z_note=ex.z_note, S=ex.S)
    with pytest.raises(ModelError, match="lacks S_note, S_label, split"):
        Examples.load(path)
    np.savez(path, z=ex.z, z_note=ex.z_note[:10], S=ex.S, S_note=ex.S_note, S_label=np.array(ex.S_label), split="test")
    with pytest.raises(ModelError, match=r"z has shape \(50, 2\) and z_note \(10,\)"):
        Examples.load(path)
    np.savez(path, z=ex.z, z_note=ex.z_note, S=ex.S, S_note=ex.S_note, S_label=np.array(["a"]), split="test")
    with pytest.raises(ModelError, match="S_label has 1 labels for 3 frames"):
        Examples.load(path)
    np.savez(path, z=ex.z, z_note=ex.z_note + 12, S=ex.S, S_note=ex.S_note, S_label=np.array(ex.S_label), split="t")
    with pytest.raises(ModelError, match="must be 0-11"):
        Examples.load(path)
    np.save(tmp_path / "single.npy", ex.z)
    with pytest.raises(ModelError, match="a single .npy array, not an examples archive"):
        Examples.load(tmp_path / "single.npy")


def test_plot_command_names_a_damaged_file(tiny_model, tmp_path, capsys):
    """A damaged history.csv or examples.npz stops `manne plot` with one line naming the file."""
    import shutil

    from manne.cli import main

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    (model / "history.csv").write_bytes(b"\xff\xfe\x00garbage")
    assert main(["plot", str(model), "-o", str(tmp_path / "p1")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{model / 'history.csv'}: the training history is not CSV text" in err

    shutil.copy(tiny_model / "history.csv", model / "history.csv")
    cfg = json.loads((model / "config.json").read_text())
    cfg["corpus"]["path"] = str(tmp_path / "gone.npz")  # plot from the model's examples.npz
    (model / "config.json").write_text(json.dumps(cfg))
    data = (model / "examples.npz").read_bytes()
    (model / "examples.npz").write_bytes(data[: len(data) // 3])
    assert main(["plot", str(model), "-o", str(tmp_path / "p2")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{model / 'examples.npz'}: not an examples archive" in err


def test_reconstruction_panels(tiny_model, tiny_corpus):
    ae, corpus = Autoencoder.load(tiny_model), load_corpus(tiny_corpus)
    idx = corpus.indices("test")[:3]
    S = corpus.S[idx]
    d = plots.plot_reconstruction(S, ae.reconstruct(S, corpus.note[idx]), sr=44100, n_fft=4096, note=corpus.note[idx])
    assert len(d.axes) == 3 and all(len(a) == 2 for a in d.artists)
    assert all(a.get_xscale() == "log" for a in d.axes)
    assert plots.NOTE_NAMES[corpus.note[idx[0]]] in d.axes[0].get_title()
    with pytest.raises(ParameterError, match="must match"):
        plots.plot_reconstruction(S, S[:2], sr=44100, n_fft=4096)


# -- mesh maps --------------------------------------------------------------------------------------


def test_mesh_map_2d_has_twelve_panels(tiny_model, tmp_path):
    r = mesh_accuracy(Autoencoder.load(tiny_model), points=25)
    d = plots.plot_mesh(r)
    assert len(d.axes) == 12 and all(a is not None for a in d.artists)
    assert d.artists[0].get_array().shape == (25, 25)
    assert d.axes[0].get_title() == f"C: {100 * r.accuracy_of(0):.0f}%"
    assert d.axes[1].get_title().endswith("(unseen)")  # C# is not in the C-major tones
    plots.save_figure(d.fig, tmp_path / "m.png")


def test_mesh_map_3d_is_a_slice():
    r = mesh_accuracy(random_ae(3), points=6, notes=[0, 4, 7])
    d = plots.plot_mesh(r)
    assert len(d.axes) == 12
    assert sum(a is not None for a in d.artists) == 3
    np.testing.assert_array_equal(d.artists[4].get_array(), r.map(4)[:, :, 3].T)  # panels follow C..B
    assert "slice" in d.fig.get_suptitle() and "z3 = " in d.fig.get_suptitle()
    assert d.axes[1].get_title() == "C#: not computed"


# -- the plot command -------------------------------------------------------------------------------


def test_plot_command_writes_three_pngs(tiny_model, tmp_path, capsys):
    from manne.cli import main

    out = tmp_path / "plots"
    assert main(["plot", str(tiny_model), "-o", str(out)]) == 0
    for f in ("embedding.png", "training.png", "reconstruction.png"):
        assert (out / f).stat().st_size > 1000, f
    assert main(["plot", str(tiny_model), "-o", str(out)]) == 2
    assert "use --force" in capsys.readouterr().err
    assert main(["plot", str(tiny_model), "-o", str(out), "--force", "--frames", "2"]) == 0


def test_plot_command_needs_a_corpus(tiny_model, tmp_path, capsys):
    from manne.cli import main

    assert main(["plot", str(tiny_model), "--corpus", str(tmp_path / "none.npz"), "-o", str(tmp_path / "o")]) == 2
    assert "no such corpus file" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "nope"), "-o", str(tmp_path / "o")]) == 2
    assert "no such model directory" in capsys.readouterr().err


# -- the experiments --------------------------------------------------------------------------------


def test_tiny_experiments_write_the_report(tiny_corpus, tmp_path, capsys):
    from manne.cli import main

    out = tmp_path / "results"
    argv = ["experiments", "--corpus", f"tones={tiny_corpus}", "--configs", "8-chroma-skip", "2-sigmoid-skip",
            "--epochs", "1", "--max-width", "32", "--points", "12", "-o", str(out), "-q"]
    assert main(argv) == 0
    report = (out / "report.md").read_text()
    assert "manne experiments --corpus" in report.splitlines()[3]  # the command, at the top
    assert "## Table I:" in report and "## Table II:" in report and "## Table III" not in report
    assert "## Table V" in report
    row = next(line for line in report.splitlines() if line.startswith("| tones | 2-sigmoid-skip |"))
    mse, seconds, epochs, acc = [c.strip() for c in row.split("|")[4:8]]
    assert float(mse) > 0 and float(seconds) > 0 and epochs == "1" and 0 <= float(acc) <= 100
    row8 = next(line for line in report.splitlines() if line.startswith("| tones | 8-chroma-skip |"))
    assert row8.rstrip(" |").endswith("-")  # no mesh for 8 neurons
    v = next(line for line in report.splitlines() if line.startswith("| tones / 2-sigmoid-skip |"))
    assert [c.strip() for c in v.split("|")[2:14]][1] == "-"  # C# was not in the corpus
    for link in re.findall(r"\]\(([^)]+\.png)\)", report):
        assert (out / link).is_file(), link
    assert "plots/tones/2-sigmoid-skip/mesh.png" in report
    with open(out / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["config"], r["status"]) for r in rows] == [("8-chroma-skip", "trained"), ("2-sigmoid-skip", "trained")]
    assert (out / "models" / "tones" / "2-sigmoid-skip" / "weights.npz").is_file()

    # a second run reuses the complete model directories
    capsys.readouterr()
    assert main(argv) == 0
    assert "complete, reusing" in capsys.readouterr().out
    with open(out / "results.csv", newline="") as fh:
        assert {r["status"] for r in csv.DictReader(fh)} == {"reused"}
    # other settings in the same folder need --force
    assert main([a if a != "32" else "16" for a in argv]) == 2
    assert "other settings" in capsys.readouterr().err
    # a damaged metrics.json is named, not a traceback
    metrics = out / "models" / "tones" / "8-chroma-skip" / "metrics.json"
    metrics.write_bytes(b'{"test_mse": \xff}')
    assert main(argv) == 2
    assert f"{metrics}: the metrics file is not UTF-8 text" in capsys.readouterr().err


def test_experiments_reject_bad_input(tiny_corpus, tmp_path):
    from manne.inspect.experiments import parse_corpus_args, run_experiments, select_configs

    with pytest.raises(CorpusError, match="no such corpus file"):
        parse_corpus_args([f"x={tmp_path / 'none.npz'}"])
    with pytest.raises(ParameterError, match="given twice"):
        parse_corpus_args([f"a={tiny_corpus}", f"a={tiny_corpus}"])
    with pytest.raises(ParameterError, match="must be letters"):
        parse_corpus_args([f"a/b={tiny_corpus}"])
    assert list(parse_corpus_args([str(tiny_corpus)])) == ["tones"]
    with pytest.raises(ParameterError, match="not a configuration"):
        select_configs(["9-neurons"])
    assert [e.name for e in select_configs(["III", "8-none"])] == ["8-none", "2-lrelu", "2-lrelu-skip"]
    # bad settings are caught before anything trains
    with pytest.raises(ParameterError, match="max_width=8"):
        run_experiments({"t": tiny_corpus}, tmp_path / "r", configs=select_configs(["I"]), max_width=8)
    with pytest.raises(ParameterError, match="points=1"):
        run_experiments({"t": tiny_corpus}, tmp_path / "r", configs=select_configs(["II"]), points=1)
    assert not (tmp_path / "r").exists()


def test_plot_works_from_the_model_alone(tiny_model, tmp_path, capsys):
    """Without its corpus (as for the bundled default model) `manne plot` uses the model's examples.npz."""
    import shutil

    from manne.cli import main

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    cfg = json.loads((model / "config.json").read_text())
    cfg["corpus"]["path"] = str(tmp_path / "gone.npz")
    (model / "config.json").write_text(json.dumps(cfg))
    assert main(["plot", str(model), "-o", str(tmp_path / "plots")]) == 0
    assert "examples.npz" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["embedding.png", "reconstruction.png", "training.png"]
    (model / "examples.npz").unlink()
    assert main(["plot", str(model), "-o", str(tmp_path / "plots2")]) == 2
    assert "is missing" in capsys.readouterr().err
