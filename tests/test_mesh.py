"""Mesh accuracy: the grid, the fast band-limited decode against the obvious one, the tiny model, tables, CLI."""

from __future__ import annotations

import numpy as np
import pytest

from manne.model.config import PAPER, ModelConfig
from manne.corpus.analysis import Analysis, chroma_argmax, chroma_filter
from manne.dsp import NOTE_NAMES
from manne.errors import ModelError, ParameterError
from manne.model.forward import Autoencoder, Dense
from manne.inspect.mesh import _labeller
from manne.inspect.mesh_fast import chroma_energies, near_ties
from manne.inspect.mesh import MAX_GRID, latent_grid, markdown_table, mesh_accuracy, read_csv, write_csv, write_markdown

SEEN = [0, 2, 4, 5, 7, 9, 11]  # C major, the notes of the tone fixtures


def random_ae(latent: int = 3, *, skip: bool = True, max_width: int = 16, present=SEEN, seed: int = 0,
              paper: bool = True, gain: float = 1.0) -> Autoencoder:
    """An untrained model with random weights (no Keras): enough to test the mesh arithmetic; the paper's
    (linear magnitudes, ReLU output) or a register-aware one (S ** 0.25, linear output)."""
    cfg = ModelConfig(latent=latent, skip=skip, max_width=max_width, **(PAPER if paper else {}))
    rng = np.random.default_rng(seed)
    widths = list(reversed(cfg.hidden)) + [cfg.n_bins]
    n_in = latent + (cfg.n_note if skip else 0)
    dec = []
    for i, w in enumerate(widths):
        W = (gain * rng.standard_normal((n_in, w)) / np.sqrt(n_in)).astype(np.float32)
        b = (0.1 * rng.standard_normal(w) + (0.05 if i == len(widths) - 1 else 0)).astype(np.float32)
        dec.append(Dense(W, b, cfg.output if i == len(widths) - 1 else "lrelu"))
        n_in = w
    info = {"corpus": {"notes_present": list(present)}, "latent_range": [[-1.0] * latent, [2.0] * latent]}
    return Autoencoder(cfg, Analysis(), [], dec, info)


def slow_labels(ae: Autoencoder, grid: np.ndarray, note: int) -> np.ndarray:
    a = ae.analysis
    fb = chroma_filter(sr=a.sr, n_fft=a.n_fft, fmin=a.fmin, fmax=a.fmax)
    return chroma_argmax(ae.decode(grid, note), fb)


# -- the grid ---------------------------------------------------------------------------------------


def test_latent_grid_order_and_ends():
    g = latent_grid(np.array([[0.0, -1.0], [1.0, 1.0]]), 3)
    assert g.shape == (9, 2) and g.dtype == np.float32
    np.testing.assert_allclose(g[0], [0, -1])
    np.testing.assert_allclose(g[1], [0, 0])  # the last neuron varies fastest
    np.testing.assert_allclose(g[3], [0.5, -1])
    np.testing.assert_allclose(g[-1], [1, 1])
    assert latent_grid(np.zeros((2, 3)) + [[0], [1]], 4).shape == (64, 3)


@pytest.mark.parametrize("points", [1, 0, -3, 2.5])
def test_latent_grid_rejects_too_few_points(points):
    with pytest.raises(ParameterError, match="at least 2"):
        latent_grid(np.array([[0.0, 0.0], [1.0, 1.0]]), points)


def test_latent_grid_rejects_bad_ranges_and_huge_grids():
    with pytest.raises(ParameterError, match=r"\(2, latent\)"):
        latent_grid(np.zeros((3, 2)), 10)
    with pytest.raises(ParameterError, match="NaN"):
        latent_grid(np.array([[0.0, np.nan], [1.0, 1.0]]), 10)
    fit = int(MAX_GRID ** 0.5)
    with pytest.raises(ParameterError, match=f"--points {fit} or fewer"):
        latent_grid(np.array([[0.0, 0.0], [1.0, 1.0]]), fit + 1)
    with pytest.raises(ParameterError, match="--points 6 or fewer"):
        mesh_accuracy(random_ae(8, max_width=16), points=40)


# -- the fast decode against the obvious one --------------------------------------------------------


