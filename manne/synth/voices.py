"""Voices: which notes sound, their envelopes' clocks, and which voice a new note takes.

A :class:`VoiceBank` owns ``2 * polyphony`` voice slots, so a note stolen or released can fade out
while the note that replaced it starts. At most ``polyphony`` voices are *held* at once: a note-on
beyond that releases the oldest held voice quickly (:data:`~manne.synth.envelope.FAST_RELEASE_S`).
The sustain pedal defers note-offs until it is lifted. Everything here runs on the audio thread.
"""

from __future__ import annotations

import numpy as np

from manne.synth.envelope import FAST_RELEASE_S, ADSR
from manne.synth.wavetable import TABLE_SIZE

__all__ = ["Voice", "VoiceBank", "POLYPHONY"]

POLYPHONY = 8


class Voice:
    """One sounding note (audio-thread state). ``active`` is False for a free slot."""

    __slots__ = ("active", "note", "pitch_class", "gain", "started", "t_on", "released", "t_off",
                 "rel_level", "rel_time", "pedal_held", "phase", "inc", "table", "prev", "fresh", "xfade", "amps")

    def __init__(self) -> None:
        self.active = False
        self.table = np.zeros(TABLE_SIZE + 1, dtype=np.float32)  # the period now playing
        self.prev = np.zeros(TABLE_SIZE + 1, dtype=np.float32)  # the period it crossfades from
        self.amps: np.ndarray | None = None  # the harmonic amplitudes its table was built from
        self.note = 0
        self.pitch_class = 0
        self.gain = 0.0
        self.started = 0  # note-on order, for stealing the oldest
        self.t_on = 0  # samples since note-on
        self.released = False
        self.t_off = 0  # samples since note-off
        self.rel_level = 0.0
        self.rel_time = 0.0
        self.pedal_held = False  # note-off came while the sustain pedal was down
        self.phase = 0.0  # cycles, [0, 1)
        self.inc = 0.0  # cycles per sample at the end of the last block
        self.fresh = True  # no block rendered yet
        self.xfade = False  # crossfade from ``prev`` to ``table`` in the next block

    def level(self, adsr: ADSR, sr: int) -> float:
        """The envelope's level now (at the end of the last block)."""
        if self.released:
            return float(adsr.released(self.t_off / sr, self.rel_level, release=self.rel_time))
        return float(adsr.held(self.t_on / sr))

    def release(self, adsr: ADSR, sr: int, *, seconds: float | None = None) -> None:
        if self.released:
            if seconds is not None and seconds < self.rel_time:  # speed up a release in progress
                self.rel_level = self.level(adsr, sr)
                self.t_off, self.rel_time = 0, seconds
            return
        self.rel_level = self.level(adsr, sr)
        self.released, self.t_off = True, 0
        self.rel_time = adsr.release if seconds is None else seconds


class VoiceBank:
    """Note-on/off bookkeeping over a fixed set of voice slots.

    Parameters
    ----------
    polyphony : int, notes held at once
    adsr : ADSR
    sr : int
    """

    def __init__(self, polyphony: int = POLYPHONY, *, adsr: ADSR, sr: int):
        self.polyphony = int(polyphony)
        self.adsr, self.sr = adsr, int(sr)
        self.voices = [Voice() for _ in range(2 * self.polyphony)]
        self.pedal = False
        self._count = 0

    def held(self) -> list[Voice]:
        return [v for v in self.voices if v.active and not v.released]

    def sounding(self) -> list[Voice]:
        return [v for v in self.voices if v.active]

    def note_on(self, note: int, gain: float, pitch_class: int) -> Voice:
        """Start ``note``; returns its voice (a free slot, or the oldest releasing one)."""
        for v in self.held():
            if v.note == note:  # the same key again: the old strike fades as the new one starts
                v.release(self.adsr, self.sr, seconds=FAST_RELEASE_S)
        held = self.held()
        if len(held) >= self.polyphony:
            min(held, key=lambda v: v.started).release(self.adsr, self.sr, seconds=FAST_RELEASE_S)
        free = [v for v in self.voices if not v.active]
        if free:
            v = free[0]
        else:  # every slot is sounding: reuse the quietest releasing one
            v = min((v for v in self.voices if v.released), key=lambda v: v.level(self.adsr, self.sr))
        self._count += 1
        v.active, v.note, v.pitch_class, v.gain, v.started = True, int(note), int(pitch_class), float(gain), self._count
        v.t_on, v.released, v.t_off, v.pedal_held = 0, False, 0, False
        v.phase, v.inc, v.fresh, v.xfade, v.amps = 0.0, 0.0, True, False, None
        return v

    def note_off(self, note: int) -> None:
        for v in self.held():
            if v.note == note:
                if self.pedal:
                    v.pedal_held = True
                else:
                    v.release(self.adsr, self.sr)

    def set_pedal(self, down: bool) -> None:
        self.pedal = bool(down)
        if not self.pedal:
            for v in self.held():
                if v.pedal_held:
                    v.release(self.adsr, self.sr)

    def release_all(self, *, seconds: float | None = None) -> None:
        for v in self.held():
            v.release(self.adsr, self.sr, seconds=seconds)
        self.pedal = False

    def advance(self, n: int) -> None:
        """Move every clock ``n`` samples on; free voices whose release has ended."""
        for v in self.voices:
            if not v.active:
                continue
            v.t_on += n
            if v.released:
                v.t_off += n
                if v.t_off >= v.rel_time * self.sr:
                    v.active = False
