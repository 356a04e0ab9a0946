"""Where a morph starts and ends: an audio file, a landmark of the model, or a preset.

:func:`encode_audio` analyses a recording as the corpus was analysed (librosa, offline only) and
encodes each loud frame with its own note; :func:`source` turns a command-line word into a
:class:`~manne.timbre.morph.Source`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from manne.errors import AudioFileError
from manne.io.audio import AUDIO_EXTENSIONS
from manne.timbre.morph import Source

__all__ = ["encode_audio", "frame_notes", "source"]


def encode_audio(ae, path: str | os.PathLike):
    """The frames of an audio file under model ``ae``.

    Returns
    -------
    frames : manne.corpus.analysis.Frames of the file (loud frames only)
    z : np.ndarray, shape (n_kept, latent), each frame's code (encoded with its own pitch)

    Raises
    ------
    AudioFileError
        If the file cannot be read or has no frame loud enough to analyse (too short, or silent).
    """
    from manne.corpus.analysis import analyse
    from manne.io.audio import load

    a = ae.analysis
    y = load(path, sr=a.sr)
    if len(y) < a.n_fft:
        raise AudioFileError(f"{path}: {len(y) / a.sr * 1000:.0f} ms is too short; the analysis needs at least one "
                             f"frame, {a.n_fft} samples ({a.n_fft / a.sr * 1000:.0f} ms)")
    frames = analyse(y, analysis=a)
    if len(frames.S) == 0:
        raise AudioFileError(f"{path}: no frame is loud enough to analyse (silent, or too short)")
    return frames, ae.encode(frames.S, frames.pitch)


def frame_notes(pitch: np.ndarray) -> np.ndarray:
    """MIDI note of each frame: its tracked pitch (:func:`manne.corpus.analysis.analyse`) to the nearest
    semitone, moved by octaves into the instrument's range.

    Parameters
    ----------
    pitch : np.ndarray, shape (n,), fractional MIDI pitches

    Returns
    -------
    midi : np.ndarray, shape (n,), int64
    """
    from manne.synth.controls import NOTE_MAX, NOTE_MIN

    midi = np.rint(np.asarray(pitch, dtype=np.float64)).astype(np.int64)
    midi = np.where(midi < NOTE_MIN, midi + 12 * np.ceil((NOTE_MIN - midi) / 12), midi)
    return np.where(midi > NOTE_MAX, midi - 12 * np.ceil((midi - NOTE_MAX) / 12), midi).astype(np.int64)


def source(spec: str, ae, model_dir: str | os.PathLike) -> Source:
    """A morph's end from ``spec``: an audio file (its codes and MIDI notes over time, :func:`frame_notes`), a preset
    ``.json`` (its sliders and note), or the name of one of the model's landmarks (its mean code).

    Raises
    ------
    ParameterError
        If ``spec`` is none of those (the message lists the closest landmark names).
    """
    from manne.timbre import landmarks

    p = Path(spec)
    if p.suffix.lower() in AUDIO_EXTENSIONS:
        if not p.is_file():
            raise AudioFileError(f"{spec}: no such audio file")
        frames, z = encode_audio(ae, p)
        midi = frame_notes(frames.pitch)
        return Source(p.name, np.asarray(z, dtype=np.float64), midi)
    if p.suffix.lower() == ".json":
        from manne.synth.presets import load_preset

        pr = load_preset(p, ae=ae)
        return Source(p.name, np.asarray([pr.z], dtype=np.float64), np.array([pr.note_index]))
    marks = landmarks.read(model_dir, latent=ae.latent)
    m = landmarks.find(marks, spec, where=str(model_dir))
    return Source(m.name, m.mean[None, :], None)
