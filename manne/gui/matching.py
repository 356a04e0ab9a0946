""""Match a recording…": set the sliders to the timbre of an audio file.

The recording is read, analysed (the pitch tracker takes seconds) and encoded in a worker thread
(:func:`manne.timbre.encoding.recording_code`, as ``manne encode`` does), so the window keeps
playing; the worker only stores its outcome, and an ``after`` poll in Tk's thread moves the
sliders through the session and reports in the message line.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from tkinter import filedialog

from manne.io.audio import AUDIO_EXTENSIONS
from manne.io.settings import output_folder

__all__ = ["RecordingMatch", "MATCH_POLL_MS"]

MATCH_POLL_MS = 50


class RecordingMatch:
    """Mixin of :class:`manne.gui.window.SynthWindow`: match the sliders to a recording.

    Uses the window's ``root``, ``ae``, ``message_var``, ``match_button``, ``closed`` and
    the session and :meth:`SoundControls.show_session`; sets ``matching`` (the worker thread, or None).
    """

    matching: threading.Thread | None = None

    def match_recording_dialog(self) -> None:
        """Ask for an audio file and :meth:`match_recording` it (the "Match a recording…" button)."""
        kinds = " ".join(f"*{e}" for e in AUDIO_EXTENSIONS)
        path = filedialog.askopenfilename(parent=self.root, title="Match a recording",
                                          filetypes=[("audio", kinds), ("all files", "*")], initialdir=str(output_folder()))
        self.root.focus_force()
        if path:
            self.match_recording(path)

    def match_recording(self, path: str | os.PathLike) -> threading.Thread | None:
        """Encode the recording at ``path`` in a worker thread; its code moves the sliders when it is done.

        Returns the thread (None if a match is already running). Errors (a missing or unreadable
        file, no sustained note) go to the message line.
        """
        if self.matching is not None and self.matching.is_alive():
            self.message_var.set("A recording is already being matched")
            return None
        from manne.timbre.encoding import read_frames, recording_code

        path, ae = Path(path), self.ae
        outcome: list = []

        def work() -> None:
            try:
                outcome.append(recording_code(ae, read_frames(path, ae.analysis), where=path.name))
            except Exception as exc:  # noqa: BLE001 - reported in Tk's thread, in one line
                outcome.append(exc)

        self.message_var.set(f"Matching {path.name}…")
        self.match_button.state(["disabled"])
        self.matching = threading.Thread(target=work, name="manne-match", daemon=True)
        self.matching.start()
        self.root.after(MATCH_POLL_MS, self._match_poll, path, ae, outcome)
        return self.matching

    def _match_poll(self, path: Path, ae, outcome: list) -> None:
        if self.closed:
            return
        if self.matching is not None and self.matching.is_alive():
            self.root.after(MATCH_POLL_MS, self._match_poll, path, ae, outcome)
            return
        self.matching = None
        self.match_button.state(["!disabled"])
        result = outcome[0] if outcome else RuntimeError("the worker stopped without a result")
        if isinstance(result, BaseException):
            text = (str(result) or type(result).__name__).replace(str(path), path.name)  # the folder is known
            if path.name not in text:
                text = f"{path.name}: {text}"
            self.message_var.set("Cannot match " + (text if len(text) < 100 else text[:97] + "…"))
        elif ae is not self.ae:
            self.message_var.set(f"Not matched: the model changed while {path.name} was encoded; match it again")
        else:
            from manne.synth.pitch import note_name

            self.session.move_sliders(result.z)  # clipped to the range; the synth follows
            self.show_session()
            n = len(result.notes)
            self.message_var.set(f"Sliders set to {path.name} ({n} note{'s' * (n != 1)}, median {note_name(result.midi)})")
