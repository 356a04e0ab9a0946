"""The synth's playing state, without Tk: what the window, MIDI and OSC all call.

A :class:`Session` wraps a :class:`~manne.synth.instrument.Synth` and holds what the synth does not:
the latent position the sliders show, the selected note and the computer keys' octave, the keys
held down (from any source), hold mode, the MIDI-learn map and its armed target, and counts of
what came in from MIDI and OSC. Every change goes through one of its methods, which updates the
state and calls the synth's control-side setter (:mod:`manne.synth.controls`: a queued event or a
swapped snapshot, never a wait for the audio thread).

Thread contract
---------------
The window's Tk thread, the MIDI callback thread and the OSC server thread may call any method
at any time. Each method holds the session's lock for the few microseconds it takes to update the
state and call the synth's setter, so two controllers moving two sliders at once never lose a move
(the synth's snapshot swap is a read-modify-write). The audio thread never touches the session and
never waits for this lock. Nothing here calls back into Tk: the window polls :attr:`revision`
(incremented by every change) from its ``after`` loop and redraws from :meth:`state`.

Control changes and MIDI learn are :mod:`manne.control.controllers` (a mixin of :class:`Session`).

A slider move takes one path: the window (:meth:`manne.gui.controls.SoundControls._slider_moved`, the XY
pad), MIDI (a learnt control change) and OSC (``/manne/z``) call :meth:`Session.move_slider` or
:meth:`Session.move_sliders`, which clip to the model's range and call the synth's
:meth:`~manne.synth.controls.ControlSide.set_z` (a snapshot swap); the window then shows the
session's state (:meth:`manne.gui.controls.SoundControls.show_session`).

Indices: Python calls use 0-based neuron indices (``move_slider(0, v)``); what a musician sees (slider
labels, MIDI-learn targets, OSC ``/manne/z``) is 1-based: ``"z1"`` .. ``"zd"``.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from manne.dsp import NOTE_NAMES, note_index
from manne.errors import ParameterError
from manne.synth.controls import NOTE_MAX, NOTE_MIN
from manne.synth.limits import check_method, check_volume
from manne.control.controllers import Controllers, mod_wheel_target
from manne.synth.presets import Preset, check_cc_map, load_preset

if TYPE_CHECKING:
    from manne.synth.instrument import Synth

__all__ = ["Session", "SessionState", "InputCounts", "OCTAVE_MIN", "OCTAVE_MAX"]

OCTAVE_MIN, OCTAVE_MAX = 1, 7  # the computer keys' octave (C4 = middle C)


@dataclass
class InputCounts:
    """What came in from outside; shown in the status line. Updated under the session's lock."""

    midi: int = 0  # MIDI messages acted on
    midi_ignored: int = 0  # MIDI messages manne does not use, or notes outside A0..C8
    osc: int = 0  # OSC messages acted on
    osc_malformed: int = 0  # OSC datagrams or messages refused (unknown address, wrong arguments, not OSC)
    last_problem: str = ""  # the last one refused or ignored, in words

    def text(self) -> str:
        """``"MIDI 12 · OSC 40 (2 malformed)"``; ``""`` when nothing came in."""
        parts = []
        if self.midi or self.midi_ignored:
            parts.append(f"MIDI {self.midi}" + (f" ({self.midi_ignored} ignored)" if self.midi_ignored else ""))
        if self.osc or self.osc_malformed:
            parts.append(f"OSC {self.osc}" + (f" ({self.osc_malformed} malformed)" if self.osc_malformed else ""))
        return " · ".join(parts)


@dataclass(frozen=True)
class SessionState:
    """A consistent copy of the session's state (:meth:`Session.state`)."""

    revision: int
    z: tuple[float, ...]
    note: int  # selected pitch class 0-11
    octave: int
    volume: float
    method: str
    hold: bool
    held: frozenset[int]  # MIDI notes whose key is down (computer keys, piano, MIDI, OSC)
    bend: float  # -1 .. 1 (±2 semitones)
    pedal: bool
    cc_map: tuple[tuple[int, str], ...]  # MIDI learn: control change number -> "z1".. / "volume"
    learning: str | None  # the target armed for MIDI learn
    mod_wheel: tuple[str, bool]  # the mod wheel's target and whether its travel is inverted


