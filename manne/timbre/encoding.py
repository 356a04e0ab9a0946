"""A recording's timbre as a latent code: its sustained notes and the median code of their frames.

A *sustained note* is a run of consecutive analysis frames (:func:`manne.corpus.analysis.analyse`)
that the pitch tracker voiced and whose pitch rounds to one MIDI note, at least
:data:`MIN_FRAMES` long; its first :data:`ATTACK_FRAMES` (the attack) and last
:data:`RELEASE_FRAMES` (the release) are left out. A note's code is the median, neuron by neuron,
of the encoder's codes of its sustained frames; a recording's code is that median over every
sustained frame of the recording (``manne encode``, the window's "Match a recording…", and the
codes ``manne bench fidelity`` plays). A code is clipped to the model's slider range, so that it
can always be set on the sliders and given to ``manne render --z``.

NumPy only (audio is read by :mod:`manne.io.audio`; the analysis imports librosa when it runs).
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from manne.corpus.analysis import Frames
from manne.errors import AudioFileError

__all__ = ["MIN_FRAMES", "ATTACK_FRAMES", "RELEASE_FRAMES", "SustainedNote", "RecordingCode", "read_frames",
           "sustained_notes", "note_code", "recording_code"]

MIN_FRAMES = 8  # a run shorter than this (23 ms hops: 0.19 s) is a passing note, not a sustained one
ATTACK_FRAMES = 3  # left out at the start of each run
RELEASE_FRAMES = 2  # left out at its end


class SustainedNote(NamedTuple):
    """One sustained note of a recording."""

    idx: np.ndarray  # (n,) int: its sustained frames, as rows of the Frames
    pitch: float  # the median of their fractional MIDI pitches
    midi: int  # round(pitch)


class RecordingCode(NamedTuple):
    """The code of a recording (see :func:`recording_code`)."""

    z: np.ndarray  # (latent,) float64, clipped to the model's range
    midi: int  # the median MIDI note of its sustained frames (the tracker's), or the note given
    n_frames: int  # sustained frames encoded
    notes: tuple[SustainedNote, ...]
    clipped: int  # values that lay outside the model's range before clipping


def read_frames(path: str | os.PathLike, analysis) -> Frames:
    """Read an audio file at the analysis rate and :func:`~manne.corpus.analysis.analyse` it.

    Raises
    ------
    AudioFileError
        If the file is missing, cannot be decoded, is empty or silent, or is too short for one frame.
    """
    from manne.corpus.analysis import analyse
    from manne.errors import ParameterError
    from manne.io.audio import load

    y = load(path, sr=analysis.sr)
    try:
        frames = analyse(y, analysis=analysis)
    except ParameterError as exc:  # shorter than one frame
        raise AudioFileError(f"{path}: {exc}") from None
    if not len(frames.S):
        raise AudioFileError(f"{path}: no frame within {analysis.silence_db:g} dB of the loudest (silent)")
    return frames


def sustained_notes(frames: Frames, *, min_frames: int = MIN_FRAMES, attack: int = ATTACK_FRAMES,
                    release: int = RELEASE_FRAMES) -> list[SustainedNote]:
    """The sustained notes of analysed frames, in time order.

    Parameters
    ----------
    frames : Frames
        From :func:`~manne.corpus.analysis.analyse`: its ``frame`` (the kept frames' STFT indices),
        ``voiced`` and ``pitch`` are read.
    min_frames : int
        The shortest run of consecutive voiced frames at one rounded pitch that counts.
    attack, release : int
        Frames left out at each run's start and end.

    Returns
    -------
    list of SustainedNote, each with ``len(idx) == run length - attack - release``
    """
    frame = np.asarray(frames.frame, dtype=np.int64)
    voiced = np.asarray(frames.voiced, dtype=bool)
    pitch = np.asarray(frames.pitch, dtype=np.float64)
    key = np.where(voiced, np.round(np.where(voiced, pitch, 0.0)), -1).astype(np.int64)
    n = len(frame)
    if n == 0:
        return []
    # a run breaks where a frame is not the next STFT frame (silence dropped between), or the note changes
    breaks = np.flatnonzero((np.diff(frame) != 1) | (np.diff(key) != 0)) + 1
    notes = []
    for start, stop in zip(np.r_[0, breaks], np.r_[breaks, n]):
        if key[start] < 0 or stop - start < max(min_frames, attack + release + 1):
            continue
        idx = np.arange(start + attack, stop - release)
        p = float(np.median(pitch[idx]))
        notes.append(SustainedNote(idx, p, int(round(p))))
    return notes


def note_code(ae, frames: Frames, idx: np.ndarray, *, pitch: float | None = None) -> tuple[np.ndarray, int]:
    """The median code of frames ``idx``, clipped to the model's range.

    Parameters
    ----------
    ae : :class:`~manne.model.forward.Autoencoder`
    frames : Frames
    idx : np.ndarray of int, rows of ``frames``
    pitch : float, optional
        The MIDI pitch every frame is encoded at; default each frame's tracked pitch.

    Returns
    -------
    z : np.ndarray, shape (latent,), float64
    clipped : int, how many values lay outside ``ae.latent_range``
    """
    idx = np.asarray(idx, dtype=np.int64)
    notes = frames.pitch[idx] if pitch is None else np.full(len(idx), float(pitch), dtype=np.float32)
    codes = ae.encode(frames.S[idx], notes)
    z = np.median(codes.astype(np.float64), axis=0)
    lo, hi = np.asarray(ae.latent_range, dtype=np.float64)
    clipped = int(np.sum((z < lo) | (z > hi)))
    return np.clip(z, lo, hi), clipped


def recording_code(ae, frames: Frames, *, note: int | None = None, where: str = "the recording") -> RecordingCode:
    """The median code of every sustained frame of a recording.

    Parameters
    ----------
    ae : :class:`~manne.model.forward.Autoencoder`
    frames : Frames, the recording's analysis (:func:`read_frames`)
    note : int, optional
        The MIDI note the recording plays: every frame is encoded at this pitch instead of the
        tracker's, and it is the code's ``midi``.
    where : str, names the recording in the error message

    Raises
    ------
    AudioFileError
        If the recording has no sustained note.
    """
    notes = sustained_notes(frames)
    if not notes:
        voiced = int(np.sum(frames.voiced))
        raise AudioFileError(f"{where}: no sustained note found (a run of at least {MIN_FRAMES} frames that the pitch "
                             f"tracker hears at one note; {voiced} of its {len(frames.S)} loud frames are pitched)")
    idx = np.concatenate([n.idx for n in notes])
    z, clipped = note_code(ae, frames, idx, pitch=note)
    midi = int(note) if note is not None else int(round(float(np.median(frames.pitch[idx]))))
    return RecordingCode(z, midi, len(idx), tuple(notes), clipped)
