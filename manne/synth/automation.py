"""A performance written down: latent keyframes and note events, from a CSV file or from code.

A CSV file has one row per line (a first row whose first cell is not a number is a header; blank
lines and lines starting with ``#`` are skipped):

==========================================  ====================================================
row                                         meaning
==========================================  ====================================================
``time, z1, .., zd, note``                  a keyframe: the sliders, and a held note (manne 0.1's
                                            format; the note is a name with its octave ``E4``, a
                                            pitch class ``E`` / 0-11 played in octave 4, or a MIDI
                                            number >= 12). It sounds until the next keyframe's note.
``time, z, z1, .., zd``                     a keyframe of the sliders only
``time, on, NOTE[, VELOCITY]``              note-on (velocity 1-127, default 100)
``time, off, NOTE``                         note-off
``time, bend, VALUE``                       pitch bend, -1..1 (two semitones)
``time, pedal, 1|0``                        sustain pedal down or up
==========================================  ====================================================

Times are seconds, from 0 to the longest render (``RENDER_SECONDS_MAX``, 3600), non-decreasing within
the keyframes and within the events. Between keyframes
the sliders are interpolated linearly; before the first and after the last they are held. A
damaged file (binary, not UTF-8) fails with one line naming it.

NumPy only.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import numpy as np

from manne.errors import ParameterError
from manne.io.files import read_csv_rows
from manne.synth.limits import RENDER_SECONDS_MAX, check_latent_range
from manne.synth.pitch import midi_note

__all__ = ["Automation", "Event", "keyframes", "parse_rows", "read_automation", "perform", "play_note", "note_number",
           "EVENT_KINDS"]

EVENT_KINDS = ("on", "off", "bend", "pedal")
DEFAULT_OCTAVE = 4


class Event(NamedTuple):
    time: float
    kind: str  # one of EVENT_KINDS
    value: float  # the MIDI note (on, off), the bend (-1..1) or the pedal (0, 1)
    velocity: int = 100


class Automation(NamedTuple):
    """Checked keyframes (``K >= 0``) and note events, times in seconds."""

    times: np.ndarray  # (K,) float64
    z: np.ndarray  # (K, latent) float64
    events: tuple[Event, ...]

    @property
    def end(self) -> float:
        """The time of the last keyframe or event, in seconds."""
        last = [float(self.times[-1])] if len(self.times) else []
        return max(last + [e.time for e in self.events] + [0.0])

    def z_at(self, t: float | np.ndarray) -> np.ndarray:
        """The sliders at time(s) ``t``: shape (latent,) or (n, latent), interpolated linearly."""
        t = np.asarray(t, dtype=np.float64)
        return np.stack([np.interp(t, self.times, self.z[:, j]) for j in range(self.z.shape[1])], axis=-1)


def note_number(cell: Any, octave: int = DEFAULT_OCTAVE) -> int:
    """A MIDI note from ``E4``, ``60``, or a pitch class (``E``, ``Bb``, 0-11, played in ``octave``)."""
    from manne.dsp import note_index

    s = str(cell).strip()
    if s.lstrip("-").isdigit() and int(s) >= 12:
        return midi_note(int(s))
    try:
        return 12 * (octave + 1) + note_index(s)
    except ParameterError:
        return midi_note(s)


def note_option(text: Any, *, octave: int = DEFAULT_OCTAVE, name: str = "--note") -> int:
    """:func:`note_number` of a command-line value, within the instrument's range.

    Raises
    ------
    ParameterError
        Naming ``name`` and the value, if it is no note or lies outside A0..C8.
    """
    from manne.synth.controls import NOTE_MAX, NOTE_MIN

    try:
        note = note_number(text, octave)
    except ParameterError:
        raise ParameterError(f"{name} {text!r} is not a note; give a name with its octave (C4, F#2, Bb3), a MIDI "
                             "number (60) or a pitch class (E, 0-11)") from None
    if not NOTE_MIN <= note <= NOTE_MAX:
        raise ParameterError(f"{name} {text} is MIDI note {note}; the instrument plays {NOTE_MIN} (A0) to "
                             f"{NOTE_MAX} (C8)")
    return note


def _columns(latent: int) -> str:
    return f"time, z1..z{latent}, note ({latent + 2}); or time, z, z1..z{latent}; or time, on|off|bend|pedal, ..."


def parse_rows(rows: Sequence[Sequence[Any]], *, latent: int, latent_range: Sequence[Sequence[float]] | None = None,
               source: str | None = None, labels: Sequence[str] | None = None) -> Automation:
    """Check rows (see the module's docstring) and return them as an :class:`Automation`.

    A keyframe row with a note becomes a keyframe plus the events that hold that note: note-off of
    the previous keyframe's note and note-on of its own, when the note changes.

    Raises
    ------
    ParameterError
        Naming the row, its value and the rule it breaks.
    """
    d = int(latent)
    rows = list(rows)
    head = f"{source}: " if source else ""
    if not rows:
        raise ParameterError(f"{head}the automation is empty (rows of {_columns(d)})")
    lo, hi = latent_range if latent_range is not None else (None, None)
    times: list[float] = []
    Z: list[list[float]] = []
    events: list[Event] = []
    held: int | None = None
    for i, row in enumerate(rows):
        where = head + (labels[i] if labels is not None else f"row {i + 1}")
        row = [str(c).strip() if isinstance(c, str) else c for c in row]
        try:
            t = float(row[0])
        except (TypeError, ValueError, IndexError):
            raise ParameterError(f"{where}: the time {row[0] if row else ''!r} is not a number") from None
        if not (math.isfinite(t) and t >= 0):
            raise ParameterError(f"{where}: time {row[0]} must be a number >= 0")
        if t > RENDER_SECONDS_MAX:  # the longest render: a later row could only allocate memory for nothing
            raise ParameterError(f"{where}: time {row[0]} s is past the longest render ({RENDER_SECONDS_MAX:g} s)")
        kind = str(row[1]).lower() if len(row) > 1 else ""
        try:
            if kind in EVENT_KINDS:
                if events and t < events[-1].time:
                    raise ParameterError(f"time {t:g} is earlier than the previous event ({events[-1].time:g})")
                events.append(_event(t, kind, row[2:]))
                continue
            z_cells = row[2 : d + 2] if kind == "z" else row[1 : d + 1]
            if len(row) != d + 2:
                raise ParameterError(f"{len(row)} values; expected {_columns(d)}")
            z = [float(v) for v in z_cells]
            if times and t < times[-1]:
                raise ParameterError(f"time {t:g} is earlier than the previous keyframe ({times[-1]:g})")
            for j, v in enumerate(z, start=1):
                if not math.isfinite(v):
                    raise ParameterError(f"z{j}={v} must be a finite number")
            if lo is not None:
                check_latent_range(z, lo, hi, where="sliders")
            if kind != "z":
                note = note_number(row[-1])
                if note != held:
                    if held is not None:
                        events.append(Event(t, "off", held))
                    events.append(Event(t, "on", note))
                    held = note
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"{where}: {exc}") from None
        times.append(t)
        Z.append(z)
    events.sort(key=lambda e: e.time)  # stable: keyframe notes and event rows keep their order at one time
    return Automation(np.asarray(times, dtype=np.float64), np.asarray(Z, dtype=np.float64).reshape(-1, d), tuple(events))


def _event(t: float, kind: str, cells: Sequence[Any]) -> Event:
    if kind in ("on", "off"):
        if not cells or len(cells) > (2 if kind == "on" else 1):
            raise ParameterError(f"'{kind}' takes a note{' and an optional velocity' if kind == 'on' else ''}")
        velocity = 100
        if len(cells) == 2:
            v = float(cells[1])
            if not (math.isfinite(v) and 1 <= v <= 127):  # (NaN and Inf too: no integer to convert them to)
                raise ParameterError(f"velocity {cells[1]} must be from 1 to 127")
            velocity = int(v)
        return Event(t, kind, note_number(cells[0]), velocity)
    if len(cells) != 1:
        raise ParameterError(f"'{kind}' takes one value")
    v = float(cells[0])
    if kind == "bend" and not (math.isfinite(v) and -1 <= v <= 1):
        raise ParameterError(f"bend {cells[0]} must be from -1 to 1")
    if kind == "pedal" and v not in (0, 1):
        raise ParameterError(f"pedal {cells[0]} must be 1 (down) or 0 (up)")
    return Event(t, kind, v)


def keyframes(rows: Sequence[Sequence[Any]], *, latent: int, latent_range: Sequence[Sequence[float]] | None = None,
              source: str | None = None, labels: Sequence[str] | None = None) -> Automation:
    """Rows given in code, ``(time_s, z_1, ..., z_latent, note)`` or event rows: :func:`parse_rows`."""
    return parse_rows(rows, latent=latent, latent_range=latent_range, source=source, labels=labels)


def read_automation(path: str | os.PathLike, *, latent: int,
                    latent_range: Sequence[Sequence[float]] | None = None) -> Automation:
    """Read and check an automation CSV file (see the module's docstring for its format).

    A row is named in messages by its number and its cells: ``auto.csv: row 2 (1, 0.1, x, C):
    could not convert string to float: 'x'``.

    Raises
    ------
    ParameterError
        If the file is missing, not CSV text, empty, or a row breaks a rule.
    """
    p = Path(path)
    rows = read_csv_rows(p, error=ParameterError, what="automation file")
    if rows and not _is_number(rows[0][0]):
        rows = rows[1:]
    labels = [f"row {i} ({', '.join(row)})" for i, row in enumerate(rows, start=1)]
    return parse_rows(rows, latent=latent, latent_range=latent_range, source=str(p), labels=labels)


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def perform(synth, automation: Automation, *, seconds: float) -> np.ndarray:
    """Play ``automation`` on ``synth`` (a :class:`~manne.synth.instrument.Synth`) for ``seconds``.

    Events take effect at the start of the block they fall in (a block is 2.9 ms at the default
    128 samples); the sliders are set, each block, to their keyframed value at the block's end (the
    voices crossfade to it across the block).

    Returns
    -------
    y : np.ndarray, shape (round(seconds * sr),), float32
    """
    sr, B = synth.sr, synth.block
    n = int(round(seconds * sr))
    out = np.empty(n, dtype=np.float32)
    events, k = automation.events, 0
    keyed = len(automation.times) > 0
    pos = 0
    while pos < n:
        end = (pos + B) / sr
        while k < len(events) and events[k].time < end:
            e = events[k]
            if e.kind == "on":
                synth.note_on(int(e.value), e.velocity)
            elif e.kind == "off":
                synth.note_off(int(e.value))
            elif e.kind == "bend":
                synth.pitch_bend(e.value)
            else:
                synth.sustain(bool(e.value))
            k += 1
        if keyed:
            synth.set_z(automation.z_at(end))
        take = min(B, n - pos)
        out[pos : pos + take] = synth.process(take)
        pos += take
    return out


def play_note(synth, z, note: int, *, velocity: int = 100, seconds: float) -> np.ndarray:
    """One note at sliders ``z``, as ``manne render --z --note`` plays it: struck at 0 s and released so
    that its release ends with the render (at half the length when the release is longer than that).

    Parameters
    ----------
    synth : :class:`~manne.synth.instrument.Synth`, fresh (nothing sounding)
    z : array-like, shape (latent,)
    note : int, the MIDI note; velocity : int, 1-127; seconds : float, the render's length

    Returns
    -------
    y : np.ndarray, shape (round(seconds * sr),), float32
    """
    off = max(seconds / 2, seconds - synth.adsr.release)
    auto = Automation(np.zeros(1), np.asarray([z], dtype=np.float64).reshape(1, -1),
                      (Event(0.0, "on", int(note), int(velocity)), Event(off, "off", int(note))))
    return perform(synth, auto, seconds=seconds)
