"""``manne render`` end to end: valid WAV files, automation CSV, and one clear line for bad input."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from manne.cli import main
from manne.synth.automation import Automation, Event, perform
from manne.synth.instrument import Synth
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


def test_render_matches_the_instrument(tiny_model, tmp_path, capsys):
    out = tmp_path / "c.wav"
    assert render(tiny_model, "--z", "0.3,0.6", "--note", "E3", "--seconds", 1, "--phase", "coherent",
                  "--volume", 0.5, "--hop", 512, "--velocity", 90, "-o", out) == 0
    y, _ = sf.read(str(out), dtype="float32")
    s = Synth(Autoencoder.load(tiny_model), method="coherent", volume=0.5, block=512)
    off = 1.0 - s.adsr.release  # released so that the release ends with the file
    ref = perform(s, Automation(np.zeros(1), np.array([[0.3, 0.6]]), (Event(0, "on", 52, 90), Event(off, "off", 52))),
                  seconds=1.0)
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
    (["--note", "13"], "--note 13 is MIDI note 13; the instrument plays 21 (A0) to 108 (C8)"),
    (["--seconds", "0"], "--seconds 0.0 must be more than 0"),
    (["--seconds", "4000"], "--seconds 4000.0 must be more than 0 and at most 3600"),
    (["--volume", "2"], "--volume 2.0 must be a number between 0 and 1"),
    (["--hop", "16"], "--hop 16 must be from 32 to 1024 samples (an integer)"),
    (["--velocity", "0"], "--velocity 0 must be from 1 to 127"),
])
def test_bad_inputs_fail_with_one_clear_line(tiny_model, tmp_path, capsys, argv, message):
    out = tmp_path / "bad.wav"
    assert render(tiny_model, *argv, "-o", out) == 2
    assert message in one_error_line(capsys)
    assert not out.exists()


@pytest.mark.parametrize("rows, message", [
    ("0,0.1,C\n", "bad.csv: row 1 (0, 0.1, C): 3 values; expected time, z1..z2, note (4)"),
    ("time,z1,z2,note\n0,0.1,0.2,H\n", "row 1 (0, 0.1, 0.2, H): note='H' is not a MIDI note"),
    ("0,0.1,0.2,C\n1,0.1,x,C\n", "row 2 (1, 0.1, x, C): could not convert string to float: 'x'"),
    ("1,0.1,0.2,C\n0.5,0.1,0.2,C\n", "row 2 (0.5, 0.1, 0.2, C): time 0.5 is earlier than the previous keyframe (1)"),
    ("0,0.1,7,C\n", "row 1 (0, 0.1, 7, C): sliders: z2=7 is outside the model's latent range"),
    ("time,z1,z2,note\n", "bad.csv: the automation is empty"),
    ("0,0.1,0.2,C\n", "everything happens at 0 s; give --seconds"),
    ("0,0.1,0.2,C\n4000,0.1,0.2,C\n", "row 2 (4000, 0.1, 0.2, C): time 4000 s is past the longest render (3600 s)"),
    ("0,on,C4,200\n", "row 1 (0, on, C4, 200): velocity 200 must be from 1 to 127"),
    ("0,on,C4\n1,bend,3\n", "row 2 (1, bend, 3): bend 3 must be from -1 to 1"),
    ("0,on,C4\n1,strum,3\n", "row 2 (1, strum, 3): 3 values; expected"),
    ("x,on,C4\n0,on,C4\n1,on,Q9\n", "row 2 (1, on, Q9): note='Q9' is not a MIDI note"),
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


def test_automation_render_matches_the_instrument(tiny_model, tmp_path, capsys):
    from manne.synth.automation import read_automation

    csv = tmp_path / "auto.csv"
    csv.write_text("time,z1,z2,note\n0,0.1,0.2,C\n0.6,0.8,0.4,G\n1.0,0.8,0.4,G\n")
    out = tmp_path / "a.wav"
    assert render(tiny_model, "--automation", csv, "--hop", 128, "-o", out) == 0
    y, _ = sf.read(str(out), dtype="float32")
    auto = read_automation(csv, latent=2)
    assert [(e.time, e.kind, e.value) for e in auto.events] == [(0, "on", 60), (0.6, "off", 60), (0.6, "on", 67)]
    ref = perform(Synth(Autoencoder.load(tiny_model), block=128), auto, seconds=1.0)
    body = slice(0, 44100 - 2000)  # before the fade-out
    np.testing.assert_allclose(y[body], ref[body], atol=1.5 / 32768)


def test_options_read_the_limits():
    """argparse's choices and defaults are the engine's limits, defined once in manne.synth.limits."""
    from manne.cli import build_parser
    from manne.synth import limits

    args = build_parser().parse_args(["render", "m", "-o", "x.wav"])
    assert (args.method, args.hop, args.volume) == (limits.METHOD_DEFAULT, limits.RENDER_BLOCK_DEFAULT, limits.VOLUME_DEFAULT)
    synth = build_parser().parse_args(["synth"])
    assert (synth.buffer, synth.hop, synth.method) == (limits.BUFFER_DEFAULT, limits.BLOCK_DEFAULT, limits.METHOD_DEFAULT)
    for mode in limits.METHODS:
        assert build_parser().parse_args(["render", "m", "-o", "x.wav", "--phase", mode]).method == mode
    for method in limits.METHODS:
        assert build_parser().parse_args(["synth", "--method", method]).method == method


def test_a_performance_with_note_events_plays_a_chord_and_bends(tiny_model, tmp_path, capsys):
    csv = tmp_path / "perf.csv"
    csv.write_text("time,event,note,velocity\n0,on,C4,100\n0,on,G4,100\n0.2,z,0.2,0.8\n"
                   "0.5,bend,1\n0.9,off,C4\n0.9,off,G4\n")
    out = tmp_path / "p.wav"
    assert render(tiny_model, "--automation", csv, "--seconds", 1.2, "-o", out) == 0
    y, sr = sf.read(str(out), dtype="float32")

    def fundamentals(start, stop):
        """The strongest peak within a semitone of each of C4, D4, G4, A4, as a share of the largest."""
        seg = y[int(start * sr) : int(stop * sr)]
        spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
        f = np.fft.rfftfreq(len(seg), 1 / sr)
        return {hz: spec[np.abs(f - hz) < 3].max() / spec.max() for hz in (261.63, 293.66, 392.0, 440.0)}

    before, after = fundamentals(0.1, 0.45), fundamentals(0.6, 0.85)
    assert before[261.63] > 0.1 and before[392.0] > 0.1  # C4 and G4 sound together
    assert after[293.66] > 0.1 and after[440.0] > 0.1  # bent up two semitones: D4 and A4
    assert after[261.63] < 0.02 and after[392.0] < 0.02
    assert np.sqrt(np.mean(y[int(1.1 * sr):] ** 2)) < 1e-3  # released
