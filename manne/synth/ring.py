"""A ring of float32 samples addressed by absolute position: the one wrap-around copy of the real-time side.

The output tap (:class:`manne.synth.tap.OutputTap`, the window's meter and spectrum) and the live
transfer's finished samples (:class:`manne.synth.transfer.LiveTransfer`) keep their samples in one.
A position counts samples since the start and only grows; sample ``pos`` lives at ``pos % size``.
:meth:`Ring.write` and :meth:`Ring.read` copy two slices at most and allocate nothing, so the audio
thread may call them; the owner keeps its own read and write positions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Ring"]


class Ring:
    """``size`` float32 samples, zeros at first, written and read at absolute positions.

    Parameters
    ----------
    size : int, samples kept (at least 1)
    """

    def __init__(self, size: int):
        self.buf = np.zeros(max(1, int(size)), dtype=np.float32)

    @property
    def size(self) -> int:
        return len(self.buf)

    def clear(self) -> None:
        """Every sample back to zero."""
        self.buf[:] = 0.0

    def write(self, pos: int, y: np.ndarray) -> None:
        """Put ``y``, shape (n,) with ``n <= size``, at positions ``pos .. pos + n - 1``."""
        n, size = len(y), len(self.buf)
        i = pos % size
        first = min(n, size - i)
        self.buf[i : i + first] = y[:first]
        self.buf[: n - first] = y[first:]

    def read(self, pos: int, out: np.ndarray) -> np.ndarray:
        """Fill ``out``, shape (n,) with ``n <= size``, with positions ``pos .. pos + n - 1``; returns ``out``."""
        n, size = len(out), len(self.buf)
        i = pos % size
        first = min(n, size - i)
        out[:first] = self.buf[i : i + first]
        out[first:] = self.buf[: n - first]
        return out
