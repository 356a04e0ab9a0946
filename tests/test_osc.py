"""OSC in: UDP datagrams to 127.0.0.1 play notes, move sliders and load presets; malformed ones are counted, never fatal."""

from __future__ import annotations

import json
import socket
import sys
import time
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("pythonosc", reason="the test extra installs python-osc: pip install -e '.[test]'")
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder  # noqa: E402
from pythonosc.osc_message_builder import OscMessageBuilder  # noqa: E402
from pythonosc.udp_client import SimpleUDPClient  # noqa: E402

from manne.control.osc import OscIn  # noqa: E402
from manne.control.session import Session  # noqa: E402
from manne.errors import ManneError  # noqa: E402
from manne.synth.instrument import Synth  # noqa: E402


@pytest.fixture()
def session(default_ae):
    from manne.io.settings import default_model_dir

    return Session(Synth(default_ae), model_dir=default_model_dir())


@pytest.fixture()
def osc(session):
    with OscIn(session, port=0) as server:  # a free port on 127.0.0.1
        yield server


def events(session) -> list:
    out = list(session.engine._events)
    session.engine._events.clear()
    return out


def settle(session, total: int, timeout: float = 3.0) -> None:
    """Wait until ``total`` messages were played or refused."""
    deadline = time.monotonic() + timeout
    while session.counts.osc + session.counts.osc_malformed < total:
        assert time.monotonic() < deadline, f"only {session.counts} after {timeout} s"
        time.sleep(0.005)


def test_notes_over_udp(session, osc):
    assert osc.host == "127.0.0.1" and osc.port > 0
    c = SimpleUDPClient("127.0.0.1", osc.port)
    c.send_message("/manne/note_on", [60, 90])
    c.send_message("/manne/note_on", [64.0])  # a float note is fine when whole; velocity defaults to 100
    c.send_message("/manne/note_on", [67, 0])  # velocity 0 is a note-off
    c.send_message("/manne/note_off", [60])
    settle(session, 4)
    assert session.counts.osc == 4 and session.counts.osc_malformed == 0
    assert events(session) == [("on", 60, 90), ("on", 64, 100), ("off", 67, 0), ("off", 60, 0)]
    assert session.state().held == {64}
    c.send_message("/manne/all_off", [])
    settle(session, 5)
    assert session.state().held == frozenset() and events(session) == [("all_off", False, 0)]


def test_sliders_volume_bend_pedal_hold_method(session, osc):
    c = SimpleUDPClient("127.0.0.1", osc.port)
    c.send_message("/manne/z", [3, 0.25])  # index (1-based) and value
    c.send_message("/manne/z/8", [0.75])
    c.send_message("/manne/volume", [0.5])
    c.send_message("/manne/bend", [-0.5])
    c.send_message("/manne/pedal", [1])
    c.send_message("/manne/method", ["coherent"])
    c.send_message("/manne/hold", [True])
    settle(session, 7)
    z = session.z
    assert z[2] == pytest.approx(0.25) and z[7] == pytest.approx(0.75) and z[0] == pytest.approx(0.5)
    ctl = session.engine.controls
    assert (ctl.volume, ctl.bend) == (0.5, -0.5) and np.allclose(ctl.z, z)
    st = session.state()
    assert st.pedal and st.hold and st.method == "coherent"
    assert events(session)[:3] == [("pedal", True, 0), ("method", "coherent", 0), ("hold", True, 0)]
    values = [0.1 * i for i in range(8)]
    c.send_message("/manne/z", values)  # all eight at once
    c.send_message("/manne/volume", [3.0])  # clipped into range, like a fader at its end
    c.send_message("/manne/z/1", [-2.0])
    settle(session, 10)
    assert np.allclose(session.z, [0.0] + values[1:], atol=1e-6) and session.engine.controls.volume == 1.0
    assert session.counts.osc_malformed == 0


def test_preset_by_path(session, osc, tmp_path):
    path = tmp_path / "bright.json"
    path.write_text(json.dumps({"version": 1, "model": str(session.model_dir), "z": [0.9] * 8, "note": "A",
                                "volume": 0.3, "phase": "rtpghi", "midi": {"74": "z2"}}))
    c = SimpleUDPClient("127.0.0.1", osc.port)
    c.send_message("/manne/preset", [str(path)])
    c.send_message("/manne/preset", [str(tmp_path / "missing.json")])
    settle(session, 2)
    st = session.state()
    assert np.allclose(st.z, 0.9) and (st.note, st.volume, st.method, st.cc_map) == (9, 0.3, "rtpghi", ((74, "z2"),))
    assert session.counts.osc_malformed == 1 and "no such preset file" in session.counts.last_problem


