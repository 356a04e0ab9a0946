"""What the window's controls do to the sound: latent sliders, XY pad, piano and computer keys, volume, method.

Each control calls a method of the window's :class:`~manne.control.session.Session` (``press``,
``note_on``, ``note_off``, ``move_slider``, ``move_sliders``, ``set_octave``, ``set_volume``,
``set_method``, ``set_hold``) from its own Tk callback, at once; the session passes it to the synth,
which queues the event or swaps in a new snapshot for the audio thread's next block and never waits
for it. A slider move is window -> ``Session.move_slider`` -> ``Synth.set_z``. MIDI and OSC change the
same session from their threads; :meth:`SoundControls.show_session` (from the window's poll) shows
their changes. The window keeps no state of its own beside the session's: the sliders' ``z`` it
shows, and the widgets.
Right-click a slider or the volume to MIDI-learn it: the next control change moved is bound to it.

Keyboard: the computer keys ``A W S E D F T G Y H U J K`` play C C# D D# E F F# G G# A A# B C of the
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
KEYBOARD = "awsedftgyhujk"
"""Computer keys that play C, C#, D, D#, E, F, F#, G, G#, A, A#, B and the next C."""
NOTE_OF_KEY = {key: i for i, key in enumerate(KEYBOARD)}
_TEXT_CLASSES = {"Entry", "TEntry", "Spinbox", "TSpinbox", "Text", "TCombobox"}
_BUTTON_CLASSES = {"TButton", "TRadiobutton", "TCheckbutton", "Button", "Radiobutton", "Checkbutton"}


class SoundControls:
    """Mixin of :class:`manne.gui.window.SynthWindow`: the sound's controls and the computer keyboard.

    Uses the window's ``engine``, ``ae``, ``model_dir``, ``z``, ``sliders``, ``value_labels``,
    ``note_var``, ``volume_var``, ``volume_label``, ``phase_var``, ``pad``, ``piano`` and the pad's
    variables; the space bar calls :meth:`Transport.toggle_play`.
    """

    def _show_values(self) -> None:
        for label, text in zip(self.value_labels, self.value_texts()):
            label.configure(text=text)
        self._show_pad_position()

    def value_texts(self) -> list[str]:
        """Each slider's position as a percentage of its travel (``"62"``): no false precision."""
        lo, hi = np.asarray(self.ae.latent_range, dtype=np.float64)
        span = np.where(hi > lo, hi - lo, 1.0)
        return [f"{100 * (v - a) / s:.0f}" for v, a, s in zip(self.z, lo, span)]

    def _slider_moved(self, i: int, value: str) -> None:
        self.z[i] = self.session.move_slider(i, float(value))  # this slider only: MIDI may move another one now
        self.value_labels[i].configure(text=self.value_texts()[i])
        self._show_pad_position()

    def set_note(self, note: int) -> None:
        """Select pitch class ``note`` (0-11) and highlight its button; in hold mode it drones."""
        self.note_var.set(int(note))
        self.session.select_note(int(note))  # in hold mode: a drone

    def note_down(self, note: int, *, velocity: int = 100) -> int:
        """A key or note button pressed: start pitch class ``note`` in the current octave; returns the MIDI note."""
        self.note_var.set(int(note))
        return self.session.press(int(note), velocity)

    def note_up(self, midi: int) -> None:
        """The key or button of MIDI note ``midi`` released (ignored by the synth in hold mode)."""
        self.session.note_off(midi)

    def set_hold(self, on: bool) -> None:
        """Hold (drone) mode on or off; turning it on drones the selected note."""
        self.hold_var.set(bool(on))
        self._hold_changed()

    def _hold_changed(self) -> None:
        self.session.set_hold(bool(self.hold_var.get()))  # on: drones the selected note

    def set_octave(self, octave: int) -> None:
        """The octave the computer keys play in (C4 = middle C), kept by the session (clamped to 1..7)."""
        self.session.set_octave(int(octave))
        self._show_octave(self.session.octave)

    def _show_octave(self, octave: int) -> None:
        """The octave's label, and the piano from that octave's C at its left."""
        self.octave_label.configure(text=f"octave {octave}")
        self.piano.set_low(12 * octave)

    def _piano_down(self, midi: int) -> None:
        self.note_var.set(int(midi) % 12)
        self.session.note_on(int(midi), 100)  # in hold mode: a drone until the next note
        self.piano.show_held(self.piano.held | {int(midi)})

    def _piano_up(self, midi: int) -> None:
        self.session.note_off(int(midi))

    def _volume_changed(self, value: str) -> None:
        v = float(value)
        self.session.set_volume(v)
        self.volume_label.configure(text=f"{v:.0%}")

    def set_volume(self, volume: float) -> None:
        """Set the volume slider and the engine's volume (0-1)."""
        self.volume_var.set(float(volume))
        self._volume_changed(str(volume))

    def _phase_changed(self) -> None:
        self.session.set_method(self.phase_var.get())

    def show_session(self) -> None:
        """Show what changed in the session since the last look (the window's own pad and presets, MIDI, OSC):
        sliders, volume, method, hold, note, octave."""
        st = self.session.state()
        self._session_seen = st.revision
        z = np.asarray(st.z, dtype=np.float64)
        if not np.array_equal(z, self.z):
            self.z = z
            for scale, v in zip(self.sliders, z):
                if float(scale.get()) != v:
                    scale.set(v)
            self._show_values()
        if abs(float(self.volume_var.get()) - st.volume) > 1e-9:
            self.volume_var.set(st.volume)
            self.volume_label.configure(text=f"{st.volume:.0%}")
        for var, value in ((self.phase_var, st.method), (self.hold_var, st.hold), (self.note_var, st.note)):
            if var.get() != value:
                var.set(value)
        if self.octave_label.cget("text") != f"octave {st.octave}":
            self._show_octave(st.octave)

    def _learn_clicked(self, event) -> str | None:
        """Right-click on a slider or the volume: arm MIDI learn for it (again: cancel)."""
        widgets = [*self.sliders, self.volume_scale]
        if event.widget not in widgets:
            return None
        i = widgets.index(event.widget)
        target = "volume" if i == len(self.sliders) else f"z{i + 1}"
        if self.session.state().learning == target:
            self.session.cancel_learn()
            self.message_var.set("MIDI learn cancelled")
        else:
            self.session.learn(target)
            self.message_var.set(f"MIDI learn: move a knob or fader for {target} (right-click again to cancel)")
        return "break"

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
            self.set_octave(self.session.octave + (1 if key == "x" else -1))
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

