"""What a played key is decoded as: the model's nearest note, in its own register where the model has one.

NumPy only.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["nearest_present", "decode_key", "REGISTER_REACH"]

REGISTER_REACH = 7  # semitones past the trained pitches that a register-aware model decodes as they are


def nearest_present(present: Sequence[int]) -> np.ndarray:
    """For each pitch class 0-11, the nearest class in ``present`` (circular distance, lower on a tie).

    Returns
    -------
    classes : np.ndarray, shape (12,), int
    """
    present = sorted(set(int(c) for c in present)) or list(range(12))
    out = np.empty(12, dtype=np.int64)
    for c in range(12):
        out[c] = min(present, key=lambda p: (min((c - p) % 12, (p - c) % 12), p))
    return out


def decode_key(note: int, class_of: np.ndarray, pitch_range: tuple[float, float] | None) -> int:
    """The note the decoder is asked for when key ``note`` plays.

    Parameters
    ----------
    note : int, the MIDI key
    class_of : np.ndarray, shape (12,): :func:`nearest_present` of the model's classes
    pitch_range : (lo, hi) MIDI pitches the model was trained on, for a register-aware model; None for
        the paper's models, which know only the class

    Returns
    -------
    key : int; the nearest present class (0-11) without a register, else the MIDI note moved to the
        nearest present class and, beyond :data:`REGISTER_REACH` semitones past the trained pitches, by
        octaves towards them (a cello model trained to D#4 plays E4-A4 within 4 dB of the real notes
        as they are, and 10 dB off from an octave below)
    """
    c = note % 12
    if pitch_range is None:
        return int(class_of[c])
    key = note + (int(class_of[c]) - c + 6) % 12 - 6  # the signed step to the nearest present class
    lo, hi = pitch_range[0] - REGISTER_REACH, pitch_range[1] + REGISTER_REACH
    while key < lo:
        key += 12
    while key > hi and key - 12 >= lo:
        key -= 12
    return int(key)
