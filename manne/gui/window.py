"""The synth window: one slider per latent neuron, a note keyboard, transport and a live spectrum.

Thread contract
---------------
Tk runs in the main thread, and only there. The audio callback runs in PyAudio's thread and
touches the engine only. Neither side ever waits for the other:

- GUI -> engine: each control calls an engine setter (``set_z``, ``set_note``, ``set_volume``,
  ``set_phase``) from its own command callback, at once. The setter swaps in a new parameter
  snapshot that the callback picks up at its next hop; it never waits for the audio thread.
- engine -> GUI: the window polls ``engine.last_spectrum``, ``cpu_load`` and ``underruns`` with
  ``after(50)``. Nothing in the audio thread calls Tk.
- Offline rendering ("Render N s...") runs in a worker thread on an engine of its own, so it
  neither freezes the window nor disturbs the live stream; its end is polled with ``after``.
- Closing the window stops the stream, then finishes any recording, then destroys Tk.

Keyboard: the computer keys ``A W S E D F T G Y H U J`` play C C# D D# E F F# G G# A A# B, and
the space bar plays or pauses. Tk, PyAudio and the engine load only here, never at ``import manne``.
"""

from __future__ import annotations

import os
import threading
import tkinter as tk
import tkinter.font as tkfont
from pathlib import Path
from tkinter import filedialog, messagebox, ttk
from typing import TYPE_CHECKING, Callable

import numpy as np

from manne.dsp import NOTE_NAMES
from manne.errors import ManneError, ParameterError
from manne.model.forward import Autoencoder
from manne.gui.widgets import SpectrumPlot, Tooltip
from manne.synth.presets import PHASE_MODES, Preset, load_preset, save_preset

if TYPE_CHECKING:
    from manne.synth.engine import Engine
    from manne.synth.stream import AudioOut

KEYBOARD = "awsedftgyhuj"
"""Computer keys that play C, C#, D, D#, E, F, F#, G, G#, A, A#, B."""
NOTE_OF_KEY = {key: i for i, key in enumerate(KEYBOARD)}
POLL_MS = 50
STATUS_EVERY = 5  # polls between status line refreshes (250 ms)
RENDER_MAX_S = 600
ABSENT_NOTE_TIP = "not in corpus: the model never heard this note; it may sound odd"
_TEXT_CLASSES = {"Entry", "TEntry", "Spinbox", "TSpinbox", "Text", "TCombobox"}
_BUTTON_CLASSES = {"TButton", "TRadiobutton", "TCheckbutton", "Button", "Radiobutton", "Checkbutton"}


def _reason(message: str | None) -> str:
    """The first sentence of an audio error, without its "no audio output:" prefix, for the status line."""
    text = (message or "no output device").strip()
    if text.lower().startswith("no audio output:"):
        text = text[len("no audio output:"):].strip()
    first = text.split(". ")[0].split("; ")[0].rstrip(".")
    return first or "no output device"


