"""The synth window, driven with real X input on a virtual display (Xvfb + xdotool).

The window runs on the tiny model with a real :class:`manne.synth.instrument.Synth` and no audio
stream (``audio=None``); where a test needs audio to flow, it calls ``engine.callback`` (or
``engine.process``, which also takes the queued note events) itself, as PyAudio's thread would. The
Tk loop is pumped with ``root.update()`` between actions.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from tkinter import filedialog

import numpy as np
import pytest
import soundfile as sf

from manne.cli import main as cli_main
from manne.errors import ParameterError
from tkpump import held, pump


@pytest.fixture(scope="module")
def ae(tiny_model):
    from manne.model.forward import Autoencoder

    return Autoencoder.load(tiny_model)


@pytest.fixture
def window(xvfb, ae, tiny_model):
    import tkinter as tk

    from manne.gui.window import SynthWindow
    from manne.synth.instrument import Synth

    root = tk.Tk(className="manne")
    engine = Synth(ae, sr=ae.analysis.sr)
    win = SynthWindow(root, ae, tiny_model, engine=engine, audio=None, audio_error="test has no sound card")
    pump(win)
    yield win
    if not win.closed:
        win.close()


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=20, capture_output=True)


def focus(win) -> None:
    """Give the window the X input focus with xdotool.

    The focus must go to Tk's wrapper window (the one that carries the title), not to
    ``winfo_id()``, or Tk never sees a FocusIn and drops the keys; it is found by its title.
    """
    pump(win, 0.1)
    found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", "^manne .+$"],
                           capture_output=True, text=True, timeout=20, check=True)
    inner = win.root.winfo_id()
    wrapper = min((int(w) for w in found.stdout.split()), key=lambda w: abs(w - inner))
    xdotool("windowfocus", "--sync", str(wrapper))
    pump(win, 0.1)
    assert win.root.focus_get() is not None, "Tk did not receive the focus"


def drag_slider(win, scale, value: float) -> None:
    """Press the mouse on the slider's knob, drag it to ``value``'s position and let go (real X events)."""
    x0, y0 = scale.coords()
    x1, y1 = scale.coords(value)
    rx, ry = scale.winfo_rootx(), scale.winfo_rooty()
    xdotool("mousemove", "--sync", str(rx + x0), str(ry + y0))
    pump(win, 0.05)
    xdotool("mousedown", "1")
    pump(win, 0.05)
    for frac in (0.33, 0.66, 1.0):
        xdotool("mousemove", "--sync", str(rx + x0), str(round(ry + y0 + frac * (y1 - y0))))
        pump(win, 0.05)
    xdotool("mouseup", "1")
    pump(win, 0.1)


def test_keyboard_and_slider_drive_the_engine(window):
    win, engine = window, window.engine
    focus(win)
    xdotool("keydown", "d")  # A W S E D ... = C C# D D# E: "d" holds E4
    pump(win)
    assert held(engine) == [64]
    assert win.note_var.get() == 4
    pump(win, 0.12)  # a poll lights the held key on the piano
    assert win.piano.held == {64} and win.piano.canvas.itemcget("k64", "fill") == win.piano.WHITE_HELD
    xdotool("keyup", "d")
    pump(win)
    assert held(engine) == []  # released: the note's release fades it out

    xdotool("keydown", "a", "keydown", "d", "keydown", "g")  # a chord: C4 E4 G4
    pump(win)
    assert held(engine) == [60, 64, 67]
    started = {v.note: v.started for v in engine.bank.held()}
    xdotool("keyup", "d", "keydown", "d")  # what X11's auto-repeat sends for a held key
    pump(win)
    assert held(engine) == [60, 64, 67]
    assert {v.note: v.started for v in engine.bank.held()} == started  # not struck again
    xdotool("keyup", "a", "keyup", "d", "keyup", "g")
    pump(win)
    assert held(engine) == []

    xdotool("key", "x")  # octave up
    xdotool("keydown", "j")
    pump(win)
    assert held(engine) == [83]  # B5
    assert win.octave_label.cget("text") == "octave 5"
    xdotool("keyup", "j")
    xdotool("key", "z")
    pump(win)
    assert win.session.octave == 4 and win.octave_label.cget("text") == "octave 4"
    win.session.set_octave(2)  # one octave, the session's: the window's poll shows it
    pump(win)
    assert win.octave_label.cget("text") == "octave 2" and win.piano.low == 24
    win.set_octave(9)  # clamped by the session
    assert win.session.octave == 7 and win.octave_label.cget("text") == "octave 7"
    win.set_octave(4)

    lo, hi = np.asarray(win.ae.latent_range, dtype=float)
    target = float(lo[0] + 0.9 * (hi[0] - lo[0]))
    drag_slider(win, win.sliders[0], target)
    assert engine.controls.z[0] == pytest.approx(target, abs=0.03 * (hi[0] - lo[0]))
    assert engine.controls.z[0] == pytest.approx(win.z[0])
    assert win.value_labels[0].cget("text") == f"{100 * (win.z[0] - lo[0]) / (hi[0] - lo[0]):.0f}" == "90"
    assert engine.controls.z[1] == pytest.approx((lo[1] + hi[1]) / 2)  # the other neuron did not move

    # the top of a slider is the maximum
    top_x, top_y = win.sliders[1].coords(float(hi[1]))
    bottom_x, bottom_y = win.sliders[1].coords(float(lo[1]))
    assert top_y < bottom_y

    # the method selector and volume reach the engine at once
    win.set_phase("coherent")
    held(engine)
    assert engine.method == "coherent"
    win.set_volume(0.25)
    assert engine.controls.volume == pytest.approx(0.25)

    # hold mode: a key drones until the next one
    win.set_hold(True)
    xdotool("key", "e")  # D#4
    pump(win)
    assert held(engine) == [63]
    win.set_hold(False)
    assert held(engine) == []
    assert win.volume_label.cget("text") == "25%"

    # space bar with no audio device: nothing plays, nothing breaks
    xdotool("key", "space")
    pump(win)
    assert not win.playing


def press_key(win, note: int, *, down: bool = True) -> None:
    """Move the mouse onto the piano key of MIDI ``note`` and press (or release) it (real X events)."""
    x0, y0, x1, y1 = win.piano.key_box(note)
    c = win.piano.canvas
    y = (y0 + y1) / 2 if note % 12 in (1, 3, 6, 8, 10) else y1 - 8
    xdotool("mousemove", "--sync", str(round(c.winfo_rootx() + (x0 + x1) / 2)), str(round(c.winfo_rooty() + y)))
    xdotool("mousedown" if down else "mouseup", "1")
    pump(win)


def test_piano_keys_play_and_absent_notes_are_dimmed_but_playable(window):
    win = window
    present = set(win.ae.notes_present)
    assert len(present) < 12, "the tiny corpus should leave some pitch classes out"
    p = win.piano
    for note in p.notes:
        black = note % 12 in (1, 3, 6, 8, 10)
        want = (p.BLACK_ABSENT if black else p.WHITE_ABSENT) if note % 12 not in present else (p.BLACK if black else p.WHITE)
        assert p.canvas.itemcget(f"k{note}", "fill") == want, note
    assert list(p.notes)[0] == 48 and len(p.notes) == 37  # C3 to C6 around the keys' octave
    press_key(win, 62)
    assert held(win.engine) == [62]
    press_key(win, 62, down=False)
    assert held(win.engine) == []
    absent = 60 + min(set(range(12)) - present)
    press_key(win, absent)
    assert held(win.engine) == [absent]  # the key plays while pressed ...
    (voice,) = win.engine.bank.held()
    # ... decoded as the nearest class the model knows (a register-aware model: in the key's own octave)
    assert voice.pitch_class % 12 == win.engine.class_of[absent % 12] != absent % 12
    press_key(win, absent, down=False)
    assert held(win.engine) == []
    assert "not in the corpus" in win.notes_hint.cget("text")


def test_dragging_on_the_xy_pad_moves_the_sliders(window):
    win = window
    pad = win.pad
    assert win.plane.labels == ("z1", "z2")  # a two-neuron model: the pad is its whole latent plane
    lo, hi = np.asarray(win.ae.latent_range, dtype=float)
    x0, y0 = pad.to_canvas(0.5, 0.5)
    x1, y1 = pad.to_canvas(0.8, 0.2)
    rx, ry = pad.canvas.winfo_rootx(), pad.canvas.winfo_rooty()
    xdotool("mousemove", "--sync", str(round(rx + x0)), str(round(ry + y0)))
    xdotool("mousedown", "1")
    for f in (0.5, 1.0):
        xdotool("mousemove", "--sync", str(round(rx + x0 + f * (x1 - x0))), str(round(ry + y0 + f * (y1 - y0))))
        pump(win, 0.05)
    xdotool("mouseup", "1")
    pump(win)
    want = lo + np.array([0.8, 0.2]) * (hi - lo)
    assert win.z == pytest.approx(want, abs=0.02 * float(np.max(hi - lo)))
    assert win.engine.controls.z == pytest.approx(win.z)
    assert [s.get() for s in win.sliders] == pytest.approx(list(win.z))
    # and a slider moves the pad's cursor
    win.session.move_sliders(lo)
    win.show_session()
    assert (pad.u, pad.v) == pytest.approx((0.0, 0.0))
    # the background shows brightness for the note; none takes it away
    assert len(pad.canvas.find_withtag("bg")) > 100 and "brightness" in pad.caption
    # or where the decoder plays the note itself: the mesh accuracy of the same grid
    from manne.dsp import NOTE_NAMES
    from manne.gui.timbre import MAP_POINTS
    from manne.inspect.mesh import mesh_accuracy

    note = int(win.note_var.get())
    win.pad_map_var.set("note accuracy")
    win._pad_plane_changed()
    assert win.plane.axes == (0, 1) and win.ae.latent == 2  # the pad spans both neurons' whole range, as the mesh
    ref = mesh_accuracy(win.ae, points=MAP_POINTS, notes=[note]).accuracy[0]
    assert set(np.unique(pad.values)) <= {0.0, 1.0} and pad.values.mean() == pytest.approx(ref)
    assert f"decodes as {NOTE_NAMES[note]}: {ref:.0%}" in pad.caption
    win.pad_map_var.set("none")
    win._pad_plane_changed()
    assert pad.values is None


def test_no_audio_status_and_screenshot(window, tmp_path):
    win = window
    pump(win, 0.4)  # a few polls: the spectrum plot and the status line are drawn
    status = win.status_var.get()
    assert "No audio output: test has no sound card. Rendering still works." in status
    assert f"model {win.model_name}" in status
    assert win.play_button.instate(["disabled"]) and win.record_button.instate(["disabled"])
    assert win.root.title() == f"manne — {win.model_name}"
    assert len(win.spectrum.points) > 20  # the decoded spectrum is drawn even without audio
    assert win.root.winfo_width() >= 900 and win.root.winfo_height() >= 600
    for widget in (win.piano.canvas, win.pad.canvas, win.meter.canvas, win.spectrum.canvas, *win.sliders):
        assert widget.winfo_ismapped() and widget.winfo_width() > 10, widget
    shot = tmp_path / "manne_gui.png"
    subprocess.run(["import", "-window", "root", str(shot)], check=True, timeout=30)
    assert shot.stat().st_size > 10_000


def test_spectrum_and_meter_show_what_is_played(window):
    win, engine = window, window.engine
    engine.note_on(69, 100)
    for _ in range(6):
        engine.callback(None, 1024, None, 0)  # what PyAudio's thread does
    win.playing = True  # as if the stream were running
    S = win.spectrum_now()
    a = win.ae.analysis
    w = np.hanning(a.n_fft)
    np.testing.assert_allclose(S, np.abs(np.fft.rfft(engine.tap.recent(a.n_fft) * w)) / (w.sum() / 2), rtol=1e-4, atol=1e-7)
    f = np.argmax(S) * a.sr / a.n_fft  # the loudest partial is a harmonic of A4 = 440 Hz
    assert abs(f / 440 - round(f / 440)) < 0.03 and round(f / 440) >= 1
    pts = win.spectrum.update(S)
    assert pts.shape[1] == 2 and np.all(np.diff(pts[:, 0]) > 0)  # left to right on the log axis
    pump(win, 0.12)
    assert -40 < win.meter.held_db < 0 and win.meter.text.endswith("dB")
    win.playing = False
    engine.all_notes_off()


def test_close_while_recording_finishes_the_wav(window, tmp_path):
    path = tmp_path / "take.wav"
    win, engine = window, window.engine
    assert win.record_button.instate(["disabled"])  # no stream, nothing to record from the button
    win.start_recording(path)  # what the Record button does once its save dialog returns a name
    assert win.recording == path
    engine.note_on(60, 100)
    for _ in range(20):  # the audio thread's blocks, 0.23 s
        engine.callback(None, 512, None, 0)
    pump(win, 0.3)
    assert "● recording take.wav" in win.status_var.get()
    focus(win)
    xdotool("key", "ctrl+q")  # File > Quit: the same close() as the window manager's close button
    pump_until_closed(win)
    assert win.closed
    y, sr = sf.read(path)
    assert sr == 44100 and len(y) == 20 * 512 and np.abs(y).max() > 0.01
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def pump_until_closed(win) -> None:
    import tkinter as tk

    end = time.monotonic() + 5
    try:
        while not win.closed and time.monotonic() < end:
            win.root.update()
            time.sleep(0.01)
    except tk.TclError:
        pass  # the root was destroyed


def test_render_to_wav(window, tmp_path, monkeypatch):
    from manne.io.settings import output_folder

    path = tmp_path / "render.wav"
    asked = []
    monkeypatch.setattr(filedialog, "asksaveasfilename", lambda **kw: asked.append(kw) or str(path))
    before = output_folder()
    assert before != Path.cwd()
    win = window
    win.seconds_var.set("1")
    win.render_dialog()
    assert asked[0]["initialdir"] == str(before)  # the musician's folder, never the working folder
    assert output_folder() == tmp_path.resolve()  # ... and the folder chosen is offered next time
    assert win.render_button.instate(["disabled"])
    win.rendering.join(timeout=60)
    pump(win, 0.2)
    assert win.render_button.instate(["!disabled"])
    assert "Rendered render.wav" in win.message_var.get()
    info = sf.info(path)
    assert info.samplerate == 44100 and info.frames == 44100
    assert not win.engine.playing  # the live engine was not used

    win.seconds_var.set("zero")
    with pytest.raises(ParameterError, match="render length 'zero' must be between 1 and"):
        win.render_seconds()


def test_presets_from_the_window(window, tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    monkeypatch.setattr(filedialog, "asksaveasfilename", lambda **kw: str(path))
    monkeypatch.setattr(filedialog, "askopenfilename", lambda **kw: str(path))
    win, engine = window, window.engine
    lo, hi = np.asarray(win.ae.latent_range, dtype=float)
    z = lo + np.array([0.2, 0.7]) * (hi - lo)
    win.session.move_sliders(z)
    win.show_session()
    win.set_note(7)
    win.set_volume(0.5)
    win.set_phase("coherent")
    win.save_preset_dialog()
    saved = win.current_preset()

    win.session.move_sliders(lo)
    win.show_session()
    win.set_note(0)
    win.set_volume(1.0)
    win.set_phase("noise")
    win.load_preset_dialog()
    assert win.current_preset() == saved
    held(engine)
    assert np.allclose(engine.controls.z, z) and win.note_var.get() == 7
    assert engine.controls.volume == pytest.approx(0.5) and engine.method == "coherent"
    assert [s.get() for s in win.sliders] == pytest.approx(list(z))


def test_open_model_rebuilds_sliders(window, tiny_model, monkeypatch):
    monkeypatch.setattr(filedialog, "askdirectory", lambda **kw: str(tiny_model))
    win = window
    old_engine, old_slider = win.engine, win.sliders[0]
    win.set_note(2)
    win.open_model_dialog()
    assert win.engine is not old_engine and not old_slider.winfo_exists()
    assert len(win.sliders) == win.ae.latent
    assert win.note_var.get() == 2
    win.sliders[1].set(float(win.ae.latent_range[1, 1]))
    assert win.engine.controls.z[1] == pytest.approx(win.ae.latent_range[1, 1])


def test_synth_without_display(monkeypatch, capsys, tiny_model):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    rc = cli_main(["synth", str(tiny_model)])
    err = capsys.readouterr().err
    assert rc != 0
    assert err == ("manne synth: error: no display: the synth needs a desktop session "
                   "(for headless use, try `manne render`)\n")


def test_synth_without_model(xvfb, tmp_path, capsys):
    rc = cli_main(["synth", str(tmp_path / "nothing")])
    err = capsys.readouterr().err
    assert rc != 0
    assert err.count("\n") == 1
    assert f"no model at {tmp_path / 'nothing'}; train one with `manne train` or pass MODEL_DIR" in err


def test_synth_path_never_imports_tensorflow():
    code = ("import sys, manne.cli, manne.commands.synth, manne.gui.window, manne.synth.instrument, manne.synth.presets\n"
            "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_manne_synth_command_end_to_end(xvfb, tiny_model, tmp_path):
    """`manne synth MODEL` in its own process: the window appears, Ctrl+Q closes it, exit status 0."""
    env = {**os.environ, "DISPLAY": xvfb}
    proc = subprocess.Popen([sys.executable, "-m", "manne.cli", "synth", str(tiny_model), "--buffer", "1024"],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        found = subprocess.run(["xdotool", "search", "--sync", "--name", f"^manne .+ {tiny_model.name}$"],
                               capture_output=True, text=True, timeout=60)
        assert found.returncode == 0, proc.stderr.read() if proc.poll() is not None else found.stderr
        wid = found.stdout.split()[0]
        xdotool("windowfocus", "--sync", wid)
        time.sleep(0.3)
        xdotool("key", "ctrl+q")
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err


def test_synth_bad_arguments(xvfb, tiny_model, capsys):
    assert cli_main(["synth", str(tiny_model), "--buffer", "100"]) != 0
    assert "--buffer 100 must be from 256 to 2048 frames" in capsys.readouterr().err
    assert cli_main(["synth", str(tiny_model), "--preset", "/nonexistent/p.json"]) != 0
    assert "--preset /nonexistent/p.json: no such file" in capsys.readouterr().err


def test_with_a_real_audio_output(xvfb, pulse_device, ae, tiny_model):
    """Play, pause and reopen with a real stream into a private PulseAudio null sink (``conftest.py``).

    Never skipped: without PulseAudio or PyAudio the fixture or ``AudioOut`` fails with the install hint.
    """
    import tkinter as tk

    from manne.gui.window import SynthWindow
    from manne.synth.instrument import Synth
    from manne.synth.stream import AudioOut

    engine = Synth(ae, sr=ae.analysis.sr)
    audio = AudioOut(engine, device=pulse_device, buffer=512)
    root = tk.Tk(className="manne")
    win = SynthWindow(root, ae, tiny_model, engine=engine, audio=audio, device=pulse_device, buffer=512)
    try:
        assert win.play_button.instate(["!disabled"])
        win.toggle_play()
        assert win.playing and audio.active
        engine.note_on(60, 100)
        deadline = time.monotonic() + 10
        while not engine.playing and time.monotonic() < deadline:
            pump(win, 0.05)
        assert engine.playing  # the stream's callback runs and takes the note
        pump(win, 0.3)
        assert "playing · CPU" in win.status_var.get() and "underruns" in win.status_var.get()
        engine.underruns += 2  # as two dropouts count them: the line says what to do
        assert "(dropouts: try --buffer 1024)" in win.status_text()
        win.toggle_play()
        assert not win.playing and not audio.active and engine.silent  # faded out before the stream stopped
        win.toggle_play()
        win.load_model(tiny_model)  # a new engine and stream; playing goes on
        assert win.playing and win.audio is not audio and win.audio.active
    finally:
        win.close()
    assert not win.audio.active


def test_a_chord_played_on_the_keys_is_heard_as_a_chord(xvfb, pulse_null_sink, pulse_device, ae, tiny_model, tmp_path):
    """Keys A D G held under Xvfb, played through a real stream into the PulseAudio null sink and
    captured with ``parec``: the capture holds C4, E4 and G4 at their exact pitches, then silence
    once the keys are released."""
    import tkinter as tk

    from manne.gui.window import SynthWindow
    from manne.synth.instrument import Synth
    from manne.synth.stream import AudioOut

    sr = 44100
    engine = Synth(ae, sr=ae.analysis.sr)
    audio = AudioOut(engine, device=pulse_device, buffer=1024)
    root = tk.Tk(className="manne")
    win = SynthWindow(root, ae, tiny_model, engine=engine, audio=audio, device=pulse_device, buffer=1024)
    capture = tmp_path / "capture.f32"
    rec = subprocess.Popen(["parec", "-d", "null.monitor", "--format=float32le", f"--rate={sr}", "--channels=1",
                            "--latency-msec=20", str(capture)], env=pulse_null_sink, stderr=subprocess.PIPE)
    try:
        win.toggle_play()
        focus(win)
        pump(win, 0.5)
        xdotool("keydown", "a", "keydown", "d", "keydown", "g")
        pump(win, 1.5)
        xdotool("keyup", "a", "keyup", "d", "keyup", "g")
        pump(win, 1.0)
    finally:
        rec.terminate()
        rec.communicate(timeout=10)
        win.close()
    y = np.fromfile(capture, dtype=np.float32)
    loud = np.flatnonzero(np.abs(y) > 1e-3)
    assert len(loud), "the capture is silent"
    chord = y[loud[0] + sr // 4 : loud[0] + sr]  # the held chord, past its attack
    spec = np.abs(np.fft.rfft(chord * np.hanning(len(chord))))
    f = np.fft.rfftfreq(len(chord), 1 / sr)
    for hz in (261.63, 329.63, 392.0):
        near = np.abs(f - hz) < 3
        assert spec[near].max() > 0.05 * spec.max(), f"{hz} Hz missing from the chord"
        peak = f[near][np.argmax(spec[near])]
        assert abs(1200 * np.log2(peak / hz)) < 10
    assert np.abs(y[loud[-1] + 1 :]).max(initial=0.0) < 1e-3 and len(y) - loud[-1] > sr // 4  # released: silence
    assert engine.underruns == 0


def test_match_a_recording_sets_the_sliders(window, tmp_path, monkeypatch):
    from tools.soundfont.fluid import render_midi
    from tools.soundfont.notes import single_notes

    from manne.timbre.encoding import read_frames, recording_code

    win = window
    cello = render_midi(single_notes([48, 55], 80, note_s=1.0, gap_s=0.25), tmp_path / "cello.wav", program=42)
    lo, hi = np.asarray(win.ae.latent_range, dtype=float)
    win.session.move_sliders(lo)
    win.show_session()
    asked = []
    monkeypatch.setattr(filedialog, "askopenfilename", lambda **kw: asked.append(kw) or str(cello))
    win.match_recording_dialog()  # the button and File > Match a recording… call this
    assert asked and win.match_button.instate(["disabled"]) and win.message_var.get() == "Matching cello.wav…"
    win.matching.join(timeout=120)
    pump(win, 0.3)
    expected = recording_code(win.ae, read_frames(cello, win.ae.analysis)).z
    assert win.message_var.get().startswith("Sliders set to cello.wav (2 notes, median ")
    assert win.z == pytest.approx(expected, abs=1e-6) and win.session.z == pytest.approx(expected, abs=1e-6)
    assert [s.get() for s in win.sliders] == pytest.approx(list(expected), abs=1e-6)
    held(win.engine)
    assert np.allclose(win.engine.controls.z, expected, atol=1e-6)
    assert win.match_button.instate(["!disabled"])
    shot = tmp_path / "matched.png"
    subprocess.run(["import", "-window", "root", str(shot)], check=True, timeout=30)
    assert shot.stat().st_size > 10_000

    for name, data, message in (("noise.wav", None, "no sustained note found"), ("broken.wav", b"RIFF junk", "cannot decode")):
        path = tmp_path / name
        if data is None:
            sf.write(path, (0.1 * np.random.default_rng(0).standard_normal(44100)).astype(np.float32), 44100)
        else:
            path.write_bytes(data)
        win.match_recording(path).join(timeout=120)
        pump(win, 0.3)
        assert win.message_var.get().startswith(f"Cannot match {name}") and message in win.message_var.get()
        assert win.z == pytest.approx(expected, abs=1e-6)  # the sliders stay where they were
