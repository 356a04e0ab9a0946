"""What the window's controls do to the sound: latent sliders, note buttons and keys, volume, phase.

Each control calls an engine setter (``set_z``, ``set_note``, ``set_volume``, ``set_phase``) from
its own Tk callback, at once; the setter swaps in a new parameter snapshot for the audio thread's
next hop and never waits for it.

Keyboard: the computer keys ``A W S E D F T G Y H U J`` play C C# D D# E F F# G G# A A# B, and
the space bar plays or pauses, except while a text field (or, for space, a button) has the focus.
"""

from __future__ import annotations

import tkinter as tk

import numpy as np

__all__ = ["KEYBOARD", "NOTE_OF_KEY", "SoundControls"]

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

    def set_note(self, note: int) -> None:
        """Play pitch class ``note`` (0-11) and highlight its button."""
        self.note_var.set(int(note))
        self.engine.set_note(int(note))

    def _volume_changed(self, value: str) -> None:
        v = float(value)
        self.engine.set_volume(v)
        self.volume_label.configure(text=f"{v:.0%}")

    def set_volume(self, volume: float) -> None:
        """Set the volume slider and the engine's volume (0-1)."""
        self.volume_var.set(float(volume))
        self._volume_changed(str(volume))

    def _phase_changed(self) -> None:
        self.engine.set_phase(self.phase_var.get())

    def set_phase(self, mode: str) -> None:
        """Select phase mode ``mode`` (one of ``manne.synth.presets.PHASE_MODES``) for the engine."""
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
        if key in NOTE_OF_KEY and not event.state & 0x4:  # no Control
            self.set_note(NOTE_OF_KEY[key])
            return "break"
        return None