class SynthWindow:
    """The synth's main window, built inside ``root``.

    Parameters
    ----------
    root : tk.Tk (or a Toplevel)
    ae : Autoencoder, the loaded model
    model_dir : its directory (shown in the title and saved in presets)
    engine : manne.synth.engine.Engine playing ``ae``
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
    """

    def __init__(self, root: tk.Misc, ae: Autoencoder, model_dir: str | os.PathLike, *, engine: Engine,
                 audio: AudioOut | None = None, audio_error: str | None = None, device=None, buffer: int = 512,
                 open_audio: Callable[[Engine], AudioOut] | None = None, playing: bool = False, preset: Preset | None = None):
        self.root = root
        self.ae = ae
        self.model_dir = Path(model_dir)
        self.engine = engine
        self.audio = audio
        self.audio_error = _reason(audio_error) if audio is None else None
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
        params = engine.params
        lo, hi = np.asarray(ae.latent_range, dtype=np.float64)
        self.z = np.clip(np.asarray(preset.z if preset else params.z, dtype=np.float64), lo, hi)
        self.note_var = tk.IntVar(root, value=preset.note_index if preset else int(params.note))
        self.volume_var = tk.DoubleVar(root, value=preset.volume if preset else float(params.volume))
        self.phase_var = tk.StringVar(root, value=preset.phase if preset else str(params.phase))
        self.seconds_var = tk.StringVar(root, value="5")
        self.status_var = tk.StringVar(root)
        self.message_var = tk.StringVar(root)

        self._style()
        self._build()
        self._load_model_widgets()
        self.engine.set_z(self.z.copy())
        self.engine.set_volume(self.volume_var.get())
        self.engine.set_note(self.note_var.get())
        self.engine.set_phase(self.phase_var.get())

        root.protocol("WM_DELETE_WINDOW", self.close)
        root.bind("<KeyPress>", self._on_key)
        root.bind("<Control-q>", lambda e: self.close())
        root.bind("<Control-o>", lambda e: self.open_model_dialog())
        root.update_idletasks()
        root.minsize(max(720, root.winfo_reqwidth()), max(520, root.winfo_reqheight()))
        self._refresh_status()
        self._after = root.after(POLL_MS, self._poll)

    # ---------------------------------------------------------------- layout
    def _style(self) -> None:
        style = ttk.Style(self.root)
        if "clam" in style.theme_names():
            style.theme_use("clam")
        base = tkfont.nametofont("TkDefaultFont", root=self.root)
        family, size = base.actual("family"), abs(int(base.actual("size")))
        style.configure("Note.Toolbutton", padding=(6, 6), width=3, anchor="center", font=(family, size, "bold"))
        style.map("Note.Toolbutton", background=[("selected", "#2f7dd1"), ("active", "#d8e6f5")],
                  foreground=[("selected", "white")])
        style.configure("Absent.Note.Toolbutton", foreground="#8c8c8c", font=(family, size, "italic"))
        style.map("Absent.Note.Toolbutton", background=[("selected", "#7d9cc0"), ("active", "#e6e6e6")],
                  foreground=[("selected", "white")])
        style.configure("Status.TLabel", padding=(8, 3), relief="sunken")
        style.configure("Value.TLabel", font=("TkFixedFont", max(8, size - 1)))
        style.configure("Hint.TLabel", foreground="#666666")

    def _build(self) -> None:
        root = self.root
        self._build_menu()
        play_text = "❚❚ Pause" if self.playing else "▶ Play"
        outer = ttk.Frame(root, padding=8)
        outer.grid(row=0, column=0, sticky="nsew")
        root.columnconfigure(0, weight=1)
        root.rowconfigure(0, weight=1)
        outer.columnconfigure(1, weight=1)
        outer.rowconfigure(1, weight=1)

        bar = ttk.Frame(outer)
        bar.grid(row=0, column=0, columnspan=2, sticky="ew", pady=(0, 8))
        ttk.Button(bar, text="Open model…", command=self.open_model_dialog, takefocus=False).pack(side="left")
        ttk.Separator(bar, orient="vertical").pack(side="left", fill="y", padx=8)
        self.play_button = ttk.Button(bar, text=play_text, width=9, command=self.toggle_play, takefocus=False)
        self.play_button.pack(side="left")
        self.record_button = ttk.Button(bar, text="● Record…", width=11, command=self.toggle_record, takefocus=False)
        self.record_button.pack(side="left", padx=(4, 0))
        if self.audio is None:
            self.play_button.state(["disabled"])
            self.record_button.state(["disabled"])
        ttk.Separator(bar, orient="vertical").pack(side="left", fill="y", padx=8)
        self.render_button = ttk.Button(bar, text="Render", command=self.render_dialog, takefocus=False)
        self.render_button.pack(side="left")
        self.seconds_box = ttk.Spinbox(bar, from_=1, to=RENDER_MAX_S, increment=1, width=4, textvariable=self.seconds_var)
        self.seconds_box.pack(side="left", padx=(4, 2))
        self.seconds_box.bind("<Return>", lambda e: root.focus_set())
        self.seconds_box.bind("<Escape>", lambda e: root.focus_set())
        ttk.Label(bar, text="s…").pack(side="left")
        ttk.Button(bar, text="Load preset…", command=self.load_preset_dialog, takefocus=False).pack(side="right")
        ttk.Button(bar, text="Save preset…", command=self.save_preset_dialog, takefocus=False).pack(side="right", padx=(0, 4))

        self.latent_frame = ttk.Labelframe(outer, text="Timbre (latent)", padding=(8, 4))
        self.latent_frame.grid(row=1, column=0, sticky="ns", padx=(0, 8))

        spec = ttk.Labelframe(outer, text="Spectrum", padding=4)
        spec.grid(row=1, column=1, sticky="nsew")
        spec.columnconfigure(0, weight=1)
        spec.rowconfigure(0, weight=1)
        a = self.ae.analysis
        self.spectrum = SpectrumPlot(spec, sr=a.sr, n_fft=a.n_fft)
        self.spectrum.canvas.grid(row=0, column=0, sticky="nsew")

        self.notes_frame = ttk.Labelframe(outer, text="Note", padding=(8, 4))
        self.notes_frame.grid(row=2, column=0, columnspan=2, sticky="ew", pady=(8, 0))

        ctl = ttk.Frame(outer)
        ctl.grid(row=3, column=0, columnspan=2, sticky="ew", pady=(8, 0))
        ttk.Label(ctl, text="Volume").pack(side="left")
        self.volume_scale = ttk.Scale(ctl, from_=0.0, to=1.0, orient="horizontal", length=200,
                                      variable=self.volume_var, command=self._volume_changed, takefocus=False)
        self.volume_scale.pack(side="left", padx=(6, 4))
        self.volume_label = ttk.Label(ctl, width=5, style="Value.TLabel")
        self.volume_label.pack(side="left")
        self.volume_label.configure(text=f"{self.volume_var.get():.0%}")
        ttk.Label(ctl, text="Phase").pack(side="left", padx=(24, 6))
        for mode in PHASE_MODES:
            ttk.Radiobutton(ctl, text=mode, value=mode, variable=self.phase_var, command=self._phase_changed,
                            takefocus=False).pack(side="left", padx=2)
        ttk.Label(ctl, textvariable=self.message_var, style="Hint.TLabel").pack(side="right")

        # width=1: a long status never widens the window; it is cut at the window's edge instead
        self.status_label = ttk.Label(root, textvariable=self.status_var, style="Status.TLabel", anchor="w", width=1)
        self.status_label.grid(row=1, column=0, sticky="ew")
        Tooltip(self.status_label, lambda: self._audio_error_full or self.status_var.get())

    def _build_menu(self) -> None:
        menu = tk.Menu(self.root)
        file = tk.Menu(menu, tearoff=False)
        file.add_command(label="Open model…", command=self.open_model_dialog, accelerator="Ctrl+O")
        file.add_separator()
        file.add_command(label="Load preset…", command=self.load_preset_dialog)
        file.add_command(label="Save preset…", command=self.save_preset_dialog)
        file.add_separator()
        file.add_command(label="Record to WAV…", command=self.toggle_record)
        file.add_command(label="Render to WAV…", command=self.render_dialog)
        file.add_separator()
        file.add_command(label="Quit", command=self.close, accelerator="Ctrl+Q")
        menu.add_cascade(label="File", menu=file)
        self.root.configure(menu=menu)

    def _load_model_widgets(self) -> None:
        """(Re)build the parts that depend on the model: title, sliders, note buttons, spectrum axis."""
        self.root.title(f"manne — {self.model_name}")
        for w in self.latent_frame.winfo_children():
            w.destroy()
        lo, hi = np.asarray(self.ae.latent_range, dtype=np.float64)
        self.sliders: list[ttk.Scale] = []
        self.value_labels: list[ttk.Label] = []
        for i in range(self.ae.latent):
            top, bottom = float(hi[i]), float(lo[i])
            if top <= bottom:
                top = bottom + 1e-3
            ttk.Label(self.latent_frame, text=f"z{i + 1}").grid(row=0, column=i, padx=3)
            label = ttk.Label(self.latent_frame, width=6, anchor="center", style="Value.TLabel")
            label.grid(row=2, column=i, padx=3)
            self.value_labels.append(label)
            scale = ttk.Scale(self.latent_frame, from_=top, to=bottom, value=float(self.z[i]), orient="vertical",
                              length=200, command=lambda v, i=i: self._slider_moved(i, v), takefocus=False)
            scale.grid(row=1, column=i, padx=3, pady=2, sticky="ns")
            self.sliders.append(scale)
        self.latent_frame.rowconfigure(1, weight=1)
        self._show_values()

        for w in self.notes_frame.winfo_children():
            w.destroy()
        present = set(self.ae.notes_present)
        self.note_buttons: list[ttk.Radiobutton] = []
        keys = ttk.Frame(self.notes_frame)
        keys.pack(side="top", anchor="w")
        for i, name in enumerate(NOTE_NAMES):
            style = "Note.Toolbutton" if i in present else "Absent.Note.Toolbutton"
            b = ttk.Radiobutton(keys, text=name, value=i, variable=self.note_var, style=style,
                                command=lambda i=i: self.set_note(i), takefocus=False)
            b.grid(row=0, column=i, padx=1)
            ttk.Label(keys, text=KEYBOARD[i].upper(), style="Hint.TLabel").grid(row=1, column=i)
            if i not in present:
                Tooltip(b, f"{name}: {ABSENT_NOTE_TIP}")
            self.note_buttons.append(b)
        absent = [NOTE_NAMES[i] for i in range(12) if i not in present]
        hint = "Keys A W S E D F T G Y H U J play C … B · space: play/pause"
        if absent:
            hint += f" · grey italic: not in corpus ({' '.join(absent)})"
        self.notes_hint = ttk.Label(self.notes_frame, text=hint, style="Hint.TLabel")
        self.notes_hint.pack(side="top", anchor="w", pady=(4, 0))

        a = self.ae.analysis
        self.spectrum.set_analysis(sr=a.sr, n_fft=a.n_fft)
        self._preview_key = None

    # ---------------------------------------------------------------- state
    @property
    def model_name(self) -> str:
        return self.model_dir.name or str(self.model_dir)

    def _show_values(self) -> None:
        for label, v in zip(self.value_labels, self.z):
            label.configure(text=f"{v:.3f}")

    def _slider_moved(self, i: int, value: str) -> None:
        self.z[i] = float(value)
        self.engine.set_z(self.z.copy())
        self.value_labels[i].configure(text=f"{self.z[i]:.3f}")

    def set_z(self, z) -> None:
        """Move the sliders (and so the engine) to latent position ``z``, shape (latent,)."""
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
        self.volume_var.set(float(volume))
        self._volume_changed(str(volume))

    def _phase_changed(self) -> None:
        self.engine.set_phase(self.phase_var.get())

    def set_phase(self, mode: str) -> None:
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

    # ---------------------------------------------------------------- transport
    def toggle_play(self) -> None:
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
            self.audio.start()
        except ManneError as exc:
            self._error("Cannot play", str(exc))
            return
        self.playing = True
        self.play_button.configure(text="❚❚ Pause")
        self._refresh_status()

    def pause(self) -> None:
        if self.audio is None or not self.playing:
            return
        self.audio.stop()
        self.playing = False
        self.play_button.configure(text="▶ Play")
        self._refresh_status()

    def toggle_record(self) -> None:
        if self.recording is not None:
            self.stop_recording()
            return
        if self.audio is None:
            self.message_var.set("Recording needs audio output; Render still works")
            return
        path = filedialog.asksaveasfilename(parent=self.root, title="Record to WAV", defaultextension=".wav",
                                            filetypes=[("WAV audio", "*.wav")],
                                            initialfile=f"{self.model_name}-recording.wav")
        if path:
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
        """Finish the recording's WAV file; return its path."""
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

    # ---------------------------------------------------------------- rendering
    def render_seconds(self) -> float:
        try:
            seconds = float(self.seconds_var.get())
        except ValueError:
            seconds = -1
        if not 0 < seconds <= RENDER_MAX_S:
            raise ManneError(f"render length {self.seconds_var.get()!r} must be between 1 and {RENDER_MAX_S} seconds")
        return seconds

    def render_dialog(self) -> None:
        try:
            seconds = self.render_seconds()
        except ManneError as exc:
            self._error("Cannot render", str(exc))
            return
        path = filedialog.asksaveasfilename(parent=self.root, title=f"Render {seconds:g} s to WAV",
                                            defaultextension=".wav", filetypes=[("WAV audio", "*.wav")],
                                            initialfile=f"{self.model_name}-{NOTE_NAMES[self.note_var.get()]}.wav")
        if path:
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

    # ---------------------------------------------------------------- models and presets
    def _new_engine(self, ae: Autoencoder) -> Engine:
        """An engine like the current one (hop, phase, volume, seed) on ``ae``, set to the current sound."""
        e = self.engine
        engine = type(e)(ae, sr=ae.analysis.sr, hop_length=e.hop_length, phase=self.phase_var.get(),
                         volume=float(self.volume_var.get()), seed=e.seed, smoothing_s=e.smoothing_s,
                         limiter=e.limiter)
        if ae is self.ae:
            engine.set_z(self.z.copy())  # a new model starts at the middle of its range
        engine.set_note(int(self.note_var.get()))
        return engine

    def open_model_dialog(self) -> None:
        path = filedialog.askdirectory(parent=self.root, title="Open model directory", mustexist=True,
                                       initialdir=str(self.model_dir.parent))
        if path:
            try:
                self.load_model(path)
            except ManneError as exc:
                self._error("Cannot open model", str(exc))

    def load_model(self, model_dir: str | os.PathLike) -> None:
        """Load another model: a new engine (and stream, when there is audio), new sliders.

        Raises
        ------
        ModelError
            If the directory is not a model; the current model keeps playing.
        """
        ae = Autoencoder.load(model_dir)
        was_playing = self.playing
        if self.recording is not None:
            self.stop_recording()
        engine = self._new_engine(ae)
        audio = None
        if self.audio is not None:
            self.pause()
            self.audio.close()
            try:
                audio = self._make_audio(engine)
            except ManneError as exc:
                self.audio_error, self._audio_error_full = _reason(str(exc)), str(exc)
        self.ae, self.model_dir, self.engine, self.audio = ae, Path(model_dir), engine, audio
        lo, hi = np.asarray(ae.latent_range, dtype=np.float64)
        self.z = (lo + hi) / 2
        self._load_model_widgets()
        self.engine.set_z(self.z.copy())
        self.engine.set_note(int(self.note_var.get()))
        for button in (self.play_button, self.record_button):
            button.state(["!disabled"] if audio is not None else ["disabled"])
        if was_playing:
            self.play()
        self.message_var.set(f"Opened {self.model_name}")
        self._refresh_status()

    def _make_audio(self, engine: Engine) -> AudioOut:
        if self._open_audio is not None:
            return self._open_audio(engine)
        from manne.synth.stream import AudioOut

        return AudioOut(engine, device=self.device, buffer=self.buffer)

    def current_preset(self) -> Preset:
        """The sound now playing as a :class:`~manne.synth.presets.Preset`."""
        return Preset(model=str(self.model_dir.resolve()), z=[float(v) for v in self.z],
                      note=NOTE_NAMES[self.note_var.get()], volume=round(float(self.volume_var.get()), 4),
                      phase=self.phase_var.get())

    def apply_preset(self, preset: Preset) -> None:
        """Set sliders, note, volume and phase from ``preset`` (on the current model)."""
        if len(preset.z) != self.ae.latent:
            raise ParameterError(f"preset z has {len(preset.z)} values; the model {self.model_name} has {self.ae.latent}")
        self.set_z(preset.z)
        self.set_note(preset.note_index)
        self.set_volume(preset.volume)
        self.set_phase(preset.phase)

    def save_preset_dialog(self) -> None:
        path = filedialog.asksaveasfilename(parent=self.root, title="Save preset", defaultextension=".json",
                                            filetypes=[("manne preset", "*.json")], initialfile=f"{self.model_name}.json")
        if path:
            try:
                save_preset(path, self.current_preset())
                self.message_var.set(f"Saved {Path(path).name}")
            except (ManneError, OSError) as exc:
                self._error("Cannot save preset", str(exc))

    def load_preset_dialog(self) -> None:
        path = filedialog.askopenfilename(parent=self.root, title="Load preset", filetypes=[("manne preset", "*.json")])
        if path:
            try:
                self.load_preset(path)
            except (ManneError, OSError) as exc:
                self._error("Cannot load preset", str(exc))

    def load_preset(self, path: str | os.PathLike) -> Preset:
        """Load a preset file, switching model first when it names another existing model."""
        preset = load_preset(path)
        model = Path(preset.model)
        if model.resolve() != self.model_dir.resolve() and model.is_dir():
            self.load_model(model)
        preset = load_preset(path, ae=self.ae)
        self.apply_preset(preset)
        self.message_var.set(f"Loaded {Path(path).name}")
        return preset

    # ---------------------------------------------------------------- polling and status
    def spectrum_now(self) -> np.ndarray | None:
        """The spectrum to draw: the engine's last decoded frame while playing, else the current decode."""
        S = getattr(self.engine, "last_spectrum", None)
        if self.playing and S is not None:
            return np.asarray(S)
        key = (tuple(np.round(self.z, 6)), int(self.note_var.get()))
        if key != self._preview_key:
            self._preview_key = key
            self._preview = self.ae.decode(self.z[None, :].astype(np.float32), int(self.note_var.get()))[0]
        return self._preview

    def status_text(self) -> str:
        parts = []
        if self.audio is None:
            parts.append(f"No audio output: {self.audio_error}. Rendering still works.")
        else:
            state = "playing" if self.playing else "paused"
            parts.append(f"{state} · CPU {self.engine.cpu_load:.0%} · underruns {self.engine.underruns}")
        parts.append(f"model {self.model_name}")
        if self.audio is not None:
            dev = getattr(self.audio, "device", None)
            name = dev.get("name") if isinstance(dev, dict) else (self.device if self.device is not None else "default")
            parts.append(f"device {name} · buffer {self.buffer}")
        if self.recording is not None:
            parts.append(f"● recording {self.recording.name} {self.engine.recorded_seconds:.1f} s")
        if self.audio is not None and self.engine.last_error:
            parts.append(f"audio error: {self.engine.last_error}")
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
        if self._render_result is not None:
            self._render_done()
        self._polls += 1
        if self._polls % STATUS_EVERY == 0:
            self._refresh_status()
        self._after = self.root.after(POLL_MS, self._poll)

    def _error(self, title: str, message: str) -> None:
        self.message_var.set(message if len(message) < 80 else message[:77] + "…")
        messagebox.showerror(title, message, parent=self.root)

    def close(self) -> None:
        """Stop the stream, finish any recording, and destroy the window."""
        if self.closed:
            return
        self.closed = True
        if self._after is not None:
            self.root.after_cancel(self._after)
            self._after = None
        if self.audio is not None:
            self.audio.close()  # stops the stream: no more blocks reach the recording
        self.playing = False
        self.stop_recording()
        if self.rendering is not None:
            self.rendering.join()  # let a render finish its file rather than leave a partial one
        self.root.destroy()


