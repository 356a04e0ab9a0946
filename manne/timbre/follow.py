"""Descriptor-driven synthesis: a path through the timbre space whose sound follows a target curve.

The target is a brightness curve (spectral centroid over time, optionally flatness). Candidate
codes (a grid over the XY pad's plane and random codes over the whole latent range) are scored by
the centroid of what the instrument actually plays for the note: the decoded spectrum's harmonic
amplitudes placed at the note's harmonics (the ``harmonic`` method). A Viterbi search picks one
candidate per target step minimising the log-ratio error plus a smoothness cost on the latent
step, so the path follows the curve without jumping around the space.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from manne.errors import ParameterError

__all__ = ["Target", "Followed", "SMOOTH", "SMOOTH_MAX", "CENTROID_MAX", "read_target", "played_centroid", "candidates", "viterbi", "follow", "render_path",
           "measure_centroid"]

STEP_S = 0.05  # one path point per 50 ms of target
MAX_STEPS = 6000  # at most this many path points (a target longer than 5 min gets longer steps)
SMOOTH = 0.5  # cost of crossing the whole latent range in one step, against a log-ratio error of 1
SMOOTH_MAX = 1000.0  # (a jump then costs what a factor e^1000 of error would: the path stays put)
CENTROID_MAX = 24000.0  # Hz: half the highest sample rate a model has (48 kHz); no sound's centroid lies above


class Target(NamedTuple):
    """A target curve: ``time`` (n,) s, strictly increasing from >= 0; ``centroid`` (n,) Hz;
    ``flatness`` (n,) or None."""

    time: np.ndarray
    centroid: np.ndarray
    flatness: np.ndarray | None


def read_target(path: str | os.PathLike) -> Target:
    """Read a target CSV: a header ``time,centroid`` (and optionally ``flatness``), then one row per point.

    Raises
    ------
    ParameterError
        If the file is not CSV text, lacks a column, or a value breaks its rule (the message names both).
    """
    from manne.io.files import read_csv_rows
    from manne.synth.limits import RENDER_SECONDS_MAX

    rows = read_csv_rows(path, error=ParameterError, what="target CSV")
    if not rows:
        raise ParameterError(f"{path}: the target CSV is empty; it needs a header time,centroid and rows")
    head = [c.lower() for c in rows[0]]
    for col in ("time", "centroid"):
        if col not in head:
            raise ParameterError(f"{path}: the header {','.join(rows[0])} has no {col!r} column (need time,centroid"
                                 f"[,flatness])")
    cols = {c: head.index(c) for c in ("time", "centroid", "flatness") if c in head}
    data = {c: [] for c in cols}
    for line, row in enumerate(rows[1:], start=2):
        for c, i in cols.items():
            try:
                v = float(row[i])
            except (IndexError, ValueError):
                raise ParameterError(f"{path}, row {line}: {c} {row[i] if i < len(row) else ''!r} is not a number") from None
            if not np.isfinite(v):
                raise ParameterError(f"{path}, row {line}: {c} {v} is not finite")
            data[c].append(v)
    t, c = np.array(data["time"]), np.array(data["centroid"])
    if len(t) < 2:
        raise ParameterError(f"{path}: the target needs at least 2 rows, it has {len(t)}")
    if t[0] < 0 or np.any(np.diff(t) <= 0):
        raise ParameterError(f"{path}: times must start at 0 or later and increase row by row")
    if t[-1] > RENDER_SECONDS_MAX:
        raise ParameterError(f"{path}: the target ends at {t[-1]:g} s; at most {RENDER_SECONDS_MAX:g} s")
    bad = np.flatnonzero((c <= 0) | (c > CENTROID_MAX))
    if len(bad):
        raise ParameterError(f"{path}: centroid {c[bad[0]]:.4g} Hz (point {bad[0] + 1}) is out of range; centroid "
                             f"values must be above 0 Hz and at most {CENTROID_MAX:g} Hz")
    f = np.array(data["flatness"]) if "flatness" in data else None
    if f is not None and (np.any(f < 0) or np.any(f > 1)):
        raise ParameterError(f"{path}: flatness values must be between 0 and 1")
    return Target(t, c, f)


def played_centroid(ae, z: np.ndarray, note: int) -> tuple[np.ndarray, np.ndarray]:
    """Centroid (Hz) of what the harmonic method plays for each code, and each decoded spectrum's flatness.

    Parameters
    ----------
    z : np.ndarray, shape (n, latent)
    note : MIDI note number

    Returns
    -------
    centroid, flatness : np.ndarray, shape (n,) each
    """
    from manne.synth.instrument import DECODE_FMAX
    from manne.synth.pitch import Partials, midi_hz
    from manne.timbre.descriptors import describe

    a = ae.analysis
    partials = Partials(sr=a.sr, n_fft=a.n_fft, fmax=DECODE_FMAX)
    S = ae.decode(np.asarray(z, dtype=np.float32), note)
    f0 = np.atleast_1d(partials.f0(S[:, : partials.n_bins]))
    amps = np.stack([partials.amplitudes(S[i, : partials.n_bins], float(f0[i])) for i in range(len(S))])
    k = np.arange(1, amps.shape[1] + 1)
    f_note = float(midi_hz(note))
    amps = np.where(k * f_note < a.sr / 2, amps, 0.0)  # the wavetables keep harmonics below Nyquist
    centroid = f_note * (amps @ k) / np.maximum(amps.sum(axis=1), 1e-12)
    return centroid, describe(S, sr=a.sr, n_fft=a.n_fft)["flatness"]


def candidates(ae, plane, *, grid: int = 30, random: int = 600, seed: int = 0) -> np.ndarray:
    """Candidate codes: a ``grid`` x ``grid`` grid over ``plane`` and ``random`` uniform codes; (k, latent)."""
    lo, hi = (np.asarray(r, dtype=np.float64) for r in ae.latent_range)
    rng = np.random.default_rng(seed)
    rand = lo + rng.random((random, ae.latent)) * (hi - lo)
    return np.concatenate([plane.grid(grid).reshape(-1, ae.latent), rand])


def viterbi(cost: np.ndarray, z: np.ndarray, *, smooth: float, span: np.ndarray) -> np.ndarray:
    """The candidate per step minimising ``sum_t cost[t, k_t] + smooth * step(k_(t-1), k_t)`` (dynamic programming).

    ``step`` is the root mean square, over neurons, of the move as a fraction of each neuron's travel
    (1 from one corner of the latent range to the opposite one).

    Parameters
    ----------
    cost : np.ndarray, shape (T, K)
    z : np.ndarray, shape (K, latent)
    span : np.ndarray, shape (latent,), each neuron's travel

    Returns
    -------
    np.ndarray, shape (T,), candidate indices
    """
    zn = z / np.where(span > 0, span, 1.0)
    sq = (zn * zn).sum(axis=1)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * zn @ zn.T, 0.0)) / np.sqrt(z.shape[1])
    trans = (smooth * dist).astype(np.float32)  # (K, K), symmetric: row = next candidate, column = previous
    T, K = cost.shape
    back = np.empty((T, K), dtype=np.int32)
    acc = np.asarray(cost[0], dtype=np.float32).copy()
    tot = np.empty((K, K), dtype=np.float32)
    rows = np.arange(K)
    for t in range(1, T):
        np.add(trans, acc[None, :], out=tot)  # contiguous rows: the argmin runs along memory
        back[t] = np.argmin(tot, axis=1)
        acc = tot[rows, back[t]] + cost[t]
    path = np.empty(T, dtype=np.int64)
    path[-1] = int(np.argmin(acc))
    for t in range(T - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


class Followed(NamedTuple):
    times: np.ndarray  # (T,) s, the path's steps
    z: np.ndarray  # (T, latent)
    centroid: np.ndarray  # (T,) Hz, the chosen codes' played centroid
    target: np.ndarray  # (T,) Hz, the target at the steps
    inside: np.ndarray  # (T,) bool, the target within the reachable range
    reach: tuple[float, float]  # the note's reachable centroid range, Hz


def follow(ae, target: Target, plane, *, note: int, smooth: float = SMOOTH, step_s: float = STEP_S) -> Followed:
    """Choose a latent path whose played centroid follows ``target`` for MIDI ``note``.

    Raises
    ------
    ParameterError
        If the whole target lies outside the centroids the model can play for the note.
    """
    z = candidates(ae, plane)
    step_s = max(step_s, (target.time[-1] - target.time[0]) / MAX_STEPS)  # a long target: longer steps
    c, flat = played_centroid(ae, z, note)
    lo, hi = float(np.min(c)), float(np.max(c))
    times = np.arange(target.time[0], target.time[-1] + 1e-9, step_s)
    goal = np.interp(times, target.time, target.centroid)
    inside = (goal >= lo) & (goal <= hi)
    if not inside.any():
        from manne.synth.pitch import note_name

        raise ParameterError(f"the target ({goal.min():.0f}-{goal.max():.0f} Hz) lies outside what the model plays "
                             f"for {note_name(note)} ({lo:.0f}-{hi:.0f} Hz)")
    cost = np.abs(np.log(c[None, :] / np.clip(goal, lo, hi)[:, None])).astype(np.float32)
    if target.flatness is not None:
        fgoal = np.interp(times, target.time, target.flatness)
        cost += np.abs(flat[None, :] - fgoal[:, None]) * 4.0
    span = np.diff(np.asarray(ae.latent_range, dtype=np.float64), axis=0)[0]
    path = viterbi(cost, z, smooth=smooth, span=span)
    return Followed(times, z[path], c[path], goal, inside, (lo, hi))


def render_path(synth, times: np.ndarray, z: np.ndarray, *, note: int, velocity: int = 100, hop_blocks: int = 4,
                tail_s: float = 0.2) -> np.ndarray:
    """Play MIDI ``note`` on ``synth`` (a :class:`~manne.synth.instrument.Synth`) from 0 s to ``times[-1]``,
    the sliders moving along the path: every ``hop_blocks`` blocks (512 samples, 11.6 ms, at the
    default block) they are set to ``z`` linearly interpolated at the hop's end, and the voices
    crossfade to it across the next block. The note is then released and ``tail_s`` of its release kept.

    Parameters
    ----------
    times : np.ndarray, shape (T,), s, increasing
    z : np.ndarray, shape (T, latent)

    Returns
    -------
    y : np.ndarray, shape (n_hops * hop_blocks * block + round(tail_s * sr),), float32
    """
    sr, hop = synth.sr, synth.block * int(hop_blocks)
    n = max(1, int(round(times[-1] * sr / hop)))
    ends = (np.arange(n) + 1) * hop / sr
    zh = np.stack([np.interp(ends, times, z[:, i]) for i in range(z.shape[1])], axis=1)
    synth.set_z(zh[0])
    synth.note_on(int(note), int(velocity))
    out = np.empty(n * hop, dtype=np.float32)
    for k in range(n):
        synth.set_z(zh[k])
        out[k * hop : (k + 1) * hop] = synth.process(hop)
    synth.note_off(int(note))
    return np.concatenate([out, synth.process(int(round(tail_s * sr)))])


def measure_centroid(y: np.ndarray, times: np.ndarray, *, sr: int, n_fft: int) -> np.ndarray:
    """Spectral centroid (Hz) of ``y`` in ``n_fft``-point Hann frames centred at ``times`` (s).

    The same definition as :func:`manne.timbre.descriptors.describe` on the frames' magnitudes.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    times : np.ndarray, shape (T,)

    Returns
    -------
    np.ndarray, shape (T,)
    """
    from manne.timbre.descriptors import describe

    half = n_fft // 2
    padded = np.concatenate([np.zeros(half, np.float32), np.asarray(y, np.float32), np.zeros(half, np.float32)])
    starts = np.clip(np.round(np.asarray(times) * sr).astype(int), 0, len(y) - 1)
    window = np.hanning(n_fft).astype(np.float32)
    out = np.empty(len(starts))
    for i in range(0, len(starts), 256):  # 256 frames at a time: a long file never holds all its frames
        frames = padded[starts[i : i + 256, None] + np.arange(n_fft)] * window
        out[i : i + 256] = describe(np.abs(np.fft.rfft(frames, axis=1)), sr=sr, n_fft=n_fft)["centroid"]
    return out
