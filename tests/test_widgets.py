"""The window's instrument widgets on a real (virtual) display: piano keys, XY pad, level meter,
and the output tap that feeds the meter and the live spectrum."""

from __future__ import annotations

import numpy as np
import pytest

from manne.synth.tap import OutputTap


@pytest.fixture
def root(xvfb):
    import tkinter as tk

    r = tk.Tk()
    yield r
    r.destroy()


def click(widget, x, y, *, release=True):
    widget.event_generate("<ButtonPress-1>", x=int(x), y=int(y), warp=False)
    if release:
        widget.event_generate("<ButtonRelease-1>", x=int(x), y=int(y))


def test_piano_keys_press_release_and_glide(root):
    from manne.gui.piano import PianoKeyboard

    events = []
    p = PianoKeyboard(root, on_press=lambda n: events.append(("on", n)), on_release=lambda n: events.append(("off", n)),
                      low=48, octaves=2, width=560, height=110)
    p.canvas.pack()
    root.update()
    assert list(p.notes) == list(range(48, 73))
    # the middle of every key's visible part maps back to that key
    for note in p.notes:
        x0, y0, x1, y1 = p.key_box(note)
        y = (y0 + y1) / 2 if note % 12 in (1, 3, 6, 8, 10) else y1 - 5
        assert p.note_at((x0 + x1) / 2, y) == note, note
    x0, _, x1, y1 = p.key_box(60)
    click(p.canvas, (x0 + x1) / 2, y1 - 5)
    assert events == [("on", 60), ("off", 60)]
    # a drag from C4 to D4 releases C4 and presses D4 (a glissando)
    events.clear()
    p.canvas.event_generate("<ButtonPress-1>", x=int((x0 + x1) / 2), y=int(y1 - 5))
    d0, _, d1, _ = p.key_box(62)
    p.canvas.event_generate("<B1-Motion>", x=int((d0 + d1) / 2), y=int(y1 - 5))
    p.canvas.event_generate("<ButtonRelease-1>", x=int((d0 + d1) / 2), y=int(y1 - 5))
    assert events == [("on", 60), ("off", 60), ("on", 62), ("off", 62)]
    # held notes are lit, and only those
    p.show_held({60, 61})
    assert p.canvas.itemcget("k60", "fill") == p.WHITE_HELD and p.canvas.itemcget("k61", "fill") == p.BLACK_HELD
    assert p.canvas.itemcget("k62", "fill") == p.WHITE
    p.set_low(60)
    assert list(p.notes)[0] == 60 and p.canvas.itemcget("k60", "fill") == p.WHITE_HELD


def test_xy_pad_maps_clicks_to_unit_coordinates_and_draws_its_map(root):
    from manne.gui.xypad import XYPad, ramp_colours

    moves = []
    pad = XYPad(root, on_move=lambda u, v: moves.append((u, v)), size=212)
    pad.canvas.pack()
    root.update()
    x, y = pad.to_canvas(0.25, 0.75)
    click(pad.canvas, x, y)
    assert moves and moves[-1] == pytest.approx((0.25, 0.75), abs=0.01)
    click(pad.canvas, -50, 500)  # outside: clamped to the corner
    assert moves[-1] == (0.0, 0.0)
    pad.set_background(np.arange(12.0).reshape(3, 4), "centroid")
    assert len(pad.canvas.find_withtag("bg")) == 12 + 1
    pad.set_landmarks([("flute", 0.2, 0.3), ("outside", 1.5, 0.5)])
    c = pad.canvas
    texts = [c.itemcget(i, "text") for i in c.find_withtag("landmark") if c.type(i) == "text"]
    assert "flute" in texts and "outside" not in texts
    c = ramp_colours(np.array([[0.0, 1.0], [np.nan, 0.5]]))
    assert c[0, 0] == "#440154" and c[0, 1] == "#fde725" and c.shape == (2, 2)


def test_meter_holds_its_peak(root):
    from manne.gui.meter import LevelMeter

    m = LevelMeter(root, hold_s=10.0)
    m.canvas.pack()
    m.update(-6.0, -18.0)
    m.update(-30.0, -40.0)
    assert m.held_db == -6.0 and m.text == "-6 dB"
    m.update(-120.0, -120.0)
    assert m.held_db == -6.0
    m.hold_s = 0.0
    m.update(-120.0, -120.0)
    assert m.text == "-inf"


def test_output_tap_keeps_the_last_samples_in_order():
    tap = OutputTap(size=1000)
    y = np.arange(2500, dtype=np.float32)
    for i in range(0, 2500, 128):
        tap.add(y[i : i + 128])
    assert np.array_equal(tap.recent(1000), y[-1000:])
    assert np.array_equal(tap.recent(10), y[-10:])
    tap.add(np.arange(5000, dtype=np.float32))  # longer than the ring
    assert np.array_equal(tap.recent(1000), np.arange(4000, 5000, dtype=np.float32))
    peak, rms = OutputTap(size=64).levels(64)
    assert peak == rms == pytest.approx(-120.0)
    t = OutputTap(size=4410)
    t.add(0.5 * np.sin(2 * np.pi * 441 * np.arange(4410) / 44100).astype(np.float32))
    peak, rms = t.levels(4410)
    assert peak == pytest.approx(20 * np.log10(0.5), abs=0.01) and rms == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.01)


def test_the_callback_feeds_the_tap(default_ae):
    from manne.synth.instrument import Synth

    s = Synth(default_ae)
    s.note_on(60, 100)
    out = np.concatenate([np.frombuffer(s.callback(None, 256, None, 0)[0], dtype=np.float32) for _ in range(8)])
    assert np.array_equal(s.tap.recent(2048), out)
    assert s.tap.levels()[0] > -40


def test_the_output_folder_is_remembered_and_never_the_working_folder(tmp_path, monkeypatch):
    from manne.io import settings

    monkeypatch.setenv("MANNE_CONFIG", str(tmp_path / "cfg" / "settings.json"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "Music").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert settings.output_folder() == tmp_path / "home" / "Music" / "manne"
    settings.remember_output_folder(tmp_path / "takes" / "a.wav")
    assert settings.output_folder() == (tmp_path / "takes").resolve()
    (tmp_path / "cfg" / "settings.json").write_bytes(b"\\xff not json")  # damaged: the defaults apply
    assert settings.output_folder() == tmp_path / "home" / "Music" / "manne"
