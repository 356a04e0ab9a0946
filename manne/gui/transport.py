"""Play, pause and record: the window's transport over the live output stream.

Starting and stopping the stream (``AudioOut.start``/``stop``) and the engine's recording calls
return at once; the recording's WAV file is finished when it stops, or when the window closes.
Without an audio output both buttons are disabled and these actions only say so.
"""

from __future__ import annotations

import os
from pathlib import Path
from tkinter import filedialog

from manne.errors import ManneError
from manne.io.settings import output_folder, remember_output_folder

__all__ = ["Transport"]


class Transport:
    """Mixin of :class:`manne.gui.window.SynthWindow`: play/pause and recording to WAV.

    Uses the window's ``root``, ``engine``, ``audio``, ``playing``, ``recording``, ``play_button``,
    ``record_button``, ``message_var`` and ``model_name``, and reports through :class:`StatusLine`.
    """

    def toggle_play(self) -> None:
        """Pause when playing, else play (the space bar and the Play button)."""
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        """Start the output stream (nothing happens without an audio device)."""
        if self.audio is None:
            self.message_var.set("No audio output; Render still works")
            return
        if self.playing:
            return
        try:
            self.engine.fade_in()
            self.audio.start()
        except ManneError as exc:
            self._error("Cannot play", str(exc))
            return
        self.playing = True
        self.play_button.configure(text="❚❚ Pause")
        self._refresh_status()

    def pause(self) -> None:
        """Stop the output stream; the engine keeps its state."""
        if self.audio is None or not self.playing:
            return
        self.fade_out()
        self.audio.stop()
        self.playing = False
        self.play_button.configure(text="▶ Play")
        self._refresh_status()

    def fade_out(self, timeout_s: float = 0.05) -> None:
        """Fade the sound out in a few milliseconds and wait (at most ``timeout_s``) until it is silent,
        so stopping the stream does not cut a waveform (a click)."""
        import time

        self.engine.fade_out()
        deadline = time.monotonic() + timeout_s
        while self.playing and not self.engine.silent and time.monotonic() < deadline:
            time.sleep(0.002)

    def toggle_record(self) -> None:
        """Stop the recording, or ask for a WAV file name and start one."""
        if self.recording is not None:
            self.stop_recording()
            return
        if self.audio is None:
            self.message_var.set("Recording needs audio output; Render still works")
            return
        path = filedialog.asksaveasfilename(parent=self.root, title="Record to WAV", defaultextension=".wav",
                                            filetypes=[("WAV audio", "*.wav")],
                                            initialfile=f"{self.model_name}-recording.wav",
                                            initialdir=str(output_folder()))
        self.root.focus_force()  # the keys play again at once after the dialog
        if path:
            remember_output_folder(path)
            self.start_recording(path)

    def start_recording(self, path: str | os.PathLike) -> None:
        """Record what the stream plays to ``path`` until :meth:`stop_recording` (or close)."""
        try:
            self.engine.start_recording(path, force=True)  # the save dialog asked about overwriting
        except (ManneError, OSError) as exc:
            self._error("Cannot record", str(exc))
            return
        self.recording = Path(path)
        self.record_button.configure(text="■ Stop rec")
        self._refresh_status()

    def stop_recording(self) -> Path | None:
        """Finish the recording's WAV file; return its path (None when nothing was recording)."""
        if self.recording is None:
            return None
        path, self.recording = self.recording, None
        try:
            self.engine.stop_recording()
        except (ManneError, OSError) as exc:
            self._error("Recording failed", str(exc))
        self.record_button.configure(text="● Record…")
        self.message_var.set(f"Recorded {path.name}")
        self._refresh_status()
        return path
