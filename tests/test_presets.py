"""Presets: JSON round trip, atomic writes, and clear errors for bad files."""

from __future__ import annotations

import json

import pytest

from manne.errors import OutputExistsError, ParameterError
from manne.synth.presets import Preset, load_preset, save_preset, validate


@pytest.fixture(scope="module")
def ae(tiny_model):
    from manne.model.forward import Autoencoder

    return Autoencoder.load(tiny_model)


def good(model, latent=2) -> dict:
    return {"version": 1, "model": str(model), "z": [0.25] * latent, "note": "E", "volume": 0.8, "phase": "noise"}


def test_round_trip(tmp_path, tiny_model, ae):
    lo, hi = ae.latent_range
    p = Preset(model=str(tiny_model), z=[float(lo[0]), float(hi[1])], note="F#", volume=0.5, phase="coherent")
    path = save_preset(tmp_path / "a.json", p)
    assert load_preset(path) == p
    assert load_preset(path, ae=ae) == p
    assert load_preset(path).note_index == 6
    d = json.loads(path.read_text())
    assert d == {"version": 1, "model": str(tiny_model), "z": list(p.z), "note": "F#", "volume": 0.5,
                 "phase": "coherent"}
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_save_dict_and_flat_names(tmp_path, tiny_model):
    d = good(tiny_model)
    d["note"] = "Bb"
    path = save_preset(tmp_path / "b.json", d)
    assert load_preset(path).note == "A#"
    with pytest.raises(OutputExistsError):
        save_preset(path, d, force=False)


def test_relative_model_path(tmp_path, tiny_model):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "rel.json"
    path.write_text(json.dumps({**good("../model"), "z": [0.1, 0.2, 0.3]}))
    p = load_preset(path)  # the model does not exist, so z's length cannot be checked
    assert p.model == str(tmp_path / "sub" / ".." / "model")


@pytest.mark.parametrize("change, match", [
    ({"z": [0.1, 0.2, 0.3]}, r"z has 3 values; the model has 2 latent neurons"),
    ({"z": []}, r"z=\[\] must be a non-empty list"),
    ({"z": [0.1, "x"]}, r"z\[1\]='x' must be a finite number"),
    ({"z": [0.1, float("nan")]}, r"z\[1\]=nan must be a finite number"),
    ({"note": "H"}, r"note='H' is not a note name; use one of C, C#"),
    ({"note": 12}, r"note=12 is not a note name"),
    ({"note": True}, r"note=True is not a note name"),
    ({"volume": 1.5}, r"volume=1.5 must be a number between 0 and 1"),
    ({"volume": "loud"}, r"volume='loud' must be a number between 0 and 1"),
    ({"phase": "random"}, r"phase='random' must be one of harmonic, noise, coherent"),
    ({"phase": 1}, r"phase=1 must be one of harmonic, noise, coherent"),
    ({"volume": True}, r"volume=True must be a number between 0 and 1"),
    ({"version": 2}, r"preset version 2; this manne reads version 1"),
    ({"model": ""}, r"model='' must be a model directory path"),
])
def test_bad_fields(tmp_path, tiny_model, change, match):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**good(tiny_model), **change}))
    with pytest.raises(ParameterError, match=match) as info:
        load_preset(path)
    assert str(path) in str(info.value)


def test_missing_keys_and_bad_files(tmp_path, tiny_model):
    path = tmp_path / "short.json"
    path.write_text(json.dumps({"model": str(tiny_model), "z": [0.1, 0.2]}))
    with pytest.raises(ParameterError, match=r"preset lacks note, volume, phase"):
        load_preset(path)
    path.write_text("{not json")
    with pytest.raises(ParameterError, match=r"not a valid JSON preset"):
        load_preset(path)
    path.write_text("[1, 2]")
    with pytest.raises(ParameterError, match=r"a preset is a JSON object, not list"):
        load_preset(path)
    with pytest.raises(ParameterError, match=r"no such preset file"):
        load_preset(tmp_path / "nothing.json")


def test_z_outside_model_range(tmp_path, tiny_model, ae):
    lo, hi = ae.latent_range
    path = tmp_path / "far.json"
    path.write_text(json.dumps({**good(tiny_model), "z": [float(hi[0]) + 1.0, float(lo[1])]}))
    load_preset(path)  # without the model at hand only the length is checked
    with pytest.raises(ParameterError, match=r"far.json: z1=.* is outside the model's latent range \[.*\]$"):
        load_preset(path, ae=ae)
    # the same check, with the same tolerance, as `manne render --z` and automation keyframes
    path.write_text(json.dumps({**good(tiny_model), "z": [float(hi[0]) + 1e-7, float(lo[1]) - 1e-7]}))
    assert load_preset(path, ae=ae).z == (float(hi[0]) + 1e-7, float(lo[1]) - 1e-7)


def test_every_method_is_a_valid_preset_phase(tmp_path, tiny_model):
    from manne.synth.limits import METHODS

    for method in METHODS:
        assert validate({**good(tiny_model), "phase": method}).phase == method


def test_save_rejects_invalid(tmp_path):
    with pytest.raises(ParameterError, match=r"phase='x'"):
        save_preset(tmp_path / "x.json", {**good("m"), "phase": "x"})
    assert not (tmp_path / "x.json").exists()
    with pytest.raises(ParameterError, match=r"z has 3 values; the model has 2"):
        validate(good("m", latent=3), latent=2)