class Session(Controllers):
    """The playing state of one synth, shared by the window, MIDI and OSC.

    Parameters
    ----------
    engine : Synth, the instrument (its ``ae`` is the model)
    model_dir : the model's directory (saved in presets; its ``descriptors.json`` picks the mod wheel's slider)
    note : int, the selected pitch class (default the model's first note)
    octave : int, the computer keys' octave, 1..7
    """

    def __init__(self, engine: Synth, *, model_dir: str | os.PathLike, note: int | None = None, octave: int = 4):
        self._lock = threading.RLock()
        self.counts = InputCounts()
        self._cc: dict[int, str] = {}
        self._learning: str | None = None
        self._held: set[int] = set()
        self._octave = self._check_octave(octave)
        self.revision = 0
        self.attach(engine, model_dir=model_dir, note=note)

    # ---- the model and its synth --------------------------------------------------------------
    def attach(self, engine: Synth, *, model_dir: str | os.PathLike, note: int | None = None) -> None:
        """Play ``engine`` from now on (the window's "Open model…"): the sliders take its current
        position, learnt controls to neurons the new model lacks are dropped, held keys are forgotten."""
        with self._lock:
            self.engine, self.ae, self.model_dir = engine, engine.ae, Path(model_dir)
            lo, hi = np.asarray(self.ae.latent_range, dtype=np.float64)
            self._lo, self._hi = lo, hi
            c = engine.controls
            self._z = np.clip(np.asarray(c.z, dtype=np.float64), lo, hi)
            self._volume, self._bend = float(c.volume), float(c.bend)
            self._method, self._hold, self._pedal = engine.method, bool(engine.hold), False
            present = list(self.ae.notes_present) or [0]
            self._note = note_index(note) if note is not None else int(present[0])
            self._held.clear()
            self._cc = {cc: t for cc, t in self._cc.items() if t == "volume" or int(t[1:]) <= self.ae.latent}
            if self._learning not in self.targets():
                self._learning = None
            self._mod = mod_wheel_target(self.model_dir, self.ae.latent)
            self._changed()

    @property
    def latent(self) -> int:
        return self.ae.latent

    def targets(self) -> list[str]:
        """What a control change can be mapped to: ``["z1", .., "zd", "volume"]``."""
        return [f"z{i + 1}" for i in range(self.ae.latent)] + ["volume"]

    def _changed(self) -> None:
        self.revision += 1

    # ---- reading -------------------------------------------------------------------------
    def state(self) -> SessionState:
        """A consistent copy of the whole state."""
        with self._lock:
            return SessionState(self.revision, tuple(float(v) for v in self._z), self._note, self._octave,
                                self._volume, self._method, self._hold, frozenset(self._held), self._bend, self._pedal,
                                tuple(sorted(self._cc.items())), self._learning, self._mod)

    @property
    def z(self) -> np.ndarray:
        """The latent position, shape (latent,) (a copy)."""
        with self._lock:
            return self._z.copy()

    @property
    def octave(self) -> int:
        """The computer keys' octave, 1..7 (C4 = middle C); the window shows it, never keeps its own."""
        return self._octave

    @property
    def cc_map(self) -> dict[int, str]:
        """MIDI learn: control change number -> target (a copy)."""
        with self._lock:
            return dict(self._cc)

    # ---- notes -------------------------------------------------------------------------
    def note_on(self, note: int, velocity: int = 100) -> None:
        """Key ``note`` (MIDI, 21-108) down at ``velocity`` (1-127; 0 is a note-off, as in MIDI)."""
        if isinstance(velocity, bool) or not isinstance(velocity, (int, np.integer)) or not 0 <= velocity <= 127:
            raise ParameterError(f"velocity={velocity!r} must be an integer from 0 to 127")
        note = _check_note(note)
        if velocity == 0:
            return self.note_off(note)
        with self._lock:
            self.engine.note_on(note, int(velocity))
            self._held.add(note)
            self._note = note % 12
            self._changed()

    def note_off(self, note: int) -> None:
        """Key ``note`` up (in hold mode the drone goes on until the next note)."""
        note = _check_note(note)
        with self._lock:
            self.engine.note_off(note)
            self._held.discard(note)
            self._changed()

    def midi_note(self, pitch_class: int) -> int:
        """MIDI number of ``pitch_class`` (0-12; 12 is the next C) in the keys' octave (C4 = 60)."""
        return 12 * (self._octave + 1) + int(pitch_class)

    def press(self, pitch_class: int, velocity: int = 100) -> int:
        """A computer key or note button down: ``pitch_class`` (0-12) in the current octave; returns the MIDI note."""
        if isinstance(pitch_class, bool) or not isinstance(pitch_class, (int, np.integer)) or not 0 <= pitch_class <= 12:
            raise ParameterError(f"pitch class {pitch_class!r} must be from 0 (C) to 12 (the next C)")
        with self._lock:
            midi = self.midi_note(pitch_class)
            self.note_on(midi, velocity)
            return midi

    def select_note(self, note: int | str) -> None:
        """Select pitch class ``note`` (0-11 or a name); in hold mode it drones in the keys' octave."""
        with self._lock:
            self._note = note_index(note)
            if self._hold:
                self.engine.note_on(self.midi_note(self._note), 100)
            self._changed()

    def set_octave(self, octave: int) -> None:
        """The computer keys' octave, clamped to 1..7."""
        if isinstance(octave, bool) or not isinstance(octave, (int, np.integer)):
            raise ParameterError(f"octave={octave!r} must be an integer")
        with self._lock:
            self._octave = max(OCTAVE_MIN, min(OCTAVE_MAX, int(octave)))
            self._changed()

    def set_hold(self, on: bool) -> None:
        """Hold (drone) mode; turning it on drones the selected note, turning it off releases it."""
        with self._lock:
            self._hold = bool(on)
            self.engine.set_hold(self._hold)
            if self._hold:
                self.engine.note_on(self.midi_note(self._note), 100)
            self._changed()

    def pitch_bend(self, value: float) -> None:
        """Bend every voice, ``value`` from -1 to 1 (±2 semitones)."""
        with self._lock:
            self.engine.pitch_bend(value)
            self._bend = float(value)
            self._changed()

    def sustain(self, down: bool) -> None:
        """Sustain pedal down or up."""
        with self._lock:
            self._pedal = bool(down)
            self.engine.sustain(self._pedal)
            self._changed()

    def all_off(self, *, fast: bool = False) -> None:
        """Release every note (quickly when ``fast``) and forget the keys held."""
        with self._lock:
            self.engine.all_notes_off(fast=fast)
            self._held.clear()
            self._changed()

    # ---- timbre and level ---------------------------------------------------------------
    def move_sliders(self, z: Sequence[float] | np.ndarray) -> np.ndarray:
        """Move every slider: ``z`` shape (latent,), clipped to the model's range, then the synth's ``set_z``;
        returns what was set."""
        z = np.array(z, dtype=np.float64).reshape(-1)
        if z.shape[0] != self.ae.latent:
            raise ParameterError(f"z has {z.shape[0]} values; the model has {self.ae.latent} latent neurons")
        if not np.isfinite(z).all():
            raise ParameterError(f"z={z.tolist()} must hold finite numbers")
        with self._lock:
            self._z = np.clip(z, self._lo, self._hi)
            self.engine.set_z(self._z.copy())
            self._changed()
            return self._z.copy()

    def move_slider(self, index: int, value: float) -> float:
        """Move slider ``index`` (0-based) to ``value``, clipped to its range; returns what was set."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < self.ae.latent:
            raise ParameterError(f"neuron index {index!r} must be from 0 to {self.ae.latent - 1}")
        v = float(value)
        if not math.isfinite(v):
            raise ParameterError(f"z{index + 1}={value!r} must be a finite number")
        with self._lock:
            z = self._z.copy()
            z[index] = v
            return float(self.move_sliders(z)[index])

    def set_volume(self, volume: float) -> None:
        """Master volume, 0..1."""
        v = check_volume(volume)
        with self._lock:
            self.engine.set_volume(v)
            self._volume = v
            self._changed()

    def set_method(self, method: str) -> None:
        """Synthesis method, one of :data:`manne.synth.limits.METHODS`."""
        m = check_method(method)
        with self._lock:
            self.engine.set_method(m)
            self._method = m
            self._changed()

    # ---- presets -------------------------------------------------------------------------
    def preset(self) -> Preset:
        """The sound now playing, with the MIDI-learn map, as a :class:`~manne.synth.presets.Preset`."""
        with self._lock:
            return Preset(model=str(self.model_dir.resolve()), z=[float(v) for v in self._z],
                          note=NOTE_NAMES[self._note], volume=round(self._volume, 4), phase=self._method,
                          midi=tuple(sorted(self._cc.items())))

    def apply_preset(self, preset: Preset) -> None:
        """Sliders, note, volume, method and (when the preset has one) the MIDI-learn map from ``preset``.

        Raises
        ------
        ParameterError
            If the preset has another number of latent values than the model.
        """
        if len(preset.z) != self.ae.latent:
            raise ParameterError(f"preset z has {len(preset.z)} values; the model {self.model_dir.name} has "
                                 f"{self.ae.latent}")
        midi = check_cc_map(preset.midi, latent=self.ae.latent)
        with self._lock:
            self.move_sliders(preset.z)
            self.set_volume(preset.volume)
            self.set_method(preset.phase)
            self.select_note(preset.note_index)
            if midi:
                self.set_cc_map(midi)

    def load_preset(self, path: str | os.PathLike) -> Preset:
        """Read a preset file and apply it to the model playing (its z must fit this model)."""
        preset = load_preset(path, ae=self.ae)
        self.apply_preset(preset)
        return preset

    # ---- counts ------------------------------------------------------------------------
    def count(self, kind: str, problem: str = "") -> None:
        """Count one input message: ``kind`` is an :class:`InputCounts` field; ``problem`` says why it was refused."""
        with self._lock:
            setattr(self.counts, kind, getattr(self.counts, kind) + 1)
            if problem:
                self.counts.last_problem = problem
            self._changed()

    @staticmethod
    def _check_octave(octave) -> int:
        if isinstance(octave, bool) or not isinstance(octave, (int, np.integer)) or not OCTAVE_MIN <= octave <= OCTAVE_MAX:
            raise ParameterError(f"octave={octave!r} must be from {OCTAVE_MIN} to {OCTAVE_MAX}")
        return int(octave)


def _check_note(note) -> int:
    if isinstance(note, bool) or not isinstance(note, (int, np.integer)) or not NOTE_MIN <= note <= NOTE_MAX:
        raise ParameterError(f"note={note!r} must be a MIDI note number from {NOTE_MIN} (A0) to {NOTE_MAX} (C8)")
    return int(note)
