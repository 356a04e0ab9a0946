"""What the model is conditioned on: a note's pitch class (the paper's one-hot) and its register.

Every caller that encodes or decodes passes a MIDI pitch (fractional allowed: a frame's tracked
fundamental, a bent note). A value below 12 is a pitch class (C=0 ... B=11) and means that class
in octave 4 (60-71), as ``manne render --note E`` does, so the paper's models, which know only the
class, and callers that hold only a class decode as before.

NumPy only: the real-time decoder computes the same conditioning.
"""

from __future__ import annotations

import numpy as np

from manne.errors import ParameterError

__all__ = ["REGISTER_CENTER", "REGISTER_SPAN", "as_pitch", "pitch_class", "register", "condition", "scalar", "compress"]

REGISTER_CENTER = 60.0  # middle C has register 0
REGISTER_SPAN = 24.0  # two octaves per unit: C2 is -1.5, C6 +1
PITCH_MAX = 140.0  # highest MIDI pitch accepted (above G9)


def as_pitch(note) -> np.ndarray:
    """MIDI pitches of ``note``: values below 12 are pitch classes, played in octave 4.

    Parameters
    ----------
    note : float or array-like of float, any shape

    Returns
    -------
    pitch : np.ndarray of float32, the shape of ``note``

    Raises
    ------
    ParameterError
        If a value is NaN, negative or above :data:`PITCH_MAX`.
    """
    p = np.asarray(note, dtype=np.float32)
    if p.size and not (np.isfinite(p).all() and p.min() >= 0 and p.max() <= PITCH_MAX):
        bad = p[~(np.isfinite(p) & (p >= 0) & (p <= PITCH_MAX))].ravel()[:3].tolist()
        raise ParameterError(f"note values {bad} must be MIDI pitches 0-{PITCH_MAX:g} (or pitch classes 0-11)")
    return np.where(p < 12, p + REGISTER_CENTER, p).astype(np.float32)


def pitch_class(pitch) -> np.ndarray:
    """Pitch class (0-11, C=0) of MIDI pitches: the nearest semitone's."""
    return (np.round(np.asarray(pitch, dtype=np.float64)).astype(np.int64) % 12)


def register(pitch) -> np.ndarray:
    """The register input ``(pitch - 60) / 24`` of MIDI pitches, float32 of their shape."""
    return ((np.asarray(pitch, dtype=np.float32) - REGISTER_CENTER) / REGISTER_SPAN).astype(np.float32)


def condition(note, *, with_register: bool) -> np.ndarray:
    """The model's note input of each row: the pitch class one-hot, then the register when used.

    Parameters
    ----------
    note : array-like, shape (n,): MIDI pitches (or classes, see :func:`as_pitch`)
    with_register : bool

    Returns
    -------
    c : np.ndarray, shape (n, 12) or (n, 13), float32
    """
    pitch = np.atleast_1d(as_pitch(note))
    c = np.zeros((len(pitch), 13 if with_register else 12), dtype=np.float32)
    c[np.arange(len(pitch)), pitch_class(pitch)] = 1.0
    if with_register:
        c[:, 12] = register(pitch)
    return c


def scalar(note: float) -> tuple[int, float]:
    """The conditioning of one note, allocation-free for the real-time encoder and decoder: its pitch
    class and register (``(pitch - 60) / 24``), by :func:`as_pitch`'s rule.

    Raises
    ------
    ParameterError
        If ``note`` is NaN, negative or above :data:`PITCH_MAX`.
    """
    p = float(note)
    if not 0.0 <= p <= PITCH_MAX:
        as_pitch(p)  # raises the error
    if p < 12.0:
        p += REGISTER_CENTER
    return int(round(p)) % 12, (p - REGISTER_CENTER) / REGISTER_SPAN


def compress(S: np.ndarray, power: float, *, out: np.ndarray | None = None) -> np.ndarray:
    """Normalised magnitudes as a model sees them: ``max(S, 0) ** power``, float32 (``S`` itself, as
    float32, for the paper's ``power`` 1). A power of 1/4 is two square roots, several times faster than
    ``np.power``. ``out``, float32 of ``S``'s shape, saves the allocation."""
    S = np.asarray(S, dtype=np.float32)
    if power == 1.0:
        return S
    X = np.maximum(S, 0.0, out=out)
    if power == 0.25:
        return np.sqrt(np.sqrt(X, out=X), out=X)
    return np.power(X, power, out=X)
