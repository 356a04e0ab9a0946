"""Models and presets from the window: "Open model…", "Load preset…" and "Save preset…".

Opening a model builds a new engine (and a new output stream when there is audio) and rebuilds
the model's widgets; the current model keeps playing if the new one cannot be read. A preset
(:mod:`manne.synth.presets`) stores the sliders, note, volume and phase with the model's path;
loading one switches to that model first when it exists and is not the current one.
"""

from __future__ import annotations

import os
from pathlib import Path
from tkinter import filedialog
from typing import TYPE_CHECKING

import numpy as np

from manne.errors import ManneError
from manne.gui.status import short_reason
from manne.io.settings import output_folder
from manne.model.forward import Autoencoder
from manne.synth.presets import Preset, load_preset, save_preset

if TYPE_CHECKING:
    from manne.synth.instrument import Synth
    from manne.synth.stream import AudioOut

__all__ = ["ModelsAndPresets"]


class ModelsAndPresets:
    """Mixin of :class:`manne.gui.window.SynthWindow`: open models, load and save presets.

    Uses the window's ``root``, ``ae``, ``model_dir``, ``engine``, ``audio``, ``device``,
    ``buffer``, ``_open_audio``, ``z``, ``note_var``, ``volume_var``, ``phase_var``, the transport
    (:class:`Transport`), the controls (:class:`SoundControls`) and
    :meth:`WindowLayout._load_model_widgets`.
    """

    def _new_engine(self, ae: Autoencoder) -> Synth:
        """A synth like the current one (method, volume, hold) on ``ae``, set to the current sliders."""
        engine = type(self.engine)(ae, sr=ae.analysis.sr, block=self.engine.block, method=self.phase_var.get(),
                                   volume=float(self.volume_var.get()), hold=bool(self.hold_var.get()),
                                   limiter=self.engine.limiter)
        if ae is self.ae:
            engine.set_z(self.z.copy())  # a new model starts at the middle of its range
        return engine

    def open_model_dialog(self) -> None:
        """Ask for a model directory and :meth:`load_model` it (File > Open model…, Ctrl+O)."""
        path = filedialog.askdirectory(parent=self.root, title="Open model directory", mustexist=True,
                                       initialdir=str(self.model_dir.parent))
        self.root.focus_force()
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
                self.audio_error, self._audio_error_full = short_reason(str(exc)), str(exc)
        self.ae, self.model_dir, self.engine, self.audio = ae, Path(model_dir), engine, audio
        self.session.attach(engine, model_dir=model_dir, note=int(self.note_var.get()))  # MIDI and OSC follow
        lo, hi = np.asarray(ae.latent_range, dtype=np.float64)
        self.z = (lo + hi) / 2
        self._load_model_widgets()
        self.z = self.session.move_sliders(self.z)
        if self.hold_var.get():
            self.session.select_note(int(self.note_var.get()))  # the drone, on the new model
        for button in (self.play_button, self.record_button):
            button.state(["!disabled"] if audio is not None else ["disabled"])
        if was_playing:
            self.play()
        self.message_var.set(f"Opened {self.model_name}")
        self._refresh_status()

    def _make_audio(self, engine: Synth) -> AudioOut:
        if self._open_audio is not None:
            return self._open_audio(engine)
        from manne.synth.stream import AudioOut

        return AudioOut(engine, device=self.device, buffer=self.buffer)

    def current_preset(self) -> Preset:
        """The sound now playing, with the MIDI-learn map (the session's :meth:`~manne.control.session.Session.preset`)."""
        return self.session.preset()

    def apply_preset(self, preset: Preset) -> None:
        """Set sliders, note, volume, method and MIDI map from ``preset`` (on the current model), through the session.

        Raises
        ------
        ParameterError
            If the preset has another number of latent values than the model.
        """
        self.session.apply_preset(preset)
        self.show_session()

    def save_preset_dialog(self) -> None:
        """Ask for a file name and save :meth:`current_preset` there."""
        path = filedialog.asksaveasfilename(parent=self.root, title="Save preset", defaultextension=".json",
                                            filetypes=[("manne preset", "*.json")], initialfile=f"{self.model_name}.json",
                                            initialdir=str(output_folder()))
        self.root.focus_force()
        if path:
            try:
                save_preset(path, self.current_preset())
                self.message_var.set(f"Saved {Path(path).name}")
            except (ManneError, OSError) as exc:
                self._error("Cannot save preset", str(exc))

    def load_preset_dialog(self) -> None:
        """Ask for a preset file and :meth:`load_preset` it."""
        path = filedialog.askopenfilename(parent=self.root, title="Load preset", filetypes=[("manne preset", "*.json")],
                                          initialdir=str(output_folder()))
        self.root.focus_force()
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
