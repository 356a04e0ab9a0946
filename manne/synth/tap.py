"""What the instrument actually played, for the window's level meter and live spectrum.

The audio callback copies each block it returns into a ring buffer (:mod:`manne.synth.ring`) made once (no allocation, no
lock); the window reads the last samples from Tk's thread. A read that races a write may mix two
blocks' worth of samples at one edge: harmless for a meter or a spectrum, which is all this is for.
"""

from __future__ import annotations

import numpy as np

from manne.synth.ring import Ring

__all__ = ["OutputTap", "TAP_SIZE"]

TAP_SIZE = 8192  # samples kept: 186 ms at 44.1 kHz, more than one 4096-point spectrum


class OutputTap:
    """The last :data:`TAP_SIZE` output samples, in a :class:`~manne.synth.ring.Ring`.

    Attributes
    ----------
    written : int, samples written since the start (the newest is ``written - 1``)
    """

    def __init__(self, size: int = TAP_SIZE):
        self._ring = Ring(size)
        self.written = 0

    def add(self, y: np.ndarray) -> None:
        """Append ``y`` (n,) float32 (audio thread: two slice copies at most)."""
        n, size = len(y), self._ring.size
        if n > size:  # only the last ``size`` samples stay: write them where they would have landed
            self.written += n - size
            y = y[-size:]
        self._ring.write(self.written, y)
        self.written += len(y)

    def recent(self, n: int) -> np.ndarray:
        """A copy of the last ``n`` samples, oldest first; shape (n,), float32 (zeros before the start)."""
        n = min(int(n), self._ring.size)
        return self._ring.read(self.written - n, np.empty(n, dtype=np.float32))

    def levels(self, n: int = 2048) -> tuple[float, float]:
        """Peak and RMS of the last ``n`` samples, in dBFS (-120 for silence)."""
        y = self.recent(n).astype(np.float64)
        peak, rms = float(np.abs(y).max(initial=0.0)), float(np.sqrt(np.mean(y * y))) if len(y) else 0.0
        return tuple(20.0 * np.log10(max(v, 1e-6)) for v in (peak, rms))  # type: ignore[return-value]
