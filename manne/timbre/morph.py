"""Morphs: a path through the timbre space from one sound to another, played by the instrument.

A source is a series of codes over time (an audio file: each loud frame encoded with its own note)
or a single code (a landmark's mean, a preset's sliders). A morph of ``n`` steps walks from A to B:
at step ``k``, ``t = k / (n - 1)``,

* each source's series is read at fraction ``t`` of its own length (linear interpolation between
  neighbouring frames, so an audio file's first frame is at the start and its last at the end:
  both files are stretched or squeezed to the morph's length), giving ``a(t)`` and ``b(t)``;
* they are blended with weight ``t``:

  - ``linear``: ``z = (1 - t) a + t b``;
  - ``spherical``: about the centre ``c`` of the latent range (``(lo + hi) / 2``), the directions of
    ``a - c`` and ``b - c`` are slerped and their lengths interpolated linearly,
    ``z = c + (sin((1 - t) w) u_a + sin(t w) u_b) / sin(w) * ((1 - t) |a - c| + t |b - c|)``, with
    ``u`` the unit directions and ``w`` the angle between them; so the path turns at a constant
    rate around the centre instead of cutting across it (the blend is linear where a code sits at
    the centre or the two directions are (anti)parallel);

* ``z`` is clipped to the latent range.

Pure NumPy; :func:`render_morph` plays the path on a :class:`~manne.synth.instrument.Synth`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from manne.errors import ParameterError

__all__ = ["PATHS", "Source", "interpolate", "morph_path", "note_path", "render_morph"]

PATHS = ("linear", "spherical")


class Source(NamedTuple):
    """One end of a morph."""

    label: str
    z: np.ndarray  # (n, latent): codes over time (n = 1 for a fixed point)
    notes: np.ndarray | None  # (n,) MIDI notes of the frames, or one pitch class 0-11 (a preset), or None


def _at(series: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Rows of ``series`` (n, ...) at time fractions ``t`` (m,), linearly interpolated; (m, ...)."""
    n = len(series)
    if n == 1:
        return np.repeat(series, len(t), axis=0)
    pos = np.clip(t, 0.0, 1.0) * (n - 1)
    i = np.minimum(pos.astype(np.int64), n - 2)
    f = (pos - i)[:, None]
    return series[i] * (1 - f) + series[i + 1] * f


def interpolate(a: np.ndarray, b: np.ndarray, w: np.ndarray, *, path: str = "linear",
                centre: np.ndarray | None = None) -> np.ndarray:
    """Blend codes ``a`` and ``b`` (m, latent) with weights ``w`` (m,) in [0, 1] (0: ``a``, 1: ``b``).

    ``spherical``: directions from ``centre`` (default the origin) are slerped, their lengths
    interpolated linearly; where a direction is undefined (a code at the centre) or the two are
    opposite, the blend is linear.
    """
    if path not in PATHS:
        raise ParameterError(f"path={path!r} must be one of {', '.join(PATHS)}")
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)[:, None]
    linear = a * (1 - w) + b * w
    if path == "linear":
        return linear
    c = np.zeros(a.shape[1]) if centre is None else np.asarray(centre, dtype=np.float64)
    da, db = a - c, b - c
    ra, rb = np.linalg.norm(da, axis=1, keepdims=True), np.linalg.norm(db, axis=1, keepdims=True)
    ok = (ra > 1e-9) & (rb > 1e-9)
    ua, ub = da / np.where(ok, ra, 1.0), db / np.where(ok, rb, 1.0)
    cos = np.clip((ua * ub).sum(axis=1, keepdims=True), -1.0, 1.0)
    omega = np.arccos(cos)
    ok &= (omega > 1e-6) & (omega < np.pi - 1e-3)
    s = np.where(ok, np.sin(omega), 1.0)
    u = (np.sin((1 - w) * omega) * ua + np.sin(w * omega) * ub) / s
    out = c + u * (ra * (1 - w) + rb * w)
    return np.where(ok, out, linear)


def morph_path(a: Source, b: Source, n: int, *, path: str = "linear", latent_range: np.ndarray) -> np.ndarray:
    """``n`` codes from ``a`` to ``b``, inside the latent range; shape (n, latent)."""
    lo, hi = (np.asarray(r, dtype=np.float64) for r in latent_range)
    t = np.linspace(0.0, 1.0, int(n))
    z = interpolate(_at(a.z, t), _at(b.z, t), t, path=path, centre=(lo + hi) / 2)
    return np.clip(z, lo, hi)


def note_path(a: Source, b: Source, n: int, *, min_run: int = 1) -> np.ndarray | None:
    """The note at each of ``n`` steps (as the sources give them: MIDI notes, or pitch classes 0-11):
    A's notes in the first half, B's in the second, each read at ``t`` along its own series (a
    source without notes lends the other's); runs shorter than ``min_run`` steps are merged into
    the note before them, so a mislabelled frame does not strike a note. None if neither has notes."""
    if a.notes is None and b.notes is None:
        return None
    t = np.linspace(0.0, 1.0, int(n))

    def series(s: Source, other: Source) -> np.ndarray:
        src = s.notes if s.notes is not None else other.notes
        idx = np.minimum((t * len(src)).astype(np.int64), len(src) - 1)
        return np.asarray(src)[idx]

    notes = np.where(t < 0.5, series(a, b), series(b, a)).astype(np.int64)
    out = notes.copy()
    i = 0
    while i < n:
        j = i
        while j < n and notes[j] == notes[i]:
            j += 1
        if j - i < min_run and i > 0:
            out[i:j] = out[i - 1]
        i = j
    return out


def render_morph(synth, z: np.ndarray, notes: np.ndarray, *, step: int, octave: int = 4, velocity: int = 100,
                 tail_s: float = 0.3) -> np.ndarray:
    """Play codes ``z`` (n, latent), each for ``step`` samples of ``synth`` (a multiple of its block,
    so each code takes effect at a block's start), with pitch classes ``notes`` (n,) in ``octave``
    (or MIDI numbers, above 11) legato: a new note is struck before the old one is released. The
    last note is released and ``tail_s`` of its release kept.

    Returns
    -------
    y : np.ndarray, shape (n * step + round(tail_s * sr),), float32
    """
    if step < synth.block or step % synth.block:
        raise ParameterError(f"step={step} must be a multiple of the synth's block ({synth.block})")
    out = []
    playing = None
    for k in range(len(z)):
        note = int(notes[k])
        midi = note if note > 11 else 12 * (octave + 1) + note
        if midi != playing:
            synth.note_on(midi, velocity)
            if playing is not None:
                synth.note_off(playing)
            playing = midi
        synth.set_z(z[k])
        out.append(synth.process(step))
    if playing is not None:
        synth.note_off(playing)
    out.append(synth.process(int(round(tail_s * synth.sr))))
    return np.concatenate(out)