@pytest.mark.parametrize("address, args, why", [
    ("/manne/unknown", [1], "unknown address; manne's are /manne/note_on"),
    ("/other/note_on", [60], "unknown address (manne's start with /manne/)"),
    ("/manne/note_on", [], "takes 1 or 2 arguments, got 0"),
    ("/manne/note_on", ["C4"], "note='C4' must be a finite number"),
    ("/manne/note_on", [60.5], "note=60.5 must be a whole number"),
    ("/manne/note_on", [12], "must be a MIDI note number from 21"),
    ("/manne/note_on", [60, 200], "velocity=200 must be an integer from 0 to 127"),
    ("/manne/note_off", [60, 1, 2], "takes 1 argument, got 3"),
    ("/manne/z", [0.1, 0.2, 0.3], "takes index value, or 8 values"),
    ("/manne/z", [9, 0.5], "slider index 9 must be from 1 to 8"),
    ("/manne/z/0", [0.5], "slider index 0 must be from 1 to 8"),
    ("/manne/z/x", [0.5], "slider index 'x' must be a number from 1 to 8"),
    ("/manne/z", [1, float("nan")], "z1=nan must be a finite number"),
    ("/manne/volume", ["loud"], "volume='loud' must be a finite number"),
    ("/manne/bend", [float("inf")], "bend=inf must be a finite number"),
    ("/manne/method", ["fm"], "method 'fm' must be one of harmonic"),
    ("/manne/preset", [3], "preset path 3 must be a string"),
    ("/manne/all_off", [1], "takes 0 arguments, got 1"),
])
def test_malformed_messages_are_counted_and_ignored(session, osc, address, args, why):
    c = SimpleUDPClient("127.0.0.1", osc.port)
    c.send_message(address, args)
    c.send_message("/manne/note_on", [60])  # the server goes on
    settle(session, 2)
    assert (session.counts.osc, session.counts.osc_malformed) == (1, 1)
    assert why in session.counts.last_problem
    assert events(session) == [("on", 60, 100)]


def test_garbage_datagrams_and_bundles(session, osc):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for data in (b"", b"not osc at all", b"/manne/note_on\x00\x00,i\x00\x00", b"#bundle\x00" + b"\xff" * 3,
                 bytes(range(256)) * 40):  # empty, text, truncated argument, broken bundle, larger than a datagram read
        s.sendto(data, ("127.0.0.1", osc.port))
    bundle = OscBundleBuilder(IMMEDIATELY)
    for note in (60, 64, 67):
        m = OscMessageBuilder("/manne/note_on")
        m.add_arg(note)
        bundle.add_content(m.build())
    s.sendto(bundle.build().dgram, ("127.0.0.1", osc.port))
    settle(session, 8)
    s.close()
    assert (session.counts.osc, session.counts.osc_malformed) == (3, 5)
    assert session.state().held == {60, 64, 67}


def test_two_neuron_models_read_ints_as_an_index():
    """With d = 2, ``/manne/z i v`` (an OSC int first) is one slider and ``/manne/z f f`` both."""
    calls = []
    fake = SimpleNamespace(latent=2, move_sliders=lambda z: calls.append(("all", z)),
                           move_slider=lambda i, v: calls.append((i, v)), count=lambda *a: calls.append(a))
    osc = OscIn.__new__(OscIn)
    osc.session = fake
    assert osc.handle("/manne/z", [2, 0.5]) == 1
    assert osc.handle("/manne/z", [0.25, 0.5]) == 1
    assert calls == [(1, 0.5), ("osc",), ("all", [0.25, 0.5]), ("osc",)]


def test_port_in_use_and_missing_package(session, osc, monkeypatch):
    with pytest.raises(ManneError, match=rf"cannot listen for OSC on 127.0.0.1:{osc.port}: .*--osc PORT"):
        OscIn(session, port=osc.port)
    monkeypatch.setitem(sys.modules, "pythonosc.osc_server", None)
    with pytest.raises(ManneError, match=r"OSC needs python-osc: .*pip install"):
        OscIn(session, port=0)


def test_close_frees_the_port(session):
    server = OscIn(session, port=0)
    port = server.port
    server.close()
    server.close()
    again = OscIn(session, port=port)
    again.close()


def test_synth_command_checks_the_port_and_the_extra(monkeypatch, capsys):
    from manne.cli import main

    monkeypatch.setenv("DISPLAY", ":0")  # checked before Tk opens: no window is made
    assert main(["synth", "--osc", "70000"]) == 2
    assert "--osc 70000 must be a UDP port from 0 to 65535" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "pythonosc.osc_server", None)
    assert main(["synth", "--osc"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "OSC needs python-osc" in err[0]
