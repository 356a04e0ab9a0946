"""Tests of tools.soundfont: note lists, MIDI writing and FluidSynth rendering."""

from __future__ import annotations

import shutil

import mido
import numpy as np
import pytest
import soundfile as sf

from manne.errors import ManneError, ParameterError
from tools.soundfont import fluid as soundfont
from tools.soundfont.fluid import find_soundfont, render_midi, write_midi
from tools.soundfont.notes import SYNTH_PROGRAMS, c_major_scale, corpus_plan, phrase, program_name, single_notes


@pytest.fixture
def _fluidsynth_installed():
    """Rendering tests need FluidSynth and FluidR3 (installed by scripts/setup.sh): fail, never skip, without them."""
    soundfont.find_fluidsynth()
    find_soundfont()


needs_fluidsynth = pytest.mark.usefixtures("_fluidsynth_installed")


def _read(path) -> tuple[np.ndarray, int]:
    info = sf.info(str(path))
    assert info.channels == 1 and info.subtype == "PCM_16" and info.format == "WAV"
    y, sr = sf.read(str(path), dtype="int16")
    return y.astype(np.float64) / 32768, sr


def test_c_major_scale_one_octave():
    notes = c_major_scale([4], note_s=0.5, velocity=90)
    assert [p for _, _, p, _ in notes] == [60, 62, 64, 65, 67, 69, 71, 72]
    assert [s for s, _, _, _ in notes] == pytest.approx(np.arange(8) * 0.5)
    assert all(d == 0.5 and v == 90 for _, d, _, v in notes)


def test_c_major_scale_five_octaves_spans_c2_to_c7():
    pitches = [p for _, _, p, _ in c_major_scale([2, 3, 4, 5, 6], note_s=0.4)]
    assert len(pitches) == 36 and pitches[0] == 36 and pitches[-1] == 96
    assert np.all(np.diff(pitches) > 0)


def test_single_notes_velocity_outer_loop_with_gaps():
    notes = single_notes([60, 62], [50, 100], note_s=1.0, gap_s=0.25)
    assert [(p, v) for _, _, p, v in notes] == [(60, 50), (62, 50), (60, 100), (62, 100)]
    assert [s for s, _, _, _ in notes] == pytest.approx([0, 1.25, 2.5, 3.75])


def test_phrase_is_deterministic_and_in_range():
    a, b, c = phrase(7), phrase(7), phrase(8)
    assert a == b and a != c
    assert all(55 <= p <= 88 and 40 <= v <= 120 for _, _, p, v in a)
    assert len({d for _, d, _, _ in a}) > 3 and len({v for _, _, _, v in a}) > 3
    starts = [s for s, _, _, _ in a]
    assert starts == sorted(starts)


def test_write_midi_program_change_first_on_channel_0(tmp_path):
    path = write_midi(c_major_scale([4]), tmp_path / "x.mid", program=40)
    msgs = [m for m in mido.MidiFile(path).tracks[0] if not m.is_meta]
    assert msgs[0].type == "program_change" and msgs[0].program == 40
    assert {m.channel for m in msgs} == {0}
    assert sum(m.type == "note_on" for m in msgs) == 8


@pytest.mark.parametrize("program", [200, -1, 1.5, True])
def test_bad_program_raises(tmp_path, program):
    with pytest.raises(ParameterError, match="program"):
        render_midi(c_major_scale([4]), tmp_path / "x.wav", program=program)


@pytest.mark.parametrize(
    "note, match",
    [((0.0, 1.0, 130, 100), "pitch"), ((0.0, 1.0, 60, 0), "velocity"), ((0.0, 0.0, 60, 100), "dur_s")],
)
def test_bad_note_raises(tmp_path, note, match):
    with pytest.raises(ParameterError, match=match):
        render_midi([note], tmp_path / "x.wav", program=0)


def test_bad_kind_and_octave_raise():
    with pytest.raises(ParameterError, match="kind"):
        corpus_plan("cello")
    with pytest.raises(ParameterError, match="octaves"):
        c_major_scale([9])


def test_missing_soundfont_names_the_install_line(tmp_path, monkeypatch):
    monkeypatch.setenv("MANNE_SOUNDFONT", str(tmp_path / "none.sf2"))
    with pytest.raises(ManneError, match="MANNE_SOUNDFONT"):
        find_soundfont()
    monkeypatch.delenv("MANNE_SOUNDFONT")
    monkeypatch.setattr(soundfont, "SOUNDFONT_CANDIDATES", (str(tmp_path / "none.sf2"),))
    with pytest.raises(ManneError, match="sudo apt-get install fluidsynth fluid-soundfont-gm"):
        find_soundfont()


def test_not_a_soundfont_raises(tmp_path):
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"junk" * 10)
    with pytest.raises(ManneError, match="not a SoundFont"):
        find_soundfont(bad)


def test_missing_fluidsynth_names_the_install_line(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ManneError, match="sudo apt-get install fluidsynth fluid-soundfont-gm"):
        soundfont.find_fluidsynth()


def test_corpus_plans():
    assert len(corpus_plan("synth5")) == len(SYNTH_PROGRAMS) == len(corpus_plan("synth1"))
    assert all(9 != p and p < 112 for p in SYNTH_PROGRAMS)
    assert corpus_plan("synth1")[0][0] == f"{SYNTH_PROGRAMS[0]:03d}_{program_name(SYNTH_PROGRAMS[0])}.wav"
    splits = {rel.split("/")[0] for rel, _, _ in corpus_plan("violin")}
    assert splits == {"train", "val", "test"}
    from tools.soundfont.notes import DEFAULT_PROGRAMS

    held = {rel.split("/")[0]: [] for rel, _, _ in corpus_plan("heldout")}
    for rel, program, notes in corpus_plan("heldout"):
        held[rel.split("/")[0]].append(program)
        assert len(notes) == 25 and {n[3] for n in notes} == {80}
    assert set(held["seen"]) <= set(DEFAULT_PROGRAMS) and not set(held["unseen"]) & set(DEFAULT_PROGRAMS)


@needs_fluidsynth
def test_render_piano_c4_has_the_right_pitch(tmp_path):
    path = render_midi([(0.0, 0.6, 60, 100)], tmp_path / "c4.wav", program=0, tail=0.2)
    y, sr = _read(path)
    assert sr == 44100
    assert len(y) == round(0.8 * sr)
    assert np.sqrt(np.mean(y**2)) > 1e-3
    seg = y[int(0.05 * sr) : int(0.55 * sr)]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), n=8 * len(seg)))
    freqs = np.fft.rfftfreq(8 * len(seg), 1 / sr)
    assert freqs[np.argmax(spectrum)] == pytest.approx(261.63, abs=3.0)
    assert not list(tmp_path.glob(".*part*"))  # no temporary file left behind


@needs_fluidsynth
def test_render_scale(tmp_path):
    path = render_midi(c_major_scale([4], note_s=0.1), tmp_path / "sub" / "scale.wav", program=73, tail=0.1)
    y, sr = _read(path)
    assert len(y) == round(0.9 * sr)
    assert np.abs(y).max() > 0.01
