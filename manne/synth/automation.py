"""Keyframed controls: rows of ``time, z1 .. zd, note``, from a CSV file or from code, checked once.

A keyframe sets the latent code and the note at a time in seconds. Between keyframes ``z`` is
interpolated linearly and the note is held until the next keyframe; before the first keyframe
and after the last the values are held. :func:`keyframes` checks rows given in code (what
:meth:`manne.synth.engine.Engine.render_automation` takes), :func:`read_automation` reads a CSV
file (what ``manne render --automation`` takes) and checks its rows the same way; both return an
:class:`Automation` of arrays.

A CSV file has one keyframe per row, ``time, z1, .., zd, note`` (a note name such as ``E`` or
``F#``, or a number 0-11). A first row whose time is not a number is a header; blank lines and
lines starting with ``#`` are skipped. A damaged file (binary, not UTF-8) fails with one line
naming it.

NumPy only.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import numpy as np

from manne.dsp import note_index
from manne.errors import ParameterError
from manne.io.files import read_csv_rows
from manne.synth.limits import check_latent_range

__all__ = ["Automation", "keyframes", "read_automation"]


class Automation(NamedTuple):
    """Checked keyframes: ``K >= 1`` rows, times non-decreasing from 0."""

    times: np.ndarray  # (K,) float64, seconds
    z: np.ndarray  # (K, latent) float64
    notes: np.ndarray  # (K,) int64, pitch classes 0-11

    @property
    def end(self) -> float:
        """The time of the last keyframe, in seconds."""
        return float(self.times[-1])

    def at(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The controls at times ``t`` (n,), seconds: ``z`` (n, latent) interpolated linearly and
        ``notes`` (n,) held from the latest keyframe at or before each time."""
        z = np.stack([np.interp(t, self.times, self.z[:, j]) for j in range(self.z.shape[1])], axis=1)
        i = np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, len(self.notes) - 1)
        return z, self.notes[i]


def _columns(latent: int) -> str:
    return f"time, z1..z{latent}, note ({latent + 2})"


def keyframes(rows: Sequence[Sequence[Any]], *, latent: int, latent_range: Sequence[Sequence[float]] | None = None,
              source: str | None = None, labels: Sequence[str] | None = None) -> Automation:
    """Check keyframe rows and return them as arrays.

    Parameters
    ----------
    rows : sequence of ``(time_s, z_1, ..., z_latent, note)``
        Times are numbers >= 0 in non-decreasing order; ``note`` is 0-11 or a name.
    latent : int
        The model's number of latent neurons.
    latent_range : array-like, shape (2, latent), optional
        When given, every ``z`` must lie in it (:func:`manne.synth.limits.check_latent_range`).
    source : str, optional
        Where the rows come from (a file name), to begin each message.
    labels : sequence of str, optional
        How to name each row in a message (default ``keyframe 1``, ``keyframe 2``, ...).

    Returns
    -------
    Automation

    Raises
    ------
    ParameterError
        Naming the keyframe, its value and the rule it breaks.
    """
    d = int(latent)
    rows = list(rows)
    head = f"{source}: " if source else ""
    if not rows:
        raise ParameterError(f"{head}the automation has no keyframes (rows of {_columns(d)})")
    lo, hi = latent_range if latent_range is not None else (None, None)
    times: list[float] = []
    Z, notes = np.empty((len(rows), d), dtype=np.float64), np.empty(len(rows), dtype=np.int64)
    for i, row in enumerate(rows):
        where = head + (labels[i] if labels is not None else f"keyframe {i + 1}")
        row = list(row)
        if len(row) != d + 2:
            raise ParameterError(f"{where}: {len(row)} values; expected {_columns(d)}")
        try:
            t = float(row[0])
            z = [float(v) for v in row[1 : d + 1]]
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"{where}: {exc}") from None
        if not (math.isfinite(t) and t >= 0):
            raise ParameterError(f"{where}: time {row[0]} must be a number >= 0")
        if times and t < times[-1]:
            raise ParameterError(f"{where}: time {t:g} is earlier than the previous keyframe ({times[-1]:g})")
        for j, v in enumerate(z, start=1):
            if not math.isfinite(v):
                raise ParameterError(f"{where}: z{j}={v} must be a finite number")
        if lo is not None:
            check_latent_range(z, lo, hi, where=where)
        try:
            notes[i] = note_index(row[-1])
        except ParameterError as exc:
            raise ParameterError(f"{where}: {exc}") from None
        times.append(t)
        Z[i] = z
    return Automation(np.asarray(times, dtype=np.float64), Z, notes)


def read_automation(path: str | os.PathLike, *, latent: int,
                    latent_range: Sequence[Sequence[float]] | None = None) -> Automation:
    """Read and check an automation CSV file (see the module's docstring for its format).

    A keyframe is named in messages by its number and its cells: ``auto.csv: keyframe 2 (1, 0.1,
    x, C): could not convert string to float: 'x'``.

    Raises
    ------
    ParameterError
        If the file is missing, not CSV text, has no keyframes, or a row breaks a rule.
    """
    p = Path(path)
    rows = read_csv_rows(p, error=ParameterError, what="automation file")
    if rows and not _is_number(rows[0][0]):
        if len(rows[0]) != latent + 2:
            raise ParameterError(f"{p}: the header has {len(rows[0])} columns; expected {_columns(latent)}")
        rows = rows[1:]
    labels = [f"keyframe {i} ({', '.join(row)})" for i, row in enumerate(rows, start=1)]
    return keyframes(rows, latent=latent, latent_range=latent_range, source=str(p), labels=labels)


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False
