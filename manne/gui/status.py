"""The window's status line and its polling of the engine.

Every ``POLL_MS`` the window reads the engine (its output tap, held notes, ``cpu_load``,
``underruns``, ``recorded_seconds``, ``last_error``) from Tk's main thread with ``after``: it
redraws the spectrum of what was played and the level meter, lights the held keys, redraws the XY
pad's map if the note changed, picks up a finished offline render, and every ``STATUS_EVERY``
polls rewrites the status line.
Nothing here waits on the audio thread, and nothing in the audio thread calls Tk.
"""

from __future__ import annotations

from tkinter import messagebox

import numpy as np

from manne.synth.limits import BUFFER_MAX

__all__ = ["POLL_MS", "STATUS_EVERY", "UNDERRUN_HINT", "StatusLine", "short_reason"]

POLL_MS = 50
STATUS_EVERY = 5  # polls between status line refreshes (250 ms)
UNDERRUN_HINT = 2  # dropouts before the status line suggests a larger buffer (one may be a passing hiccup)


def short_reason(message: str | None) -> str:
    """The first sentence of an audio error, without its "no audio output:" prefix, for the status line."""
    text = (message or "no output device").strip()
    if text.lower().startswith("no audio output:"):
        text = text[len("no audio output:"):].strip()
    first = text.split(". ")[0].split("; ")[0].rstrip(".")
    return first or "no output device"


class StatusLine:
    """Mixin of :class:`manne.gui.window.SynthWindow`: the live spectrum, the status line and error messages.

    Uses the window's ``root``, ``engine``, ``ae``, ``z``, ``note_var``, ``audio``, ``audio_error``,
    ``device``, ``buffer``, ``playing``, ``recording``, ``spectrum``, ``status_var``,
    ``message_var``, ``ignored`` and ``closed``; ``_poll`` also finishes renders (:meth:`Rendering._render_done`).
    """

    def spectrum_now(self) -> np.ndarray | None:
        """The spectrum to draw: of the last ``n_fft`` samples played while the stream plays (a
        full-scale sine peaks at 0 dB), else the decoder's spectrum for the sliders and note.

        Returns
        -------
        S : np.ndarray, shape (n_bins,), or None when there is nothing to draw
        """
        if self.playing:
            n_fft = self.ae.analysis.n_fft
            if self._window is None or len(self._window) != n_fft:
                self._window = np.hanning(n_fft).astype(np.float32)
            y = self.engine.tap.recent(n_fft)
            return np.abs(np.fft.rfft(y * self._window)) / (self._window.sum() / 2)
        key = (tuple(np.round(self.z, 6)), int(self.note_var.get()))
        if key != self._preview_key:
            self._preview_key = key
            self._preview = self.ae.decode(self.z[None, :].astype(np.float32), int(self.note_var.get()))[0]
        return self._preview

    def status_text(self) -> str:
        """The status line: playing or paused, CPU load, underruns, model (and its files left out), device,
        recording, audio errors."""
        parts = []
        if self.audio is None:
            parts.append(f"No audio output: {self.audio_error}. Rendering still works.")
        else:
            state = "playing" if self.playing else "paused"
            n = self.engine.underruns
            hint = f" (dropouts: try --buffer {2 * self.buffer})" if n >= UNDERRUN_HINT and 2 * self.buffer <= BUFFER_MAX else ""
            parts.append(f"{state} · CPU {self.engine.cpu_load:.0%} · underruns {n}{hint}")
        parts.append(f"model {self.model_name}")
        parts.extend(self.ignored)  # the model's files that could not be read (set with its widgets)
        if self.audio is not None:
            dev = getattr(self.audio, "device", None)
            name = dev.get("name") if isinstance(dev, dict) else (self.device if self.device is not None else "default")
            parts.append(f"device {name} · buffer {self.buffer}")
        if self.recording is not None:
            parts.append(f"● recording {self.recording.name} {self.engine.recorded_seconds:.1f} s")
        if self.audio is not None and self.engine.last_error:
            parts.append(f"audio error: {self.engine.last_error}")
        inputs = self.session.counts.text()  # MIDI and OSC messages played (and refused)
        if inputs:
            parts.append(inputs)
        return "   ·   ".join(parts)

    def _refresh_status(self) -> None:
        text = self.status_text()
        if self.status_var.get() != text:
            self.status_var.set(text)

    def _poll(self) -> None:
        self._after = None
        if self.closed:
            return
        self.spectrum.update(self.spectrum_now())
        self.meter.update(*(self.engine.tap.levels() if self.playing else (-120.0, -120.0)))
        self.piano.show_held(v.note for v in self.engine.bank.held())
        if self.session.revision != self._session_seen:  # MIDI or OSC moved something
            self.show_session()
        self._update_pad_map()
        if self._render_result is not None:
            self._render_done()
        self._polls += 1
        if self._polls % STATUS_EVERY == 0:
            self._refresh_status()
        self._after = self.root.after(POLL_MS, self._poll)

    def _error(self, title: str, message: str) -> None:
        """Show ``message`` (cut to one line) beside the controls and in an error box."""
        self.message_var.set(message if len(message) < 80 else message[:77] + "…")
        messagebox.showerror(title, message, parent=self.root)
