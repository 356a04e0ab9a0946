"""MIDI in: mido messages into the session, then end to end through virtual ports (JACK here; ALSA where the kernel has it)."""

from __future__ import annotations

import os
import sys
import time
import uuid

import numpy as np
import pytest

mido = pytest.importorskip("mido", reason="the test extra installs mido: pip install -e '.[test]'")
rtmidi = pytest.importorskip("rtmidi", reason="the test extra installs python-rtmidi: pip install -e '.[test]'")

from manne.control import midi  # noqa: E402
from manne.control.session import Session  # noqa: E402
from manne.errors import ManneError, ParameterError  # noqa: E402
from manne.synth.instrument import Synth  # noqa: E402

Message = mido.Message
HAS_ALSA_SEQ = os.path.exists("/dev/snd/seq")
NO_ALSA_SEQ = ("ALSA sequencer device /dev/snd/seq does not exist on this machine"
               + (" (its kernel exposes no ALSA at all: /proc/asound is absent)" if not os.path.exists("/proc/asound") else "")
               + "; the JACK tests cover virtual ports")


def events(session) -> list:
    out = list(session.engine._events)
    session.engine._events.clear()
    return out


def wait_for(cond, timeout=3.0):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# ---- messages -> session ------------------------------------------------------------------

def test_notes_with_velocity(session):
    h = midi.handle_message
    assert h(session, Message("note_on", note=60, velocity=90, channel=3)) == "note on 60"  # omni
    assert h(session, Message("note_on", note=64, velocity=0)) == "note off 64"  # velocity 0 = off
    assert h(session, Message("note_off", note=60, velocity=40)) == "note off 60"
    assert events(session) == [("on", 60, 90), ("off", 64, 0), ("off", 60, 0)]
    assert session.counts.midi == 3 and session.state().held == frozenset()


def test_pitch_wheel_ends_are_two_semitones(session):
    for pitch, bend in ((8191, 1.0), (-8192, -1.0), (0, 0.0), (4096, 4096 / 8191)):
        midi.handle_message(session, Message("pitchwheel", pitch=pitch))
        assert session.engine.controls.bend == pytest.approx(bend)


def test_pedal_mod_wheel_and_learn(session):
    h = midi.handle_message
    h(session, Message("control_change", control=64, value=127))
    h(session, Message("control_change", control=64, value=0))
    assert events(session) == [("pedal", True, 0), ("pedal", False, 0)]
    assert h(session, Message("control_change", control=1, value=127)) == "mod wheel -> z7"
    assert session.z[6] == pytest.approx(0.0)  # the bundled model's brightness neuron brightens downwards
    session.learn("z2")
    assert h(session, Message("control_change", control=21, value=127)) == "CC 21 -> z2"
    h(session, Message("control_change", control=21, value=0))
    assert session.cc_map == {21: "z2"} and session.z[1] == pytest.approx(0.0)
    session.learn("volume")
    h(session, Message("control_change", control=22, value=127))
    assert session.engine.controls.volume == 1.0


def test_what_is_not_played_is_counted_not_raised(session):
    h = midi.handle_message
    assert h(session, Message("note_on", note=10, velocity=100)) == ""  # below A0
    assert h(session, Message("note_on", note=120, velocity=100)) == ""  # above C8
    assert h(session, Message("program_change", program=3)) == ""
    assert h(session, Message("control_change", control=30, value=3)) == ""  # nothing learnt on it
    assert h(session, Message("aftertouch", value=30)) == ""
    for kind in ("clock", "active_sensing", "start", "stop"):  # real-time chatter: not even counted
        assert h(session, Message(kind)) == ""
    assert h(session, object()) == ""
    assert (session.counts.midi, session.counts.midi_ignored) == (0, 6)
    assert "must be a MIDI note number" in session.counts.last_problem or "is not used" in session.counts.last_problem
    assert events(session) == []


def test_missing_packages_give_one_line_with_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "rtmidi", None)
    with pytest.raises(ManneError, match=r"MIDI needs mido and python-rtmidi: .*pip install .*python-rtmidi"):
        midi.require()


