"""The synth window: labelled timbre sliders, an XY pad over the timbre space, a piano keyboard,
transport, an output level meter and the live spectrum of what is played.

Thread contract
---------------
Tk runs in the main thread, and only there. The audio callback runs in PyAudio's thread and
touches the engine only. Neither side ever waits for the other:

- GUI -> engine: each control calls a method of the window's session (:mod:`manne.control.session`:
  ``press``, ``move_slider``, ``set_octave``, ``set_volume``, ``set_method``...) from its own command callback,
  at once; the session calls the engine's setter (a slider: ``Synth.set_z``), which queues the event or swaps in a new parameter
  snapshot that the callback picks up at its next block; it never waits for the audio thread.
- MIDI and OSC (``manne synth --midi/--osc``) call the same session from their own threads; the
  window's poll sees ``session.revision`` change and moves its widgets to ``session.state()``.
- engine -> GUI: the window polls the engine's output tap (the last samples played: meter and
  spectrum), its held notes, ``cpu_load`` and ``underruns`` with ``after(50)``. Nothing in the
  audio thread calls Tk.
- Offline rendering ("Render N s...") runs in a worker thread on an engine of its own, so it
  neither freezes the window nor disturbs the live stream; its end is polled with ``after``. Matching
  a recording's timbre ("Match a recording...") analyses and encodes it in a worker thread too.
- Closing the window stops the stream, then finishes any recording, then destroys Tk.

Keyboard: the computer keys ``A W S E D F T G Y H U J K`` play C C# D D# E F F# G G# A A# B C,
``Z``/``X`` shift the octave, and the space bar plays or pauses. Tk, PyAudio and the engine load only here, never at ``import manne``.

The window is one class, :class:`SynthWindow`, assembled from one mixin per concern:

- :mod:`manne.gui.layout`: the widgets (menu, toolbar and meter, sliders, XY pad, spectrum, piano, status line);
- :mod:`manne.gui.controls`: sliders, piano, volume, method and the computer keyboard -> engine;
- :mod:`manne.gui.timbre`: the XY pad's plane, background map and landmarks, the sliders' meanings;
- :mod:`manne.gui.transport`: play/pause and recording;
- :mod:`manne.gui.render`: offline rendering in a worker thread;
- :mod:`manne.gui.loading`: opening models, loading and saving presets;
- :mod:`manne.gui.matching`: "Match a recording…", the sliders set to an audio file's timbre;
- :mod:`manne.gui.status`: the ``after`` poll, the status line and error messages.

This module holds the window's state, its opening and closing, and :func:`main`.
"""

from __future__ import annotations

import os
import threading
import tkinter as tk
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from manne.control.session import Session
from manne.errors import ParameterError
from manne.gui.controls import SoundControls
from manne.gui.layout import WindowLayout
from manne.gui.loading import ModelsAndPresets
from manne.gui.matching import RecordingMatch
from manne.gui.render import Rendering
from manne.gui.timbre import TimbrePad
from manne.gui.status import POLL_MS, StatusLine, short_reason
from manne.gui.transport import Transport
from manne.model.forward import Autoencoder
from manne.synth.presets import Preset, load_preset

if TYPE_CHECKING:
    from manne.synth.instrument import Synth
    from manne.synth.stream import AudioOut

__all__ = ["SynthWindow", "main"]


