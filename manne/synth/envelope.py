"""Amplitude envelopes of played notes: attack, decay, sustain, release, computed a block at a time.

A note's envelope is a pure function of the time since its note-on (attack then decay towards the
sustain level) and, once released, of the time since its note-off (a linear fall from the level it
had to zero). Computing it per sample from those times means a block of any length gives the same
samples, and nothing accumulates rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from manne.errors import ParameterError

__all__ = ["ADSR", "FAST_RELEASE_S"]

FAST_RELEASE_S = 0.004  # a stolen voice, a pause or a stopped stream fade out this fast (no click)


@dataclass(frozen=True)
class ADSR:
    """Envelope times in seconds and the sustain level (0..1).

    The defaults make a short key press sound like a played note: a 5 ms attack (no click, no
    perceptible delay), a 150 ms decay to 0.7, and a 150 ms release.
    """

    attack: float = 0.005
    decay: float = 0.15
    sustain: float = 0.7
    release: float = 0.15

    def __post_init__(self) -> None:
        for name in ("attack", "decay", "release"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and 0.0 <= v <= 30.0):
                raise ParameterError(f"{name}={v!r} must be a time from 0 to 30 seconds")
        if not (isinstance(self.sustain, (int, float)) and 0.0 <= self.sustain <= 1.0):
            raise ParameterError(f"sustain={self.sustain!r} must be a level from 0 to 1")

    def held(self, t: np.ndarray) -> np.ndarray:
        """Level while the key is held, ``t`` seconds after note-on; same shape as ``t``.

        A linear attack to 1, then an exponential decay towards ``sustain`` with time constant
        ``decay / 3`` (95 % of the way after ``decay`` seconds).
        """
        t = np.asarray(t, dtype=np.float64)
        a = self.attack
        if t.size and t.min() > a + 4.0 * self.decay:  # the decay is within 6e-6 of the sustain level: hold it
            return np.full(t.shape, self.sustain)
        rise = np.clip(t / a, 0.0, 1.0) if a > 0 else np.ones_like(t)
        if self.decay > 0:
            fall = self.sustain + (1.0 - self.sustain) * np.exp(-3.0 * np.maximum(t - a, 0.0) / self.decay)
        else:
            fall = np.full_like(t, self.sustain)
        return np.where(t < a, rise, fall)

    def released(self, t: np.ndarray, level: float, *, release: float | None = None) -> np.ndarray:
        """Level ``t`` seconds after note-off, falling linearly from ``level`` to 0 in ``release`` s."""
        r = self.release if release is None else release
        t = np.asarray(t, dtype=np.float64)
        if r <= 0:
            return np.zeros_like(t)
        return level * np.clip(1.0 - t / r, 0.0, 1.0)
