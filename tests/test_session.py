"""The Tk-free session: notes, sliders, hold, control changes, MIDI learn, presets and threads, without a display."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from manne.control.session import Session
from manne.errors import ParameterError
from manne.synth.instrument import Synth
from manne.synth.presets import Preset, check_cc_map, load_preset, save_preset


def events(session) -> list:
    out = list(session.engine._events)
    session.engine._events.clear()
    return out


def test_starts_from_the_synth(session, default_ae):
    st = session.state()
    assert st.z == tuple(np.asarray(default_ae.latent_range, dtype=np.float64).mean(axis=0))
    assert (st.volume, st.method, st.hold, st.octave, st.held, st.cc_map, st.learning) == \
        (0.8, "harmonic", False, 4, frozenset(), (), None)
    assert session.targets() == [f"z{i}" for i in range(1, 9)] + ["volume"]


def test_notes_reach_the_synth_and_are_held(session):
    rev = session.revision
    session.note_on(60, 90)
    session.note_on(64)
    assert events(session) == [("on", 60, 90), ("on", 64, 100)]
    assert session.state().held == {60, 64} and session.state().note == 4
    session.note_on(60, 0)  # velocity 0 is a note-off, as in MIDI
    session.note_off(64)
    assert events(session) == [("off", 60, 0), ("off", 64, 0)]
    assert session.state().held == frozenset() and session.revision > rev
    assert session.press(0) == 60 and session.press(12) == 72  # computer keys: C4 .. the next C
    session.set_octave(9)
    assert session.state().octave == 7 and session.midi_note(12) == 108
    session.all_off(fast=True)
    assert session.state().held == frozenset()
    for bad, match in ((20, "from 21 .A0. to 108"), (True, "note=True"), (60.0, "note=60.0")):
        with pytest.raises(ParameterError, match=match):
            session.note_on(bad)
    with pytest.raises(ParameterError, match="velocity=128 must be an integer from 0 to 127"):
        session.note_on(60, 128)


def test_hold_drones_the_selected_note(session):
    session.select_note("E")
    session.set_hold(True)
    assert events(session) == [("hold", True, 0), ("on", 64, 100)]
    session.select_note(7)
    assert events(session) == [("on", 67, 100)]
    session.set_hold(False)
    assert events(session) == [("hold", False, 0)]


def test_sliders_clip_to_the_range_and_keep_every_move(session):
    lo, hi = session.ae.latent_range
    z = session.move_sliders(np.full(8, 5.0))
    assert np.array_equal(z, hi) and np.array_equal(session.engine.controls.z, hi)
    assert session.move_slider(2, -1.0) == pytest.approx(lo[2])
    assert session.z[2] == pytest.approx(lo[2]) and session.z[3] == pytest.approx(hi[3])
    with pytest.raises(ParameterError, match="z has 3 values; the model has 8"):
        session.move_sliders([0.5] * 3)
    with pytest.raises(ParameterError, match="finite"):
        session.move_slider(0, float("nan"))
    with pytest.raises(ParameterError, match="neuron index 8 must be from 0 to 7"):
        session.move_slider(8, 0.5)
    session.set_volume(0.25)
    session.set_method("rtpghi")
    assert session.engine.controls.volume == 0.25 and events(session)[-1] == ("method", "rtpghi", 0)
    with pytest.raises(ParameterError, match="volume=1.5 must be a number between 0 and 1"):
        session.set_volume(1.5)
    with pytest.raises(ParameterError, match="method='fm' must be one of"):
        session.set_method("fm")


def test_default_controllers(session):
    assert session.control_change(64, 127) == "sustain" and events(session) == [("pedal", True, 0)]
    assert session.control_change(64, 10) == "sustain" and events(session) == [("pedal", False, 0)]
    assert session.control_change(7, 127) == "volume" and session.engine.controls.volume == 1.0
    # the bundled model's descriptors: neuron 7 brightens most, downwards (the wheel's up is its down)
    assert session.state().mod_wheel == ("z7", True)
    assert session.control_change(1, 127) == "mod wheel -> z7" and session.z[6] == pytest.approx(0.0)
    assert session.control_change(1, 0) == "mod wheel -> z7" and session.z[6] == pytest.approx(1.0)
    session.pitch_bend(0.5)
    session.sustain(True)
    assert session.control_change(121, 0) == "reset controllers"
    assert session.engine.controls.bend == 0.0 and not session.state().pedal
    assert session.control_change(123, 0) == "all off"
    assert session.control_change(20, 5) == ""  # not mapped: nothing happens
    with pytest.raises(ParameterError, match="MIDI value 128 must be from 0 to 127"):
        session.control_change(20, 128)


def test_mod_wheel_without_descriptors_moves_z1(default_ae, tmp_path):
    s = Session(Synth(default_ae), model_dir=tmp_path)
    assert s.state().mod_wheel == ("z1", False)
    s.control_change(1, 127)
    assert s.z[0] == pytest.approx(default_ae.latent_range[1][0])


def test_midi_learn_binds_the_next_control(session):
    session.learn("z3")
    assert session.state().learning == "z3"
    assert session.control_change(74, 127) == "CC 74 -> z3"
    assert session.state().learning is None and session.cc_map == {74: "z3"}
    assert session.z[2] == pytest.approx(session.ae.latent_range[1][2])
    session.control_change(74, 0)
    assert session.z[2] == pytest.approx(session.ae.latent_range[0][2])
    session.learn("z3")  # a target has one control: relearning moves it
    session.control_change(75, 64)
    assert session.cc_map == {75: "z3"}
    session.learn("volume")
    session.control_change(1, 0)  # a learnt CC takes precedence over the mod wheel's default
    assert session.cc_map == {75: "z3", 1: "volume"} and session.engine.controls.volume == 0.0
    session.unmap("volume")
    assert session.cc_map == {75: "z3"}
    session.learn("z1")
    session.cancel_learn()
    assert session.state().learning is None
    with pytest.raises(ParameterError, match="MIDI learn target 'z9' must be one of z1, .* volume"):
        session.learn("z9")


def test_preset_round_trip_with_midi_map(session, tmp_path):
    session.move_sliders(np.linspace(0, 1, 8))
    session.select_note("F#")
    session.set_volume(0.5)
    session.set_method("coherent")
    session.map_cc(74, "z2")
    session.map_cc(7, "volume")
    path = save_preset(tmp_path / "p.json", session.preset())
    assert json.loads(path.read_text())["midi"] == {"7": "volume", "74": "z2"}
    other = Session(Synth(session.ae), model_dir=session.model_dir)
    p = other.load_preset(path)
    assert p.midi == ((7, "volume"), (74, "z2"))
    st = other.state()
    assert np.allclose(st.z, np.linspace(0, 1, 8)) and (st.note, st.volume, st.method) == (6, 0.5, "coherent")
    assert st.cc_map == ((7, "volume"), (74, "z2"))


def test_presets_without_midi_still_load(session, tmp_path):
    old = {"version": 1, "model": str(session.model_dir), "z": [0.5] * 8, "note": "E", "volume": 0.8, "phase": "noise"}
    (tmp_path / "old.json").write_text(json.dumps(old))
    session.map_cc(74, "z2")
    p = session.load_preset(tmp_path / "old.json")
    assert p.midi == () and session.cc_map == {74: "z2"}  # a preset without a map keeps the one learnt
    assert "midi" not in Preset(model="m", z=[0.1]).to_dict()


@pytest.mark.parametrize("m, match", [
    ({"200": "z1"}, "midi control '200' must be a control change number from 0 to 127"),
    ({"7": "z3"}, r"midi control 7 -> 'z3' must be volume or z1 .. z2"),
    ({"7": "pan"}, r"midi control 7 -> 'pan' must be volume or z1 .. z2"),
    ({"x": "z1"}, "midi control 'x'"),
    ([1, 2], "must map control change numbers to targets"),
])
def test_bad_midi_maps_are_refused(tmp_path, m, match):
    bad = {"version": 1, "model": "m", "z": [0.5, 0.5], "note": "E", "volume": 0.8, "phase": "noise", "midi": m}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(ParameterError, match=match):
        load_preset(tmp_path / "bad.json")
    assert check_cc_map({"74": "z1"}) == ((74, "z1"),)


def test_two_threads_never_lose_a_move(session):
    """A MIDI thread and an OSC thread move different sliders at once: every move lands (the
    synth's snapshot swap is a read-modify-write, so the session serialises it)."""
    n = 2000

    def move(i):
        for k in range(n):
            session.move_slider(i, (k % 100) / 100)
        session.move_slider(i, 0.125 * (i + 1))

    threads = [threading.Thread(target=move, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    want = [0.125 * (i + 1) for i in range(4)]
    assert np.allclose(session.z[:4], want) and np.allclose(session.engine.controls.z[:4], want)


def test_attach_a_new_model_keeps_what_fits(session):
    session.map_cc(74, "z8")
    session.map_cc(7, "volume")
    session.learn("z7")
    session.note_on(60)
    two = Synth(session.ae)
    two.set_z(np.zeros(8))
    session.attach(two, model_dir=session.model_dir)
    assert session.engine is two and session.state().held == frozenset() and np.allclose(session.z, 0)
    assert session.cc_map == {74: "z8", 7: "volume"} and session.state().learning == "z7"


def test_counts_read_in_words(session):
    assert session.counts.text() == ""
    session.count("midi")
    session.count("osc_malformed", "OSC /x: unknown")
    assert session.counts.text() == "MIDI 1 · OSC 0 (1 malformed)"
    assert session.counts.last_problem == "OSC /x: unknown"