class SynthWindow(WindowLayout, SoundControls, TimbrePad, Transport, Rendering, ModelsAndPresets, RecordingMatch,
                  StatusLine):
    """The synth's main window, built inside ``root``.

    Parameters
    ----------
    root : tk.Tk (or a Toplevel)
    ae : Autoencoder, the loaded model
    model_dir : its directory (shown in the title and saved in presets)
    engine : manne.synth.instrument.Synth playing ``ae``
    audio : manne.synth.stream.AudioOut, optional
        The output stream feeding from ``engine``. None means no audio output: Play and Record
        are disabled and the status line says why (``audio_error``); rendering still works.
    audio_error : str, optional, why there is no audio output (an AudioDeviceError message)
    device, buffer : the output device and buffer size, used again when a new model is opened
    open_audio : callable(engine) -> AudioOut, optional
        Builds the stream for a new engine after "Open model..."; by default
        ``manne.synth.stream.AudioOut(engine, device=device, buffer=buffer)``.
    playing : bool, whether ``audio`` was already started (the window shows Pause)
    preset : Preset, optional, the initial sliders, note, volume and phase (else the engine's)
    session : Session, optional, the state shared with MIDI and OSC (default: a new one on ``engine``)
    """

    def __init__(self, root: tk.Misc, ae: Autoencoder, model_dir: str | os.PathLike, *, engine: Synth,
                 audio: AudioOut | None = None, audio_error: str | None = None, device=None, buffer: int = 512,
                 open_audio: Callable[[Synth], AudioOut] | None = None, playing: bool = False, preset: Preset | None = None,
                 session: Session | None = None):
        self.root = root
        self.ae = ae
        self.model_dir = Path(model_dir)
        self.engine = engine
        self.audio = audio
        self.audio_error = short_reason(audio_error) if audio is None else None
        self._audio_error_full = audio_error if audio is None else None
        self.device = device
        self.buffer = buffer
        self._open_audio = open_audio
        self.playing = bool(playing and audio is not None)
        self.recording: Path | None = None
        self.rendering: threading.Thread | None = None
        self._render_result: tuple[Path, BaseException | None] | None = None
        self._polls = 0
        self._after: str | None = None
        self._preview_key = None
        self._preview: np.ndarray | None = None
        self.closed = False
        if preset is not None and len(preset.z) != ae.latent:
            raise ParameterError(f"preset z has {len(preset.z)} values; the model {self.model_name} has {ae.latent}")
        params = engine.controls
        lo, hi = np.asarray(ae.latent_range, dtype=np.float64)
        self.z = np.clip(np.asarray(preset.z if preset else params.z, dtype=np.float64), lo, hi)
        first = int(ae.notes_present[0]) if ae.notes_present else 0
        self.note_var = tk.IntVar(root, value=preset.note_index if preset else first)
        self.volume_var = tk.DoubleVar(root, value=preset.volume if preset else float(params.volume))
        self.phase_var = tk.StringVar(root, value=preset.phase if preset else engine.method)
        self.hold_var = tk.BooleanVar(root, value=engine.hold)
        self._keys_down: dict[str, int] = {}  # computer key -> the MIDI note it started
        self._pending_release: dict[str, str] = {}  # computer key -> the after() id of its deferred release
        self.seconds_var = tk.StringVar(root, value="5")
        self.pad_x_var, self.pad_y_var = tk.StringVar(root), tk.StringVar(root)
        self.pad_map_var = tk.StringVar(root, value="brightness")
        self.plane = None
        self._window: np.ndarray | None = None  # the live spectrum's Hann window
        self.status_var = tk.StringVar(root)
        self.message_var = tk.StringVar(root)
        self.session = session or Session(engine, model_dir=model_dir, note=self.note_var.get())
        self._session_seen = -1

        self._style()
        self._build()
        self._load_model_widgets()
        self.z = self.session.move_sliders(self.z)
        self.session.set_volume(self.volume_var.get())
        self.session.set_method(self.phase_var.get())
        if preset is not None and preset.midi:
            self.session.set_cc_map(preset.midi)

        root.protocol("WM_DELETE_WINDOW", self.close)
        root.bind("<KeyPress>", self._on_key)
        root.bind("<KeyRelease>", self._on_key_release)
        root.bind("<Control-q>", lambda e: self.close())
        root.bind("<Control-o>", lambda e: self.open_model_dialog())
        root.bind_class("TScale", "<Button-3>", self._learn_clicked, add="+")
        root.update_idletasks()
        root.minsize(max(900, root.winfo_reqwidth()), max(600, root.winfo_reqheight()))
        self._refresh_status()
        self._after = root.after(POLL_MS, self._poll)

    @property
    def model_name(self) -> str:
        """The model directory's name, shown in the title, the status line and default file names."""
        return self.model_dir.name or str(self.model_dir)

    def close(self) -> None:
        """Stop the stream, finish any recording, and destroy the window."""
        if self.closed:
            return
        self.closed = True
        if self._after is not None:
            self.root.after_cancel(self._after)
            self._after = None
        if self.audio is not None:
            self.fade_out()
            self.audio.close()  # stops the stream: no more blocks reach the recording
        self.playing = False
        self.stop_recording()
        if self.rendering is not None:
            self.rendering.join()  # let a render finish its file rather than leave a partial one
        self.root.destroy()


def main(model_dir: str | os.PathLike, *, device=None, buffer: int = 256, block: int = 128, method: str = "harmonic",
         hold: bool = False, preset: str | os.PathLike | None = None, play: bool = True,
         inputs: Callable[[Session], list] | None = None) -> int:
    """Open the synth on a model and play at once; return when the window closes.

    ``inputs(session)`` opens what plays the session from outside (MIDI, OSC:
    :func:`manne.control.open_inputs`); each is closed with the window.

    The NumPy model loads first and the stream starts before the window is built, so the first
    sound comes fast. A missing audio device leaves the window usable for rendering. A preset's
    method (its ``phase``) and volume take precedence over ``method``; a preset holds its note.

    Raises
    ------
    ModelError, ParameterError
        If the model or the preset cannot be read.
    """
    import signal

    from manne.errors import AudioDeviceError, ManneError
    from manne.synth.instrument import Synth

    ae = Autoencoder.load(model_dir)
    try:
        root = tk.Tk(className="manne")  # before any sound: an unreachable display fails cleanly
    except tk.TclError as exc:
        raise ManneError(f"cannot open the window ({exc}); for headless use, try `manne render`") from exc
    root.withdraw()
    p = load_preset(preset, ae=ae) if preset is not None else None
    engine = Synth(ae, sr=ae.analysis.sr, block=block, method=p.phase if p else method, volume=p.volume if p else 0.8,
                   hold=hold or p is not None)
    if p is not None:  # otherwise the sliders start at the middle of the range
        engine.set_z(p.z)
        engine.set_note(p.note_index)
    audio, reason, opened = None, None, []
    try:
        from manne.synth.stream import AudioOut

        audio = AudioOut(engine, device=device, buffer=buffer)
        if play:
            audio.start()
    except AudioDeviceError as exc:
        if audio is not None:
            audio.close()
        audio, reason = None, str(exc)
    win = None
    try:
        first = int(ae.notes_present[0]) if ae.notes_present else 0
        session = Session(engine, model_dir=model_dir, note=p.note_index if p else first)
        opened = inputs(session) if inputs is not None else []
        for x in opened:
            print(f"manne synth: {x.describe()}", flush=True)
        win = SynthWindow(root, ae, model_dir, engine=engine, audio=audio, audio_error=reason, device=device,
                          buffer=buffer, playing=audio is not None and play, preset=p, session=session)
        root.deiconify()
        # Ctrl-C in the terminal closes the window properly (stream stopped, recording finished)
        # instead of being swallowed by a Tk callback
        signal.signal(signal.SIGINT, lambda *_: root.after_idle(win.close))
        root.mainloop()
    finally:
        for x in opened:
            x.close()
        if win is not None and not win.closed:
            win.close()
        elif win is None and audio is not None:
            audio.close()
    return 0
