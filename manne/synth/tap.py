"""What the instrument actually played, for the window's level meter and live spectrum.

The audio callback copies each block it returns into a ring buffer made once (no allocation, no
lock); the window reads the last samples from Tk's thread. A read that races a write may mix two
blocks' worth of samples at one edge: harmless for a meter or a spectrum, which is all this is for.
"""

from __future__ import annotations

import numpy as np

__all__ = ["OutputTap", "TAP_SIZE"]

TAP_SIZE = 8192  # samples kept: 186 ms at 44.1 kHz, more than one 4096-point spectrum


class OutputTap:
    """A ring buffer of the last :data:`TAP_SIZE` output samples.

    Attributes
    ----------
    written : int, samples written since the start (the newest is ``written - 1``)
    """

    def __init__(self, size: int = TAP_SIZE):
        self._ring = np.zeros(int(size), dtype=np.float32)
        self.written = 0

    def add(self, y: np.ndarray) -> None:
        """Append ``y`` (n,) float32 (audio thread: two slice copies at most)."""
        n, size = len(y), len(self._ring)
        if n > size:  # only the last ``size`` samples stay: write them where they would have landed
            self.written += n - size
            y, n = y[-size:], size
        i = self.written % size
        first = min(n, size - i)
        self._ring[i : i + first] = y[:first]
        self._ring[: n - first] = y[first:]
        self.written += n

    def recent(self, n: int) -> np.ndarray:
        """A copy of the last ``n`` samples, oldest first; shape (n,), float32 (zeros before the start)."""
        size = len(self._ring)
        n = min(int(n), size)
        end = self.written % size
        idx = (np.arange(end - n, end)) % size
        return self._ring[idx]

    def levels(self, n: int = 2048) -> tuple[float, float]:
        """Peak and RMS of the last ``n`` samples, in dBFS (-120 for silence)."""
        y = self.recent(n).astype(np.float64)
        peak, rms = float(np.abs(y).max(initial=0.0)), float(np.sqrt(np.mean(y * y))) if len(y) else 0.0
        return tuple(20.0 * np.log10(max(v, 1e-6)) for v in (peak, rms))  # type: ignore[return-value]