def test_cli_without_the_extra(monkeypatch, capsys):
    from manne.cli import main

    monkeypatch.setitem(sys.modules, "rtmidi", None)
    assert main(["midi-ports"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install" in err[0]


def test_resolve_port_by_index_or_name():
    ports = [("UNIX_JACK", "Midi Through:0"), ("UNIX_JACK", "Keystation 49:port 1")]
    assert midi.resolve_port(ports, 1) == ports[1]
    assert midi.resolve_port(ports, "1") == ports[1]
    assert midi.resolve_port(ports, "keystation") == ports[1]
    with pytest.raises(ParameterError, match=r"no MIDI input matches 'nano'; the inputs are 0: Midi Through:0, 1: Keystation"):
        midi.resolve_port(ports, "nano")
    with pytest.raises(ParameterError, match="MIDI input 5 does not exist"):
        midi.resolve_port(ports, 5)


def test_rtmidi_has_the_linux_apis():
    if not sys.platform.startswith("linux"):
        pytest.skip("the ALSA and JACK APIs are Linux's")
    compiled = rtmidi.get_compiled_api()
    assert rtmidi.API_LINUX_ALSA in compiled and rtmidi.API_UNIX_JACK in compiled
    with pytest.raises(ParameterError, match="MIDI API 'coremidi' is not available here; python-rtmidi has alsa, jack"):
        midi.input_ports("coremidi")


# ---- ALSA -------------------------------------------------------------------------------------

@pytest.mark.skipif(HAS_ALSA_SEQ, reason="this machine has an ALSA sequencer")
def test_no_alsa_sequencer_is_said_plainly():
    with pytest.raises(ManneError, match=r"no MIDI system: ALSA: no sequencer \(/dev/snd/seq is missing"):
        midi.input_ports("alsa")
    with pytest.raises(ManneError, match="cannot open a virtual MIDI input: ALSA: no sequencer"):
        midi.MidiIn(None, virtual=True, api="alsa")


@pytest.mark.skipif(not HAS_ALSA_SEQ, reason=NO_ALSA_SEQ)
def test_alsa_virtual_port_end_to_end(session):
    name = f"manne-test-{uuid.uuid4().hex[:6]}"
    with midi.MidiIn(session, virtual=True, name=name, api="alsa") as port:
        backend = mido.Backend("mido.backends.rtmidi/LINUX_ALSA")
        target = next(n for n in backend.get_output_names() if name in n)
        with backend.open_output(target) as out:
            out.send(Message("note_on", note=62, velocity=77))
            assert wait_for(lambda: session.counts.midi == 1)
        assert port.api == "LINUX_ALSA" and session.state().held == {62}


# ---- JACK: a private server with the dummy driver ---------------------------------------------

JACK = "mido.backends.rtmidi/UNIX_JACK"


def test_jack_virtual_port_end_to_end(jack_server, session):
    """Another program (a mido output) connects to manne's virtual input and plays it."""
    with midi.MidiIn(session, virtual=True, api="jack") as port:
        assert port.describe() == "MIDI in: virtual port 'manne' (JACK)"
        backend = mido.Backend(JACK)
        target = next(n for n in backend.get_output_names() if n.endswith(":manne"))
        with backend.open_output(target) as out:
            out.send(Message("note_on", note=60, velocity=90))
            out.send(Message("note_on", note=67, velocity=50))
            assert wait_for(lambda: session.counts.midi == 2)
            assert session.state().held == {60, 67}
            session.learn("z4")
            out.send(Message("control_change", control=74, value=127))
            out.send(Message("pitchwheel", pitch=-8192))
            out.send(Message("control_change", control=64, value=127))
            out.send(Message("note_on", note=60, velocity=0))
            assert wait_for(lambda: session.counts.midi == 6)
    assert session.cc_map == {74: "z4"} and session.z[3] == pytest.approx(1.0)
    assert session.engine.controls.bend == -1.0 and session.state().pedal and session.state().held == {67}
    assert events(session) == [("on", 60, 90), ("on", 67, 50), ("pedal", True, 0), ("off", 60, 0)]


def test_jack_keyboard_port_by_name_and_index(jack_server, session, capsys):
    """A keyboard's output port (made with rtmidi's own API) is listed and opened by part of its name or index."""
    keyboard = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="fake keyboard")
    keyboard.open_virtual_port("Keystation 49")
    try:
        ports, problems = midi.input_ports()  # every API: ALSA may be missing, JACK answers
        names = [n for _, n in ports]
        i = next(k for k, n in enumerate(names) if "Keystation 49" in n)
        assert ports[i][0] == "UNIX_JACK"
        if not HAS_ALSA_SEQ:
            assert any("/dev/snd/seq" in p for p in problems)
        from manne.cli import main

        assert main(["midi-ports", "--api", "jack"]) == 0
        assert "Keystation 49  (JACK)" in capsys.readouterr().out
        for spec in ("keystation", i):
            with midi.MidiIn(session, spec) as port:
                assert not port.virtual and "Keystation 49" in port.name
                before = session.counts.midi
                keyboard.send_message([0x90, 62, 70])  # note on, channel 1
                keyboard.send_message([0xE0, 0x00, 0x60])  # pitch wheel: 0x60 << 7 = 12288 -> +4096
                keyboard.send_message([0x80, 62, 0])
                assert wait_for(lambda: session.counts.midi == before + 3)
            assert session.engine.controls.bend == pytest.approx(4096 / 8191)
            assert events(session) == [("on", 62, 70), ("off", 62, 0)]
        with midi.MidiIn(session) as port:  # no PORT: the first input that is not a "through" port
            assert "Keystation 49" in port.name
    finally:
        keyboard.close_port()
        keyboard.delete()


def test_jack_synth_plays_what_the_port_sends(jack_server, default_ae):
    """The sound follows: a chord sent through the port sounds in the synth's output, then stops."""
    from manne.io.settings import default_model_dir

    synth = Synth(default_ae)
    s = Session(synth, model_dir=default_model_dir())
    with midi.MidiIn(s, virtual=True, name="manne-sound", api="jack"):
        backend = mido.Backend(JACK)
        with backend.open_output(next(n for n in backend.get_output_names() if n.endswith(":manne-sound"))) as out:
            out.send(Message("note_on", note=57, velocity=100))
            assert wait_for(lambda: s.counts.midi == 1)
            loud = np.sqrt(np.mean(synth.render(0.3) ** 2))
            out.send(Message("note_off", note=57))
            assert wait_for(lambda: s.counts.midi == 2)
            synth.render(0.5)
            quiet = np.sqrt(np.mean(synth.render(0.2) ** 2))
    assert loud > 0.01 and quiet < 1e-4


def test_synth_command_without_the_extra(monkeypatch, capsys):
    from manne.cli import main

    monkeypatch.setenv("DISPLAY", ":0")  # checked before Tk opens: no window is made
    monkeypatch.setitem(sys.modules, "rtmidi", None)
    assert main(["synth", "--midi"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("manne synth: error: MIDI needs mido and python-rtmidi") and "pip install" in err[0]
