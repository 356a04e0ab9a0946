"""``manne render`` end to end: valid WAV files, automation CSV, and one clear line for bad input."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from manne.cli import main
from manne.synth.engine import Engine
from manne.model.forward import Autoencoder


def render(*argv) -> int:
    return main(["render", *map(str, argv)])


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("manne render: error: ")
    return err[0]


def test_render_writes_a_wav_of_the_right_length_and_rate(tiny_model, tmp_path, capsys):
    out = tmp_path / "out.wav"
    assert render(tiny_model, "--z", "0.2,0.7", "--note", "E", "--seconds", 1.5, "-o", out) == 0
    assert "wrote" in capsys.readouterr().out
    info = sf.info(str(out))
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (44100, 1, 66150, "PCM_16")
    y, _ = sf.read(str(out), dtype="float32")
    assert np.sqrt(np.mean(y ** 2)) > 1e-3 and np.abs(y).max() <= 1.0
    assert abs(y[-1]) < 1e-3  # ends with a fade, not a cut
    assert not list(tmp_path.glob(".*part*"))  # no temporary file left behind


def test_render_matches_the_engine(tiny_model, tmp_path, capsys):
    out = tmp_path / "c.wav"
    assert render(tiny_model, "--z", "0.3,0.6", "--note", "4", "--seconds", 1, "--phase", "coherent",
                  "--volume", 0.5, "--hop", 512, "-o", out) == 0
    y, _ = sf.read(str(out), dtype="float32")
    e = Engine(Autoencoder.load(tiny_model), phase="coherent", volume=0.5, hop_length=512)
    e.set_z([0.3, 0.6])
    e.set_note("E")
    ref = e.render(1.0)
    body = slice(0, 44100 - 2000)  # before the fade-out
    np.testing.assert_allclose(y[body], ref[body], atol=1.5 / 32768)  # 16-bit rounding


def test_defaults_and_force(tiny_model, tmp_path, capsys):
    out = tmp_path / "d.wav"
    assert render(tiny_model, "-o", out) == 0  # z in the middle of the range, the model's first note, 4 s
    assert sf.info(str(out)).frames == 4 * 44100
    assert render(tiny_model, "--seconds", 0.5, "-o", out) == 2
    assert "exists; use --force" in one_error_line(capsys)
    assert sf.info(str(out)).frames == 4 * 44100  # untouched
    assert render(tiny_model, "--seconds", 0.5, "-o", out, "--force") == 0
    assert sf.info(str(out)).frames == 22050


@pytest.mark.parametrize("header", [True, False])
def test_automation_csv(tiny_model, tmp_path, capsys, header):
    csv = tmp_path / "auto.csv"
    lines = ["# a sweep", "0, 0.0, 0.2, C", "", "1.0, 1.0, 0.8, F#", "2.5, 0.5, 0.5, 9"]
    if header:
        lines.insert(0, "time,z1,z2,note")
    csv.write_text("\n".join(lines) + "\n")
    out = tmp_path / "a.wav"
    assert render(tiny_model, "--automation", csv, "-o", out) == 0
    assert sf.info(str(out)).frames == int(2.5 * 44100)  # up to the last keyframe
    y, _ = sf.read(str(out), dtype="float32")
    assert np.sqrt(np.mean(y ** 2)) > 1e-3
    assert render(tiny_model, "--automation", csv, "--seconds", 3, "-o", out, "--force") == 0
    assert sf.info(str(out)).frames == 3 * 44100  # the last keyframe is held


@pytest.mark.parametrize("argv, message", [
    (["--z", "0.2"], "--z 0.2 has 1 value; the model has 2 latent neurons, so give 2"),
    (["--z", "0.2,0.3,0.4"], "has 3 values; the model has 2 latent neurons"),
    (["--z", "0.2,abc"], "'abc' is not a number"),
    (["--z", "0.2,1.5"], "z2=1.5 is outside the model's latent range [0, 1]"),
    (["--note", "H"], "--note 'H' is not a note"),
    (["--note", "13"], "--note '13' is not a note"),
    (["--seconds", "0"], "--seconds 0.0 must be more than 0"),
    (["--seconds", "4000"], "--seconds 4000.0 must be more than 0 and at most 3600"),
    (["--volume", "2"], "--volume 2.0 must be a number between 0 and 1"),
    (["--hop", "32"], "--hop 32 must be from 64 to 1024 samples (an integer)"),
])
def test_bad_inputs_fail_with_one_clear_line(tiny_model, tmp_path, capsys, argv, message):
    out = tmp_path / "bad.wav"
    assert render(tiny_model, *argv, "-o", out) == 2
    assert message in one_error_line(capsys)
    assert not out.exists()


@pytest.mark.parametrize("rows, message", [
    ("0,0.1,C\n", "bad.csv: keyframe 1 (0, 0.1, C): 3 values; expected time, z1..z2, note (4)"),
    ("time,z1,z2,note\n0,0.1,0.2,H\n", "keyframe 1 (0, 0.1, 0.2, H): note='H' is not a note name"),
    ("0,0.1,0.2,C\n1,0.1,x,C\n", "keyframe 2 (1, 0.1, x, C): could not convert string to float: 'x'"),
    ("1,0.1,0.2,C\n0.5,0.1,0.2,C\n", "keyframe 2 (0.5, 0.1, 0.2, C): time 0.5 is earlier than the previous keyframe (1)"),
    ("0,0.1,7,C\n", "keyframe 1 (0, 0.1, 7, C): z2=7 is outside the model's latent range"),
    ("time,z1,z2,note\n", "bad.csv: the automation has no keyframes"),
    ("time,z1,note\n0,0.1,0.2,C\n", "bad.csv: the header has 3 columns; expected time, z1..z2, note (4)"),
    ("0,0.1,0.2,C\n", "the last keyframe is at 0 s; give --seconds"),
    ("0,0.1,0.2,C\n4000,0.1,0.2,C\n", "the last keyframe's time 4000.0 must be more than 0 and at most 3600"),
    (b"\x00\x9f\x92\x96 not text", "bad.csv: the automation file is not CSV text"),
    ("0,0.1,0.2,C\n1,0.1,0.2,\u00c9\n".encode("latin-1"), "bad.csv: the automation file is not CSV text"),
])
def test_bad_automation_files(tiny_model, tmp_path, capsys, rows, message):
    csv = tmp_path / "bad.csv"
    csv.write_bytes(rows if isinstance(rows, bytes) else rows.encode())
    out = tmp_path / "bad.wav"
    assert render(tiny_model, "--automation", csv, "-o", out) == 2
    assert message in one_error_line(capsys)
    assert not out.exists()


def test_missing_model_and_files(tmp_path, tiny_model, capsys):
    assert render(tmp_path / "nope", "-o", tmp_path / "x.wav") == 2
    assert "no such model directory" in one_error_line(capsys)
    assert render(tiny_model, "--automation", tmp_path / "none.csv", "-o", tmp_path / "x.wav") == 2
    assert "none.csv: no such automation file" in one_error_line(capsys)
    assert render(tiny_model, "-o", tmp_path / "x.mp3") == 2
    assert "must be a .wav file" in one_error_line(capsys)
    assert render(tiny_model, "--automation", tmp_path / "none.csv", "--z", "0.1,0.1", "-o", tmp_path / "x.wav") == 2
    assert "not both" in one_error_line(capsys)


def test_automation_render_matches_the_engine(tiny_model, tmp_path, capsys):
    from manne.synth.automation import read_automation

    csv = tmp_path / "auto.csv"
    csv.write_text("time,z1,z2,note\n0,0.1,0.2,C\n0.6,0.8,0.4,G\n1.0,0.8,0.4,G\n")
    out = tmp_path / "a.wav"
    assert render(tiny_model, "--automation", csv, "--hop", 128, "-o", out) == 0
    y, _ = sf.read(str(out), dtype="float32")
    ref = Engine(Autoencoder.load(tiny_model), hop_length=128).render_automation(read_automation(csv, latent=2))
    body = slice(0, 44100 - 2000)  # before the fade-out
    np.testing.assert_allclose(y[body], ref[body], atol=1.5 / 32768)


def test_options_read_the_limits():
    """argparse's choices and defaults are the engine's limits, defined once in manne.synth.limits."""
    from manne.cli import build_parser
    from manne.synth import limits

    args = build_parser().parse_args(["render", "m", "-o", "x.wav"])
    assert (args.phase, args.hop, args.volume) == (limits.PHASE_DEFAULT, limits.HOP_DEFAULT, limits.VOLUME_DEFAULT)
    synth = build_parser().parse_args(["synth"])
    assert (synth.buffer, synth.hop, synth.method) == (limits.BUFFER_DEFAULT, limits.BLOCK_DEFAULT, limits.METHOD_DEFAULT)
    for mode in limits.PHASE_MODES:
        assert build_parser().parse_args(["render", "m", "-o", "x.wav", "--phase", mode]).phase == mode
    for method in limits.METHODS:
        assert build_parser().parse_args(["synth", "--method", method]).method == method
    bench = build_parser().parse_args(["bench", "synth"])
    assert bench.hop == limits.HOP_DEFAULT