@pytest.mark.parametrize("latent,skip,paper", [(2, True, True), (3, True, True), (3, False, True), (2, True, False)])
def test_band_limited_labels_match_full_decode(latent, skip, paper):
    ae = random_ae(latent, skip=skip, paper=paper)
    r = mesh_accuracy(ae, points=9, batch=50)
    grid = latent_grid(ae.latent_range, 9)
    slow = np.stack([slow_labels(ae, grid, n) for n in range(12)])
    assert len(np.unique(slow)) > 1  # the random decoder is not trivially constant
    np.testing.assert_array_equal(r.predicted, slow)
    np.testing.assert_allclose(r.accuracy, (slow == np.arange(12)[:, None]).mean(axis=1))
    assert r.predicted.shape == (12, 9**latent) and r.map(0).shape == (9,) * latent


@pytest.mark.parametrize("paper", [True, False])
def test_bfloat16_labels_with_near_ties_again_match_full_decode(paper):
    ae = random_ae(2, max_width=512, paper=paper, gain=1.4)  # layers of 256 and 512 run in bfloat16
    r = mesh_accuracy(ae, points=40, fast=True)
    grid = latent_grid(ae.latent_range, 40)
    slow = np.stack([slow_labels(ae, grid, n) for n in range(12)])
    assert len(np.unique(slow)) > 1
    np.testing.assert_array_equal(r.predicted, slow)


def test_bfloat16_labels_of_the_default_model_are_its_float32_labels(default_ae):
    ae = default_ae
    dec, fbT = _labeller(ae)
    grid = latent_grid(ae.latent_range, 3)  # 6,561 codes of the 8 neurons
    E = chroma_energies(dec, fbT)(grid, 60)
    assert 0.0 < near_ties(E).mean() < 0.5  # some codes are labelled again, most are not
    fast = mesh_accuracy(ae, points=3, fast=True)
    np.testing.assert_array_equal(fast.predicted, mesh_accuracy(ae, points=3, fast=False).predicted)


def test_near_ties():
    E = np.array([[1.0, 2.0, 0.5], [1.0, 1.1, 0.0], [0.0, 0.0, 0.0], [np.nan, 1.0, 0.0], [3.0, 1.0, 2.5]])
    np.testing.assert_array_equal(near_ties(E, 1.12), [False, True, True, True, False])
    assert near_ties(E[4:], 1.25).all()


def test_batch_size_does_not_change_the_result():
    ae = random_ae(2)
    a = mesh_accuracy(ae, points=30, batch=7)
    b = mesh_accuracy(ae, points=30, batch=100_000)
    np.testing.assert_array_equal(a.predicted, b.predicted)


def test_notes_subset_and_names():
    ae = random_ae(2)
    full = mesh_accuracy(ae, points=10)
    part = mesh_accuracy(ae, points=10, notes=["E", "A#", 0])
    assert part.notes == (4, 10, 0)
    assert part.accuracy_of("Bb") == pytest.approx(full.accuracy_of(10))
    with pytest.raises(ParameterError, match="not computed"):
        part.accuracy_of("D")


