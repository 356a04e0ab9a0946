"""What the window's controls do to the sound: latent sliders, keys and note buttons, volume, method.

Each control calls a synth method (``note_on``, ``note_off``, ``set_z``, ``set_volume``,
``set_method``, ``set_hold``) from its own Tk callback, at once; the synth queues the event or swaps
in a new snapshot for the audio thread's next block and never waits for it.

Keyboard: the computer keys ``A W S E D F T G Y H U J`` play C C# D D# E F F# G G# A A# B of the
current octave while held (``Z``/``X``: octave down/up), and the space bar plays or pauses, except
while a text field (or, for space, a button) has the focus. X11 repeats a held key as release+press
pairs; a release is acted on only if no press of the same key follows within ``REPEAT_MS``. In hold
mode a key or note button starts a drone that lasts until the next one.
"""

from __future__ import annotations

import tkinter as tk

import numpy as np

__all__ = ["KEYBOARD", "NOTE_OF_KEY", "SoundControls"]

REPEAT_MS = 30  # a key release followed by a press within this is the keyboard's auto-repeat
OCTAVE_MIN, OCTAVE_MAX = 1, 7
KEYBOARD = "awsedftgyhuj"
"""Computer keys that play C, C#, D, D#, E, F, F#, G, G#, A, A#, B."""
NOTE_OF_KEY = {key: i for i, key in enumerate(KEYBOARD)}
_TEXT_CLASSES = {"Entry", "TEntry", "Spinbox", "TSpinbox", "Text", "TCombobox"}
_BUTTON_CLASSES = {"TButton", "TRadiobutton", "TCheckbutton", "Button", "Radiobutton", "Checkbutton"}


class SoundControls:
    """Mixin of :class:`manne.gui.window.SynthWindow`: the sound's controls and the computer keyboard.

    Uses the window's ``engine``, ``ae``, ``z``, ``sliders``, ``value_labels``, ``note_var``,
    ``volume_var``, ``volume_label`` and ``phase_var``; the space bar calls :meth:`Transport.toggle_play`.
    """

    def _show_values(self) -> None:
        for label, v in zip(self.value_labels, self.z):
            label.configure(text=f"{v:.3f}")

    def _slider_moved(self, i: int, value: str) -> None:
        self.z[i] = float(value)
        self.engine.set_z(self.z.copy())
        self.value_labels[i].configure(text=f"{self.z[i]:.3f}")

    def set_z(self, z) -> None:
        """Move the sliders (and so the engine) to latent position ``z``, shape (latent,), clipped to the range."""
        z = np.asarray(z, dtype=np.float64)
        lo, hi = np.asarray(self.ae.latent_range, dtype=np.float64)
        self.z = np.clip(z, lo, hi)
        for scale, v in zip(self.sliders, self.z):
            scale.set(v)
        self.engine.set_z(self.z.copy())
        self._show_values()

    def midi_note(self, note: int) -> int:
        """MIDI number of pitch class ``note`` in the current octave (C4 = 60)."""
        return 12 * (self.octave + 1) + int(note)

    def set_note(self, note: int) -> None:
        """Select pitch class ``note`` (0-11) and highlight its button; in hold mode it drones."""
        self.note_var.set(int(note))
        if self.hold_var.get():
            self.engine.note_on(self.midi_note(note), 100)

    def note_down(self, note: int, *, velocity: int = 100) -> int:
        """A key or note button pressed: start pitch class ``note`` in the current octave; returns the MIDI note."""
        self.note_var.set(int(note))
        midi = self.midi_note(note)
        self.engine.note_on(midi, velocity)
        return midi

    def note_up(self, midi: int) -> None:
        """The key or button of MIDI note ``midi`` released (ignored by the synth in hold mode)."""
        self.engine.note_off(midi)

    def set_hold(self, on: bool) -> None:
        """Hold (drone) mode on or off; turning it on drones the selected note."""
        self.hold_var.set(bool(on))
        self._hold_changed()

    def _hold_changed(self) -> None:
        on = bool(self.hold_var.get())
        self.engine.set_hold(on)
        if on:
            self.engine.note_on(self.midi_note(self.note_var.get()), 100)

    def set_octave(self, octave: int) -> None:
        """The octave the keys and note buttons play in (C4 = middle C)."""
        self.octave = max(OCTAVE_MIN, min(OCTAVE_MAX, int(octave)))
        self.octave_label.configure(text=f"octave {self.octave}")

    def _volume_changed(self, value: str) -> None:
        v = float(value)
        self.engine.set_volume(v)
        self.volume_label.configure(text=f"{v:.0%}")

    def set_volume(self, volume: float) -> None:
        """Set the volume slider and the engine's volume (0-1)."""
        self.volume_var.set(float(volume))
        self._volume_changed(str(volume))

    def _phase_changed(self) -> None:
        self.engine.set_method(self.phase_var.get())

    def set_phase(self, mode: str) -> None:
        """Select the synthesis method ``mode`` (one of ``manne.synth.instrument.METHODS``)."""
        self.phase_var.set(mode)
        self._phase_changed()

    def _on_key(self, event) -> str | None:
        cls = event.widget.winfo_class() if isinstance(event.widget, tk.Misc) else ""
        if cls in _TEXT_CLASSES:
            return None
        key = (event.keysym or "").lower()
        if key == "space":
            if cls in _BUTTON_CLASSES:
                return None  # a focused button handles its own space bar
            self.toggle_play()
            return "break"
        if event.state & 0x4:  # Control: menu accelerators
            return None
        if key in NOTE_OF_KEY:
            pending = self._pending_release.pop(key, None)
            if pending is not None:  # auto-repeat: the key never went up
                self.root.after_cancel(pending)
            elif key not in self._keys_down:
                self._keys_down[key] = self.note_down(NOTE_OF_KEY[key])
            return "break"
        if key in ("z", "x"):
            self.set_octave(self.octave + (1 if key == "x" else -1))
            return "break"
        return None

    def _on_key_release(self, event) -> str | None:
        key = (event.keysym or "").lower()
        if key not in self._keys_down or key in self._pending_release:
            return None
        self._pending_release[key] = self.root.after(REPEAT_MS, lambda: self._release_key(key))
        return "break"

    def _release_key(self, key: str) -> None:
        self._pending_release.pop(key, None)
        midi = self._keys_down.pop(key, None)
        if midi is not None:
            self.note_up(midi)

    def _button_down(self, note: int) -> None:
        if self.hold_var.get():
            self.set_note(note)
        else:
            self._button_note = self.note_down(note)

    def _button_up(self) -> None:
        midi, self._button_note = getattr(self, "_button_note", None), None
        if midi is not None:
            self.note_up(midi)