def main(model_dir: str | os.PathLike, *, device=None, buffer: int = 512, hop_length: int = 256,
         phase: str = "noise", preset: str | os.PathLike | None = None, play: bool = True) -> int:
    """Open the synth on a model and play at once; return when the window closes.

    The NumPy model loads first and the stream starts before the window is built, so the first
    sound comes fast. A missing audio device leaves the window usable for rendering. A preset's
    phase and volume take precedence over ``phase``.

    Raises
    ------
    ModelError, ParameterError
        If the model or the preset cannot be read.
    """
    import signal

    from manne.synth.engine import Engine
    from manne.errors import AudioDeviceError, ManneError

    ae = Autoencoder.load(model_dir)
    try:
        root = tk.Tk(className="manne")  # before any sound: an unreachable display fails cleanly
    except tk.TclError as exc:
        raise ManneError(f"cannot open the window ({exc}); for headless use, try `manne render`") from exc
    root.withdraw()
    p = load_preset(preset, ae=ae) if preset is not None else None
    engine = Engine(ae, sr=ae.analysis.sr, hop_length=hop_length, phase=p.phase if p else phase,
                    volume=p.volume if p else 0.8)
    if p is not None:  # otherwise the engine starts at the middle of the range, on a note of the corpus
        engine.set_z(p.z)
        engine.set_note(p.note_index)
    audio, reason = None, None
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
        win = SynthWindow(root, ae, model_dir, engine=engine, audio=audio, audio_error=reason, device=device,
                          buffer=buffer, playing=audio is not None and play, preset=p)
        root.deiconify()
        # Ctrl-C in the terminal closes the window properly (stream stopped, recording finished)
        # instead of being swallowed by a Tk callback
        signal.signal(signal.SIGINT, lambda *_: root.after_idle(win.close))
        root.mainloop()
    finally:
        if win is not None and not win.closed:
            win.close()
        elif win is None and audio is not None:
            audio.close()
    return 0