@pytest.mark.parametrize("kwargs,match", [
    ({"points": 1}, "at least 2"),
    ({"points": 10, "notes": ["H"]}, "not a note name"),
    ({"points": 10, "notes": [12]}, "between 0"),
    ({"points": 10, "notes": []}, "empty"),
    ({"points": 10, "batch": 0}, "batch"),
    ({"points": 10, "ranges": np.zeros((2, 3))}, r"must be \(2, 2\)"),
])
def test_mesh_accuracy_rejects_bad_input(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        mesh_accuracy(random_ae(2), **kwargs)


def test_missing_model_dir_raises_model_error(tmp_path):
    with pytest.raises(ModelError, match="no such model directory"):
        Autoencoder.load(tmp_path / "nope")


# -- the tiny trained model -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_mesh(tiny_paper_model):
    return mesh_accuracy(Autoencoder.load(tiny_paper_model), points=40)


def test_tiny_model_plays_the_notes_it_saw(tiny_mesh):
    r = tiny_mesh
    seen = [n for n in r.notes if n in r.present]
    assert set(seen) <= set(SEEN) and len(seen) >= 5
    acc = {NOTE_NAMES[n]: round(r.accuracy_of(n), 3) for n in seen}
    # 12 notes: chance is 1/12. The tiny model (30 epochs on tones) reaches about 0.7 on average.
    assert r.mean_accuracy() > 0.5, acc
    assert min(acc.values()) > 1 / 12, acc


def test_table_marks_unseen_notes(tiny_mesh):
    table = markdown_table({"tiny": tiny_mesh})
    head, rule, row = table.splitlines()
    assert head.split("|")[2:14] == [f" {n} " for n in NOTE_NAMES] and "mean" in head
    cells = [c.strip() for c in row.split("|")[2:15]]
    for n in range(12):
        if n in tiny_mesh.present:
            assert float(cells[n]) == pytest.approx(100 * tiny_mesh.accuracy_of(n), abs=0.05)
        else:
            assert cells[n] == "-"
    for n in (1, 3, 6, 8, 10):  # the black keys were never in the corpus
        assert cells[n] == "-"
    assert float(cells[12]) == pytest.approx(100 * tiny_mesh.mean_accuracy(), abs=0.05)


def test_csv_round_trip(tiny_mesh, tmp_path):
    write_csv(tiny_mesh, tmp_path / "mesh.csv")
    rows = read_csv(tmp_path / "mesh.csv")
    assert list(rows) == list(NOTE_NAMES)
    for n, name in enumerate(NOTE_NAMES):
        acc, present = rows[name]
        assert acc == pytest.approx(tiny_mesh.accuracy_of(n), abs=1e-6)
        assert present == (n in tiny_mesh.present)
    write_markdown(tiny_mesh, tmp_path / "mesh.md", title="t")
    assert (tmp_path / "mesh.md").read_text().startswith("# t\n\n| |")


GOOD_CSV = "note,accuracy,present\nC,0.500000,1\nC#,0.250000,0\n"


@pytest.mark.parametrize("content,match", [
    (b"note,accuracy,present\nC,0.5,1\n\xff\xfe,0.1,1\n", "the mesh table is not CSV text"),  # not UTF-8
    (b"", "header is 'empty'"),
    (b"note,acc,present\nC,0.5,1\n", "header is 'note,acc,present'; it must be note,accuracy,present"),
    (b"note,accuracy,present\nC,0.5\n", "row 1 has 2 cells 'C,0.5'"),
    (b"note,accuracy,present\nC,0.5,1\nH,0.5,1\n", "row 2: note 'H' is not one of C C#"),
    (b"note,accuracy,present\nC,0.5,1\nC,0.4,1\n", "row 2: note C appears twice"),
    (b"note,accuracy,present\nD,high,1\n", "row 1: accuracy 'high' of D must be a number from 0 to 1"),
    (b"note,accuracy,present\nD,1.5,1\n", "accuracy '1.5' of D must be a number from 0 to 1"),
    (b"note,accuracy,present\nD,0.5,yes\n", "present 'yes' of D must be 0 or 1"),
    (b"PK\x03\x04\x00\x00binary\x00zip", "mesh table"),
])
def test_read_csv_refuses_a_damaged_file(tmp_path, content, match):
    path = tmp_path / "mesh.csv"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=match) as info:
        read_csv(path)
    assert str(path) in str(info.value)


def test_read_csv_missing_and_hand_written(tmp_path):
    with pytest.raises(ModelError, match="no such mesh table"):
        read_csv(tmp_path / "none.csv")
    path = tmp_path / "mesh.csv"
    path.write_text("# written by hand\n\n" + GOOD_CSV.replace(",", " , "))
    assert read_csv(path) == {"C": (0.5, True), "C#": (0.25, False)}


# -- the command ------------------------------------------------------------------------------------


def test_mesh_command(tiny_model, tmp_path, capsys):
    from manne.cli import main

    out = tmp_path / "mesh"
    assert main(["mesh", str(tiny_model), "--points", "20", "-o", str(out), "-q"]) == 0
    for f in ("mesh.csv", "mesh.md", "mesh.png"):
        assert (out / f).stat().st_size > 0
    printed = capsys.readouterr().out
    assert "| C | C# |" in printed and "| - |" in printed and "400 grid codes x 12 notes" in printed
    assert main(["mesh", str(tiny_model), "--points", "20", "-o", str(out), "-q"]) == 2
    assert "exists; use --force" in capsys.readouterr().err


@pytest.mark.parametrize("argv,match", [
    (["--points", "1"], "points=1 must be an integer of at least 2"),
    (["--points", "2000"], "--points 1414 or fewer"),
])
def test_mesh_command_bad_points(tiny_model, tmp_path, capsys, argv, match):
    from manne.cli import main

    assert main(["mesh", str(tiny_model), *argv, "-o", str(tmp_path / "o")]) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_mesh_command_missing_model(tmp_path, capsys):
    from manne.cli import main

    assert main(["mesh", str(tmp_path / "nope"), "--points", "10", "-o", str(tmp_path / "o")]) == 2
    assert "no such model directory" in capsys.readouterr().err
