"""Damaged model directories: every malformed field is one line naming the file and the field.

Each case damages one field of a copy of the tiny model's ``config.json`` or ``weights.npz`` and runs
``manne render`` and ``manne evaluate`` on it: exit 2, one line, no traceback, nothing written. The
limits are the command line's (a latent of 10^9 would allocate gigabytes for its sliders).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from manne.model.modeldir import REQUIRED_FILES
from manne.model.weights import WEIGHT_MAX

from faults import one_line_error, run


def model_copy(tiny_model, tmp_path):
    d = tmp_path / "damaged"
    d.mkdir(parents=True)
    for name in REQUIRED_FILES:
        shutil.copy(tiny_model / name, d / name)
    return d


def edit_config(change):
    def apply(d):
        cfg = json.loads((d / "config.json").read_text())
        result = change(cfg)
        (d / "config.json").write_text(json.dumps(cfg if result is None else result))
    return apply


def edit_weights(change):
    def apply(d):
        with np.load(d / "weights.npz") as z:
            arrays = {k: z[k] for k in z.files}
        change(arrays)
        np.savez(d / "weights.npz", **arrays)
    return apply


CONFIG_DAMAGE = {
    "a-list": (lambda c: [1, 2], "config.json: the model configuration is not a JSON object"),
    "model-null": (lambda c: c.update(model=None), "config.json: no 'model' section"),
    "analysis-null": (lambda c: c.update(analysis=None), "config.json: no 'analysis' section"),
    "corpus-null": (lambda c: c.update(corpus=None), "config.json: 'corpus' is null; expected an object"),
    "training-null": (lambda c: c.update(training=None), "config.json: 'training' is null; expected an object"),
    "latent-string": (lambda c: c["model"].update(latent="2"), "config.json: invalid model configuration (latent='2' must be an integer)"),
    "max-width-string": (lambda c: c["model"].update(max_width="64"), "max_width='64' must be an integer"),
    "latent-1e9": (lambda c: c["model"].update(latent=10**9, max_width=2 * 10**9), "latent=1000000000 must be at most 256"),
    "latent-negative": (lambda c: c["model"].update(latent=-3), "config.json: invalid model configuration (latent=-3 must be at least 1)"),
    "beta-infinite": (lambda c: c["model"].update(beta=float("inf")), "beta=inf must be a finite number"),
    "alpha-nan": (lambda c: c["model"].update(alpha=float("nan")), "config.json: invalid model configuration (alpha=nan"),
    "latent-range-shape": (lambda c: c.update(latent_range=[[0, 0, 0], [1, 1, 1]]), "latent_range must be two lists of 2 finite numbers"),
    "latent-range-flat": (lambda c: c.update(latent_range=[0, 1]), "latent_range must be two lists of 2 finite numbers"),
    "latent-range-reversed": (lambda c: c.update(latent_range=[[1, 1], [0, 0]]), "latent_range of z1 is [1, 0]"),
    "sr-zero": (lambda c: c["analysis"].update(sr=0), "config.json: invalid model configuration (sr=0 must be an integer from 1000"),
    "sr-string": (lambda c: c["analysis"].update(sr="44100"), "sr='44100' must be an integer"),
    "hop-zero": (lambda c: c["analysis"].update(hop_length=0), "hop_length=0 must be an integer from 1"),
    "n-fft-huge": (lambda c: c["analysis"].update(n_fft=2**40), "n_fft=1099511627776 must be an integer from 16 to 65536"),
    "silence-nan": (lambda c: c["analysis"].update(silence_db=float("nan")), "silence_db=nan must be a positive number"),
    "band-reversed": (lambda c: c["analysis"].update(fmin=6000.0), "fmin=6000 and fmax=5000 must be a band"),
    "notes-names": (lambda c: c["corpus"].update(notes_present=["C"]), "corpus notes_present=['C'] must be a non-empty list"),
    "notes-out-of-range": (lambda c: c["corpus"].update(notes_present=[99]), "notes_present=[99]"),
    "notes-null": (lambda c: c["corpus"].update(notes_present=None), "notes_present=None"),
    "corpus-path-number": (lambda c: c["corpus"].update(path=3), "config.json: corpus path=3 must be a string"),
    "version-string": (lambda c: c.update(format_version="1"), "model format version '1', this manne reads version 1"),
}

WEIGHT_DAMAGE = {
    "mid-layer-shape": (lambda z: z.update({"decoder/2/W": z["decoder/2/W"][:, :-1]}), "weights.npz: decoder layer 2 has W"),
    "bias-shape": (lambda z: z.update({"decoder/2/b": z["decoder/2/b"][:-1]}), "weights.npz: decoder layer 2 has W"),
    "bias-2d": (lambda z: z.update({"encoder/1/b": z["encoder/1/b"][None]}), "encoder layer 1 has W (64, 32) and b (1, 32)"),
    "weights-0d": (lambda z: z.update({"encoder/1/W": np.float32(1)}), "encoder layer 1 has W ()"),
    "text": (lambda z: z.update({"encoder/1/W": np.array(["a"])}), "weights.npz: encoder/1/W holds <U1 values, not real numbers"),
    "complex": (lambda z: z.update({"encoder/1/W": z["encoder/1/W"].astype(np.complex64)}), "holds complex64 values"),
    "nan": (lambda z: z["decoder/1/W"].__setitem__((0, 0), np.nan), "weights.npz: decoder/1/W holds 1 NaN or Inf values"),
    "inf": (lambda z: z["decoder/0/b"].__setitem__(0, np.inf), "weights.npz: decoder/0/b holds 1 NaN or Inf values"),
    "scaled-1e30": (lambda z: z.update({"decoder/0/W": z["decoder/0/W"] * 1e30}), f"beyond any trained model's (at most {WEIGHT_MAX:g})"),
    "extra-layer": (lambda z: z.update({"decoder/9/W": np.zeros(2)}), "weights.npz: array decoder/9/W is not a layer of this model"),
    "missing-layer": (lambda z: z.pop("encoder/0/b"), "weights.npz: no array encoder/0/b"),
    "pickled-object": (lambda z: z.update({"encoder/0/W": np.array([{"run": "code"}], dtype=object)}),
                       "weights.npz: cannot be read (ValueError: Object arrays cannot be loaded when allow_pickle=False)"),
}

CASES = {**{k: (edit_config(f), w) for k, (f, w) in CONFIG_DAMAGE.items()},
         **{k: (edit_weights(f), w) for k, (f, w) in WEIGHT_DAMAGE.items()}}


@pytest.mark.parametrize("case", list(CASES))
def test_damaged_model_directory(case, tiny_model, tiny_corpus, tmp_path, capsys):
    damage, words = CASES[case]
    d = model_copy(tiny_model, tmp_path)
    damage(d)
    out = tmp_path / "out.wav"
    code, _, err = run(capsys, "render", d, "-o", out, "--seconds", "0.2")
    one_line_error(code, err, "manne render: error:", words)
    assert code == 2 and not out.exists()
    code, stdout, err = run(capsys, "evaluate", d, tiny_corpus)
    one_line_error(code, err, "manne evaluate: error:", words)
    assert "MSE" not in stdout


def test_evaluate_and_plot_find_the_models_corpus_from_another_folder(tiny_model, tiny_corpus, tmp_path, capsys, monkeypatch):
    """A relative corpus path in config.json is read from the folders above the model, as from a checkout."""
    root = tmp_path / "checkout"
    (root / "corpora").mkdir(parents=True)
    shutil.copy(tiny_corpus, root / "corpora" / "tones.npz")
    model = model_copy(tiny_model, root / "trained")
    edit_config(lambda c: c["corpus"].update(path="corpora/tones.npz"))(model)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, stdout, err = run(capsys, "evaluate", model)
    assert code == 0, err
    assert f"on {root / 'corpora' / 'tones.npz'} (its own corpus)" in stdout
    code, stdout, err = run(capsys, "plot", model, "-o", tmp_path / "plots", "--frames", "1", "--dpi", "40")
    assert code == 0, err
    assert "examples.npz" not in stdout  # the corpus was found, not the fallback


def test_a_missing_corpus_is_one_line(tiny_model, tmp_path, capsys):
    d = model_copy(tiny_model, tmp_path)
    edit_config(lambda c: c["corpus"].update(path="nowhere/gone.npz"))(d)
    code, _, err = run(capsys, "evaluate", d)
    one_line_error(code, err, "nowhere/gone.npz, the corpus", "is missing")
