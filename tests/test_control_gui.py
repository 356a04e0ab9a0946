"""The window on the session under Xvfb: right-click MIDI learn, MIDI and OSC moving its sliders and playing notes."""

from __future__ import annotations

import subprocess
import threading
import time

import numpy as np
import pytest

mido = pytest.importorskip("mido", reason="the test extra installs mido: pip install -e '.[test]'")
pytest.importorskip("pythonosc", reason="the test extra installs python-osc: pip install -e '.[test]'")
from pythonosc.udp_client import SimpleUDPClient  # noqa: E402

from manne.control.midi import handle_message  # noqa: E402
from manne.control.osc import OscIn  # noqa: E402
from tkpump import held, pump  # noqa: E402


@pytest.fixture
def window(xvfb, default_ae):
    import tkinter as tk

    from manne.io.settings import default_model_dir
    from manne.gui.window import SynthWindow
    from manne.synth.instrument import Synth

    root = tk.Tk(className="manne")
    win = SynthWindow(root, default_ae, default_model_dir(), engine=Synth(default_ae), audio=None,
                      audio_error="test has no sound card")
    pump(win)
    yield win
    if not win.closed:
        win.close()


def from_thread(fn) -> None:
    """Run ``fn`` on another thread, as rtmidi's callback thread would."""
    t = threading.Thread(target=fn)
    t.start()
    t.join()


def test_right_click_learns_and_a_knob_moves_the_slider(window):
    win = window
    scale = win.sliders[2]
    win.root.update_idletasks()
    x, y = scale.winfo_rootx() + scale.winfo_width() // 2, scale.winfo_rooty() + scale.winfo_height() // 2
    subprocess.run(["xdotool", "mousemove", "--sync", str(x), str(y), "click", "3"], check=True, timeout=20)
    pump(win)
    assert win.session.state().learning == "z3"
    assert "MIDI learn: move a knob or fader for z3" in win.message_var.get()
    lo, hi = win.ae.latent_range
    from_thread(lambda: handle_message(win.session, mido.Message("control_change", control=74, value=127)))
    pump(win)
    assert win.session.cc_map == {74: "z3"}
    assert float(scale.get()) == pytest.approx(hi[2]) and win.z[2] == pytest.approx(hi[2])
    assert win.engine.controls.z[2] == pytest.approx(hi[2])
    from_thread(lambda: handle_message(win.session, mido.Message("control_change", control=74, value=0)))
    pump(win)
    assert float(scale.get()) == pytest.approx(lo[2])
    assert win.current_preset().midi == ((74, "z3"),)  # saved with the preset
    # the volume learns the same way
    vx = win.volume_scale.winfo_rootx() + win.volume_scale.winfo_width() // 2
    vy = win.volume_scale.winfo_rooty() + win.volume_scale.winfo_height() // 2
    subprocess.run(["xdotool", "mousemove", "--sync", str(vx), str(vy), "click", "3"], check=True, timeout=20)
    pump(win)
    assert win.session.state().learning == "volume"
    from_thread(lambda: handle_message(win.session, mido.Message("control_change", control=7, value=64)))
    pump(win)
    assert win.volume_var.get() == pytest.approx(64 / 127) and win.session.cc_map == {74: "z3", 7: "volume"}


def test_midi_keys_light_the_piano_and_sound(window):
    win = window
    from_thread(lambda: [handle_message(win.session, mido.Message("note_on", note=n, velocity=100)) for n in (60, 64)])
    pump(win)
    assert held(win.engine) == [60, 64]
    pump(win)
    assert {60, 64} <= set(win.piano.held)
    from_thread(lambda: handle_message(win.session, mido.Message("note_off", note=60)))
    assert held(win.engine) == [64]


def test_osc_plays_notes_and_moves_sliders(window):
    win = window
    with OscIn(win.session, port=0) as osc:
        c = SimpleUDPClient("127.0.0.1", osc.port)
        c.send_message("/manne/note_on", [62, 80])
        c.send_message("/manne/z", [2, 0.9])
        c.send_message("/manne/volume", [0.3])
        c.send_message("/manne/method", ["coherent"])
        c.send_message("/manne/nonsense", [1])
        deadline = time.monotonic() + 3
        while win.session.counts.osc + win.session.counts.osc_malformed < 5 and time.monotonic() < deadline:
            pump(win, 0.05)
        pump(win)
    assert held(win.engine) == [62]
    assert float(win.sliders[1].get()) == pytest.approx(0.9, abs=1e-6) and win.z[1] == pytest.approx(0.9, abs=1e-6)
    assert win.volume_var.get() == pytest.approx(0.3) and win.phase_var.get() == "coherent"
    assert win.note_var.get() == 2
    assert "OSC 4 (1 malformed)" in win.status_text()
    # a slider moved in the window leaves the one OSC moved alone
    win._slider_moved(0, "0.1")
    assert np.allclose(win.engine.controls.z[:2], [0.1, 0.9], atol=1e-6)
