"""Descriptor maps and slider sensitivities (issue 9): the same numbers as librosa, the same maps as a
slow per-point loop, the brightness of known tones, and the command on tiny and bundled models."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from manne.cli import main
from manne.errors import ModelError
from manne.timbre import descriptors
from manne.timbre.descriptors import NAMES, describe, grid_descriptors


def test_descriptors_are_librosas(default_ae):
    import librosa

    a = default_ae.analysis
    rng = np.random.default_rng(0)
    S = default_ae.decode(rng.uniform(*default_ae.latent_range, size=(40, default_ae.latent)).astype(np.float32),
                          rng.integers(0, 12, 40))
    S = np.asarray(S, dtype=np.float64)
    S[0] = 0.0  # a silent row
    d = describe(S, sr=a.sr, n_fft=a.n_fft)
    freq = np.arange(S.shape[1]) * a.sr / a.n_fft
    ref = {"centroid": librosa.feature.spectral_centroid(S=S.T, freq=freq)[0],
           "bandwidth": librosa.feature.spectral_bandwidth(S=S.T, freq=freq)[0],
           "flatness": librosa.feature.spectral_flatness(S=S.T)[0],
           "rolloff": librosa.feature.spectral_rolloff(S=S.T, freq=freq, roll_percent=0.85)[0]}
    for name in NAMES:
        assert d[name][1:] == pytest.approx(ref[name][1:], rel=1e-6, abs=1e-9), name
    assert d["centroid"][0] == d["rolloff"][0] == 0.0
    # the decoder's float32 spectra: the same numbers to float32 precision, ~4x faster
    d32 = describe(S.astype(np.float32), sr=a.sr, n_fft=a.n_fft)
    for name in ("centroid", "bandwidth", "flatness"):
        assert d32[name] == pytest.approx(d[name], rel=1e-5, abs=1e-9), name
    assert np.abs(d32["rolloff"] - d["rolloff"]).max() <= a.sr / a.n_fft  # at most one bin away


def test_a_richer_tone_is_brighter_wider_and_higher():
    sr, n_fft = 44100, 4096
    f0_bin = 24  # 258 Hz
    pure, rich = np.zeros((1, 2049)), np.zeros((1, 2049))
    pure[0, f0_bin] = 1.0
    for k in range(1, 13):
        rich[0, k * f0_bin] = 1.0 / k
    p, r = describe(pure, sr=sr, n_fft=n_fft), describe(rich, sr=sr, n_fft=n_fft)
    assert p["centroid"][0] == pytest.approx(f0_bin * sr / n_fft)
    assert p["bandwidth"][0] == pytest.approx(0.0, abs=1e-6)
    assert r["centroid"][0] == pytest.approx(f0_bin * sr / n_fft * 12 / sum(1 / k for k in range(1, 13)))
    assert r["bandwidth"][0] > 100 and r["rolloff"][0] > p["rolloff"][0]
    assert describe(np.ones((1, 2049)), sr=sr, n_fft=n_fft)["flatness"][0] == pytest.approx(1.0)


def test_the_grid_maps_agree_with_a_slow_reference(tiny_model):
    from manne.model.forward import Autoencoder

    ae = Autoencoder.load(tiny_model)
    z = np.random.default_rng(1).uniform(*ae.latent_range, size=(30, ae.latent))
    fast = grid_descriptors(ae, z, [0, 7], batch=8)
    for j, note in enumerate([0, 7]):
        for i in range(0, 30, 7):
            S = ae.decode(z[i : i + 1].astype(np.float32), note)  # one point at a time, through the model
            ref = describe(S, sr=ae.analysis.sr, n_fft=ae.analysis.n_fft)
            for name in NAMES:
                assert fast[name][j, i] == pytest.approx(ref[name][0], rel=1e-4), (name, note, i)


def test_sensitivity_finds_the_brightness_neuron(bright_model):
    from manne.model.forward import Autoencoder

    ae = Autoencoder.load(bright_model)
    sens = descriptors.sensitivity(ae, points=64, notes=[0, 4, 7])
    assert sens.shape == (2, 4) and np.isfinite(sens).all()
    # the neuron that moves the brightness most moves it the same way over its whole travel: the mean
    # centroid with that slider near its top against near its bottom, at other random codes
    i = int(np.argmax(np.abs(sens[:, 0])))
    lo, hi = (np.asarray(r, dtype=np.float64) for r in ae.latent_range)
    z = lo + (0.1 + 0.8 * np.random.default_rng(1).random((64, 2))) * (hi - lo)
    ends = []
    for where in (0.95, 0.05):
        zz = z.copy()
        zz[:, i] = lo[i] + where * (hi[i] - lo[i])
        ends.append(descriptors.grid_descriptors(ae, zz.astype(np.float32), [0, 4, 7])["centroid"].mean())
    assert np.sign(ends[0] - ends[1]) == np.sign(sens[i, 0]) and abs(sens[i, 0]) > 0.05, (ends, sens)
    assert all(w in set(descriptors.WORDS.values()) | {""} for w in descriptors.labels(sens))


def test_descriptors_command_writes_maps_table_and_slider_labels(tiny_model, tmp_path, capsys):
    m = tmp_path / "m"
    shutil.copytree(tiny_model, m)
    (m / "descriptors.json").unlink(missing_ok=True)
    out = tmp_path / "maps"
    assert main(["descriptors", str(m), "-o", str(out), "--points", "12", "--notes", "C", "E"]) == 0
    text = capsys.readouterr().out
    assert "2 notes x 12x12 points: 288 decoded spectra" in text and "z1:" in text and "z2:" in text
    assert "slider labels stored in" in text
    rows = (out / "descriptors.csv").read_text().splitlines()
    assert rows[0] == "note,u,v,z1,z2,centroid,bandwidth,flatness,rolloff" and len(rows) == 1 + 2 * 144
    assert rows[1].startswith("C,0,0,") and rows[-1].startswith("E,1,1,")
    # the CSV's numbers are the maps' (to its 5 digits): E's last point, decoded on its own
    from manne.model.forward import Autoencoder

    ae = Autoencoder.load(m)
    last = [float(x) for x in rows[-1].split(",")[1:]]
    ref = describe(ae.decode(np.array([last[2:4]], np.float32), 4), sr=ae.analysis.sr, n_fft=ae.analysis.n_fft)
    assert last[4:] == pytest.approx([ref[k][0] for k in NAMES], rel=1e-4)
    for name in NAMES:
        assert (out / f"{name}.png").stat().st_size > 10_000
    doc = json.loads((m / "descriptors.json").read_text())
    assert len(doc["labels"]) == 2 and np.array(doc["sensitivity"]).shape == (2, 4) and doc["notes"] == [0, 4]
    assert descriptors.slider_labels(m, 2) == doc["labels"]
    # the model's table is kept unless --force
    (m / "descriptors.json").write_text(json.dumps({**doc, "labels": ["darker", "purer"]}))
    assert main(["descriptors", str(m), "-o", str(tmp_path / "again"), "--points", "4", "--notes", "C"]) == 0
    assert "kept the slider labels in" in capsys.readouterr().out
    assert descriptors.slider_labels(m, 2) == ["darker", "purer"]
    assert main(["descriptors", str(m), "-o", str(tmp_path / "again"), "--points", "4", "--force"]) == 0
    assert descriptors.slider_labels(m, 2) == ["darker", "purer"]  # --force is for DIR only
    assert main(["descriptors", str(m), "-o", str(tmp_path / "again"), "--points", "4", "--force", "--relabel"]) == 0
    assert json.loads((m / "descriptors.json").read_text())["notes"] == list(range(12))
    capsys.readouterr()
    # bad input: one line each, before anything is loaded
    assert main(["descriptors", str(m), "-o", str(out)]) == 2
    assert "exists; use --force" in capsys.readouterr().err
    assert main(["descriptors", str(m), "-o", str(tmp_path / "x"), "--points", "1"]) == 2
    assert "--points 1 must be from 2 to 400" in capsys.readouterr().err
    for bad, message in (("1", "must be two neuron numbers"), ("1,x", "must be two neuron numbers"),
                         ("1,3", "two different neurons from 1 to 2"), ("2,2", "two different neurons from 1 to 2")):
        assert main(["descriptors", str(m), "-o", str(tmp_path / "x"), "--neurons", bad]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    (m / "descriptors.json").write_text('{"version": 1, "latent": 2, "sensitivity": [[1, 2]], "labels": []}')
    with pytest.raises(ModelError, match="descriptors.json: damaged descriptors file"):
        descriptors.read(m, latent=2)
    (m / "descriptors.json").write_bytes(b"\x00\x01 not json")
    with pytest.raises(ModelError, match="descriptors.json"):
        descriptors.read(m, latent=2)
    assert descriptors.slider_labels(m, 2) == ["", ""]  # the window shows none rather than failing


def test_a_slice_through_two_neurons_of_a_bigger_model(tmp_path, capsys):
    from manne.io.settings import default_model_dir

    m = tmp_path / "default"
    shutil.copytree(default_model_dir(), m)
    before = (m / "descriptors.json").read_text()
    out = tmp_path / "slice"
    assert main(["descriptors", str(m), "-o", str(out), "--points", "5", "--notes", "G", "--neurons", "3,7"]) == 0
    assert (m / "descriptors.json").read_text() == before  # kept: no --force
    rows = [r.split(",") for r in (out / "descriptors.csv").read_text().splitlines()]
    assert rows[0][:11] == ["note", "u", "v", *[f"z{i}" for i in range(1, 9)]] and len(rows) == 26
    z = np.array([[float(x) for x in r[3:11]] for r in rows[1:]])
    from manne.model.forward import Autoencoder

    lo, hi = Autoencoder.load(m).latent_range
    others = [0, 1, 3, 4, 5, 7]
    assert np.allclose(z[:, others], ((lo + hi) / 2)[others], atol=1e-4)  # the others at the middle
    assert z[:, 2].min() == pytest.approx(lo[2], abs=1e-4) and z[:, 6].max() == pytest.approx(hi[6], abs=1e-4)


def test_the_bundled_model_labels_its_sliders():
    from manne.io.settings import default_model_dir

    words = descriptors.slider_labels(default_model_dir(), 8)
    assert len(words) == 8 and all(w in set(descriptors.WORDS.values()) | {""} for w in words)
    assert sum(bool(w) for w in words) >= 4
