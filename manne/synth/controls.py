"""The instrument's control side: what the GUI, MIDI, OSC and the command line call.

Every method here runs on the control thread and returns at once: note events are appended to
the synth's event queue (a ``collections.deque``: ``append`` is atomic in CPython, so no event is
lost), continuous controls are swapped in as one immutable :class:`Controls` snapshot. The audio
thread (:mod:`manne.synth.instrument`) drains the queue and reads the snapshot once per block.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np

from manne.errors import ParameterError
from manne.synth.limits import BLOCK_MAX, BLOCK_MIN, METHODS  # harmonic: wavetables; noise, coherent, rtpghi: inverse STFT

__all__ = ["Controls", "ControlSide", "METHODS", "BLOCK_MIN", "BLOCK_MAX", "NOTE_MIN", "NOTE_MAX", "BEND_SEMITONES"]

NOTE_MIN, NOTE_MAX = 21, 108  # A0 .. C8, a piano's range
BEND_SEMITONES = 2.0


class Controls(NamedTuple):
    """The continuous controls, swapped in whole by the control thread."""

    z: np.ndarray  # (latent,) float64, read-only
    volume: float
    bend: float  # -1 .. 1


class ControlSide:
    """Mixin of :class:`~manne.synth.instrument.Synth`: the control thread's methods."""

    @property
    def controls(self) -> Controls:
        return self._controls

    def note_on(self, note: int, velocity: int = 100) -> None:
        """Start MIDI ``note`` (21-108) at ``velocity`` (1-127; 0 is a note-off, as in MIDI)."""
        note, velocity = self._check_note(note), int(velocity)
        if not 0 <= velocity <= 127:
            raise ParameterError(f"velocity={velocity} must be from 0 to 127")
        self._events.append(("on", note, velocity) if velocity else ("off", note, 0))

    def note_off(self, note: int) -> None:
        """Release MIDI ``note``; its envelope's release follows."""
        self._events.append(("off", self._check_note(note), 0))

    def pitch_bend(self, value: float) -> None:
        """Bend every voice by ``value`` * 2 semitones; ``value`` from -1 to 1."""
        v = float(value)
        if not (math.isfinite(v) and -1.0 <= v <= 1.0):
            raise ParameterError(f"pitch bend {value} must be from -1 to 1")
        self._controls = self._controls._replace(bend=v)

    def sustain(self, down: bool) -> None:
        """Sustain pedal: while down, note-offs wait until it is lifted."""
        self._events.append(("pedal", bool(down), 0))

    def all_notes_off(self, *, fast: bool = False) -> None:
        """Release every held note (quickly, without a click, when ``fast``)."""
        self._events.append(("all_off", bool(fast), 0))

    def set_hold(self, on: bool) -> None:
        """Hold (drone) mode: a note sounds until the next note-on, note-offs are ignored; turning
        it off releases the drone."""
        self._events.append(("hold", bool(on), 0))

    def set_z(self, z: Sequence[float] | np.ndarray) -> None:
        """Set the latent code, shape (latent,); sounding voices take the new timbre within a block."""
        z = np.array(z, dtype=np.float64).reshape(-1)
        if z.shape[0] != self.ae.latent:
            raise ParameterError(f"z has {z.shape[0]} values; the model has {self.ae.latent} latent neurons")
        if not np.isfinite(z).all():
            raise ParameterError(f"z={z.tolist()} must hold finite numbers")
        z.setflags(write=False)
        self._controls = self._controls._replace(z=z)

    def set_volume(self, volume: float) -> None:
        """Master volume, 0..1; ramped across a block."""
        v = float(volume)
        if not (math.isfinite(v) and 0.0 <= v <= 1.0):
            raise ParameterError(f"volume={volume} must be between 0 and 1")
        self._controls = self._controls._replace(volume=v)

    def fade_out(self) -> None:
        """Fade the whole output to silence in ``FAST_RELEASE_S`` (before a pause or a stream stop)."""
        self._fade_target = 0.0

    def fade_in(self) -> None:
        """Fade the output back in (after :meth:`fade_out`)."""
        self._fade_target = 1.0

    @property
    def silent(self) -> bool:
        """True once a :meth:`fade_out` has reached silence."""
        return self._fade == 0.0 and self._fade_target == 0.0

    def _check_method(self, method: str) -> str:
        if method not in METHODS:
            raise ParameterError(f"method={method!r} must be one of {', '.join(METHODS)}")
        return method

    def _check_note(self, note) -> int:
        if isinstance(note, bool) or not isinstance(note, (int, np.integer)) or not NOTE_MIN <= note <= NOTE_MAX:
            raise ParameterError(f"note={note!r} must be a MIDI note number from {NOTE_MIN} (A0) to {NOTE_MAX} (C8)")
        return int(note)

    def set_method(self, method: str) -> None:
        """Switch the synthesis method (one of :data:`~manne.synth.limits.METHODS`) from the next block on."""
        self._events.append(("method", self._check_method(method), 0))

    def set_note(self, note: int, *, octave: int = 4) -> None:
        """The drone of hold mode: play pitch class ``note`` (0-11) in ``octave`` until the next note."""
        from manne.dsp import note_index

        self.set_hold(True)
        self.note_on(12 * (octave + 1) + note_index(note), 100)

    def start_recording(self, path, *, force: bool = False) -> None:
        """Collect what is played from now on; :meth:`stop_recording` writes it (see
        :class:`~manne.synth.recorder.Recorder`)."""
        self._recorder.start(path, force=force)

    def stop_recording(self):
        """Write the take (faded at both ends) and return its path, or None if none was running."""
        return self._recorder.stop()

    @property
    def recording(self) -> bool:
        return self._recorder.active

    @property
    def recorded_seconds(self) -> float:
        return self._recorder.seconds

    @property
    def last_spectrum(self) -> np.ndarray:
        """What plays now, as a magnitude spectrum; see :meth:`spectrum`."""
        return self.spectrum()

    def spectrum(self, n_bins: int | None = None) -> np.ndarray:
        """Magnitude of what plays now (the sounding voices' harmonics), shape (n_bins,); control thread."""
        a = self.ae.analysis
        n_bins = a.n_bins if n_bins is None else int(n_bins)
        S = np.zeros(n_bins, dtype=np.float32)
        bin_hz = a.sr / a.n_fft
        for f, amps in self.playing:
            pos = np.rint(f * np.arange(1, len(amps) + 1) / bin_hz).astype(np.intp)
            ok = pos < n_bins
            np.add.at(S, pos[ok], amps[ok])
        return S

