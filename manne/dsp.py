"""Pure signal processing shared by the analysis, the model and the synth: frame normalisation,
silence, labels, the Hann window, noise phase, resampling.

This module imports NumPy only (SciPy loads inside :func:`resample`), so the real-time path can use
it without pulling in SciPy. The offline STFT and chroma are librosa's, in
:mod:`manne.corpus.analysis`. Shapes follow one vocabulary:

- ``y``: samples, shape ``(n_samples,)``, float32 in [-1, 1]
- ``S``: magnitudes, shape ``(n_frames, n_bins)`` with ``n_bins = n_fft // 2 + 1``
- ``note``: pitch class 0-11, C=0
"""

from __future__ import annotations

import numpy as np

from manne.errors import ParameterError

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_index(name: str | int) -> int:
    """Pitch class 0-11 of a note name (``"C"``, ``"F#"``, ``"Bb"``) or an integer.

    Raises
    ------
    ParameterError
        If the name is not a note.
    """
    if isinstance(name, (int, np.integer)):
        if not 0 <= int(name) < 12:
            raise ParameterError(f"note={name} must be between 0 (C) and 11 (B)")
        return int(name)
    s = str(name).strip()
    if s.lstrip("-").isdigit():
        return note_index(int(s))
    flats = {"DB": "C#", "EB": "D#", "GB": "F#", "AB": "G#", "BB": "A#"}
    key = flats.get(s.upper(), s.upper())
    names = [n.upper() for n in NOTE_NAMES]
    if key not in names:
        raise ParameterError(f"note={name!r} is not a note name; use one of {', '.join(NOTE_NAMES)}")
    return names.index(key)


def hann(n_fft: int) -> np.ndarray:
    """Periodic Hann window ``0.5 - 0.5 cos(2 pi n / n_fft)``, shape ``(n_fft,)``, float32.

    Periodic (the DFT-even window librosa's ``stft`` and scipy's ``get_window("hann", n_fft)``
    use): overlap-added at hop ``n_fft // 4`` it sums to a constant.
    """
    if n_fft < 1:
        raise ParameterError(f"n_fft={n_fft} must be at least 1")
    n = np.arange(n_fft, dtype=np.float64)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)).astype(np.float32)


def normalize_frames(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Divide each frame by its own maximum.

    Parameters
    ----------
    S : np.ndarray, shape (n_frames, n_bins)

    Returns
    -------
    S_norm : np.ndarray, shape (n_frames, n_bins), float32, each row's max is 1 (or 0 for an all-zero row)
    gain : np.ndarray, shape (n_frames,), float32, the maximum that was divided out
    """
    gain = S.max(axis=1).astype(np.float32)
    safe = np.where(gain > 0, gain, 1.0).astype(np.float32)
    return (S / safe[:, None]).astype(np.float32, copy=False), gain


def loud_frames(gain: np.ndarray, *, silence_db: float) -> np.ndarray:
    """Mask of frames within ``silence_db`` dB of the loudest frame.

    Parameters
    ----------
    gain : np.ndarray, shape (n_frames,)
        Each frame's maximum magnitude.

    Returns
    -------
    keep : np.ndarray of bool, shape (n_frames,)
    """
    peak = float(gain.max()) if len(gain) else 0.0
    if peak <= 0:
        return np.zeros(len(gain), dtype=bool)
    return gain > peak * 10.0 ** (-silence_db / 20.0)


def one_hot(note: np.ndarray, n: int = 12) -> np.ndarray:
    """One-hot rows, shape ``(len(note), n)``, float32."""
    note = np.asarray(note, dtype=np.int64)
    out = np.zeros((len(note), n), dtype=np.float32)
    out[np.arange(len(note)), note] = 1.0
    return out


def first_order_difference(S: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Difference between each frame and the previous frame of the same clip.

    The first frame of every clip has a zero difference, so nothing leaks across clips.

    Parameters
    ----------
    S : np.ndarray, shape (n_frames, n_bins)
    clip : np.ndarray, shape (n_frames,)

    Returns
    -------
    D : np.ndarray, shape (n_frames, n_bins), float32
    """
    D = np.zeros_like(S, dtype=np.float32)
    same = np.asarray(clip[1:]) == np.asarray(clip[:-1])
    D[1:] = S[1:] - S[:-1]
    D[1:][~same] = 0.0
    return D


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Polyphase resampling of a 1-D or ``(n_samples, n_channels)`` signal, float32."""
    if orig_sr == target_sr:
        return np.asarray(y, dtype=np.float32)
    import scipy.signal  # here, not at the top: the real-time path never resamples

    g = np.gcd(int(orig_sr), int(target_sr))
    return scipy.signal.resample_poly(y, target_sr // g, orig_sr // g, axis=0).astype(np.float32)
