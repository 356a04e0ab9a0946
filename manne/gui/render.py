"""Offline rendering from the window: "Render N s…" writes the current sound to a WAV file.

The render runs in a worker thread on an engine of its own (same model, hop, phase, volume, seed,
latent position and note), so it neither freezes the window nor disturbs the live stream. The
worker only stores its outcome; the window's poll (:mod:`manne.gui.status`) picks it up in Tk's
thread and reports it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from tkinter import filedialog

from manne.dsp import NOTE_NAMES
from manne.errors import ManneError, ParameterError
from manne.io.settings import output_folder, remember_output_folder

__all__ = ["RENDER_MAX_S", "Rendering"]

RENDER_MAX_S = 600


class Rendering:
    """Mixin of :class:`manne.gui.window.SynthWindow`: render the current sound to WAV in the background.

    Uses the window's ``root``, ``ae``, ``seconds_var``, ``note_var``, ``render_button``,
    ``message_var``, ``rendering``, ``_render_result`` and ``model_name``, and
    :meth:`ModelsAndPresets._new_engine` for the worker's engine.
    """

    def render_seconds(self) -> float:
        """The length typed in the seconds box.

        Raises
        ------
        ParameterError
            If it is not a number from 1 to ``RENDER_MAX_S``.
        """
        try:
            seconds = float(self.seconds_var.get())
        except ValueError:
            seconds = -1
        if not 0 < seconds <= RENDER_MAX_S:
            raise ParameterError(f"render length {self.seconds_var.get()!r} must be between 1 and {RENDER_MAX_S} seconds")
        return seconds

    def render_dialog(self) -> None:
        """Ask for a WAV file name, then :meth:`render_to` it (the Render button)."""
        try:
            seconds = self.render_seconds()
        except ManneError as exc:
            self._error("Cannot render", str(exc))
            return
        path = filedialog.asksaveasfilename(parent=self.root, title=f"Render {seconds:g} s to WAV",
                                            defaultextension=".wav", filetypes=[("WAV audio", "*.wav")],
                                            initialfile=f"{self.model_name}-{NOTE_NAMES[self.note_var.get()]}.wav",
                                            initialdir=str(output_folder()))
        self.root.focus_force()  # the keys play again at once after the dialog
        if path:
            remember_output_folder(path)
            self.render_to(path, seconds)

    def render_to(self, path: str | os.PathLike, seconds: float) -> threading.Thread | None:
        """Render the current sound for ``seconds`` to a WAV file in a worker thread.

        The worker plays a fresh engine with the current settings, so the live stream keeps its
        own state. Returns the thread (None if a render is already running).
        """
        if self.rendering is not None and self.rendering.is_alive():
            self.message_var.set("A render is already running")
            return None
        from manne.io.audio import write_wav

        engine = self._new_engine(self.ae)
        engine.set_hold(True)  # the selected note, held for the whole render
        engine.note_on(self.session.midi_note(int(self.note_var.get())), 100)
        sr = self.ae.analysis.sr
        path = Path(path)

        def work() -> None:
            try:
                write_wav(path, engine.render(seconds), sr=sr, force=True)  # the save dialog asked
                self._render_result = (path, None)
            except BaseException as exc:  # reported in the GUI thread by _poll
                self._render_result = (path, exc)

        self._render_result = None
        self.render_button.state(["disabled"])
        self.message_var.set(f"Rendering {seconds:g} s…")
        self.rendering = threading.Thread(target=work, name="manne-render", daemon=True)
        self.rendering.start()
        return self.rendering

    def _render_done(self) -> None:
        path, exc = self._render_result
        self._render_result = None
        self.rendering = None
        self.render_button.state(["!disabled"])
        if exc is None:
            self.message_var.set(f"Rendered {path.name}")
        else:
            self.message_var.set("")
            self._error("Render failed", str(exc))
