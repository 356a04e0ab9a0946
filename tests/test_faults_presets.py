"""Faults of presets: whatever a preset file holds, loading it raises a ParameterError naming the file
(the window shows ManneError and OSError in a dialog; anything else was an unhandled exception), and
saving onto a full disk is an OSError naming the preset, with nothing left behind.
"""

from __future__ import annotations

import errno
import json
import os
import re
import threading

import pytest

from manne.errors import ParameterError
from manne.synth.presets import PRESET_MAX_BYTES, load_preset, save_preset

from faults import file_size_limited, temporaries


@pytest.fixture
def good(tiny_model):
    return {"version": 1, "model": str(tiny_model), "z": [0.5, 0.5], "note": "E", "volume": 0.8, "phase": "harmonic"}


def preset_file(tmp_path, content) -> str:
    p = tmp_path / "p.json"
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return p


BAD = {
    "5000-digit-number": ('{"version": 1, "model": "m", "z": [' + "9" * 5000 + "]}", "not a valid JSON preset (Exceeds the limit"),
    "deep-nesting": ("[" * 100_000 + "]" * 100_000, "not a valid JSON preset (maximum recursion depth"),
    "100k-character-path": (None, "model is a path of 100000 characters; a path has at most 4096"),
    "long-folder-name": (None, "model has a folder name of 1000 characters; a name has at most 255"),
    "nul-in-path": (None, "holds a NUL character; it is not a path"),
    "not-utf8": (b"\xff\xfe{}", "not a valid JSON preset ('utf-8' codec"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00", "not a valid JSON preset"),
    "a-list": ("[1, 2]", "a preset is a JSON object, not list"),
    "nan-slider": ('{"version": 1, "model": "m", "z": [NaN, 0.5], "note": "C", "volume": 0.8, "phase": "harmonic"}',
                   "z[0]=nan must be a finite number"),
    "huge-note": (None, "note=1000000000000000000000000000000 is not a note name"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_preset_content_is_a_parameter_error(case, good, tmp_path):
    content, words = BAD[case]
    if content is None:
        change = {"100k-character-path": {"model": "x" * 100_000}, "long-folder-name": {"model": "/tmp/" + "x" * 1000},
                  "nul-in-path": {"model": "m\0x"}, "huge-note": {"note": 10**30}}[case]
        content = json.dumps({**good, **change})
    with pytest.raises(ParameterError, match=re.escape(words)):
        load_preset(preset_file(tmp_path, content))


def test_any_damage_to_a_preset_is_a_parameter_error_or_a_preset(good, tmp_path):
    """Every truncation and every single-byte change of a real preset file."""
    text = json.dumps(good).encode()
    variants = [text[:n] for n in range(len(text))]
    variants += [text[:i] + bytes([b]) + text[i + 1:] for i in range(len(text)) for b in (0x00, 0x22, 0x7B, 0xFF)]
    loaded = 0
    for v in variants:
        try:
            load_preset(preset_file(tmp_path, v))
            loaded += 1
        except ParameterError:
            pass
    assert 0 < loaded < len(variants)


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    p = tmp_path / "huge.json"
    with open(p, "wb") as fh:
        fh.truncate(PRESET_MAX_BYTES + 1)
    with pytest.raises(ParameterError, match=f"a preset is at most {PRESET_MAX_BYTES}"):
        load_preset(p)


def test_a_named_pipe_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "p.json"
    os.mkfifo(fifo)
    result = {}

    def load():
        try:
            load_preset(fifo)
        except ParameterError as exc:
            result["error"] = str(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():
        with open(fifo, "w"):
            pass
        pytest.fail("load_preset waited on a named pipe")
    assert "not a regular file" in result["error"]


def test_saving_onto_a_full_disk_names_the_preset_and_leaves_nothing(good, tmp_path):
    path = tmp_path / "mine.json"
    path.write_text("the preset I keep")
    with file_size_limited(10):
        with pytest.raises(OSError) as info:
            save_preset(path, good)
    assert info.value.errno == errno.EFBIG and info.value.filename == str(path)
    assert path.read_text() == "the preset I keep" and temporaries(tmp_path) == []


def test_the_window_shows_a_bad_preset_in_one_dialog(xvfb, tiny_model, good, tmp_path, monkeypatch):
    """The window's Load preset… catches ManneError and OSError: every bad file above ends there."""
    import tkinter as tk
    from tkinter import filedialog, messagebox

    from manne.gui.window import SynthWindow
    from manne.model.forward import Autoencoder
    from manne.synth.instrument import Synth

    shown = []
    monkeypatch.setattr(messagebox, "showerror", lambda title, message, **kw: shown.append((title, message)))
    ae = Autoencoder.load(tiny_model)
    root = tk.Tk(className="manne")
    win = SynthWindow(root, ae, tiny_model, engine=Synth(ae, sr=ae.analysis.sr), audio=None, audio_error="no sound card")
    try:
        before = win.current_preset()
        for content in (BAD["5000-digit-number"][0], BAD["deep-nesting"][0], json.dumps({**good, "model": "x" * 100_000})):
            path = preset_file(tmp_path, content)
            monkeypatch.setattr(filedialog, "askopenfilename", lambda **kw: str(path))
            win.load_preset_dialog()
        assert [t for t, _ in shown] == ["Cannot load preset"] * 3
        assert all(m.startswith(f"{tmp_path / 'p.json'}: ") for _, m in shown)
        assert win.current_preset() == before  # the sound did not change
    finally:
        win.close()
