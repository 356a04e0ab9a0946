"""Harmonic synthesis: one period of a voice's waveform, read at the note's exact frequency.

Every partial a voice plays is a harmonic of its note, so the whole voice is one periodic
waveform. :class:`Wavetables` builds that period once per new set of harmonic amplitudes (an
inverse FFT of ``TABLE_SIZE`` points with amplitude ``a_k`` at bin ``k``, harmonics above the
Nyquist frequency of the played note left out) and :func:`read` plays it with a phase accumulator
and linear interpolation. The cost per sample does not depend on the number of harmonics, there is
no beating (the partials are locked to the fundamental) and nothing lies below the fundamental
(no DC).

The harmonics get fixed random phases (one draw per engine) rather than all starting at zero,
which would stack every partial into one spike per period and waste headroom.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TABLE_SIZE", "Wavetables", "read"]

TABLE_SIZE = 2048  # samples per period; 48 harmonics are oversampled 21 times, so linear interpolation is clean
NYQUIST_MARGIN = 0.95  # harmonics above this fraction of sr/2 are left out (no aliasing while bending up)


class Wavetables:
    """Builds band-limited single-period tables from harmonic amplitudes.

    Parameters
    ----------
    n_harmonics : int
    sr : int
    seed : int, the draw of the harmonics' phases
    """

    def __init__(self, n_harmonics: int, *, sr: int, seed: int = 0):
        self.n_harmonics = int(n_harmonics)
        self.sr = int(sr)
        phase = np.random.default_rng(seed).uniform(-np.pi, np.pi, self.n_harmonics)
        phase[0] = 0.0
        self._rot = np.exp(1j * phase)  # (K,)
        self._k = np.arange(1, self.n_harmonics + 1)
        self._spec = np.zeros(TABLE_SIZE // 2 + 1, dtype=np.complex128)

    def build(self, amps: np.ndarray, f_max: float, out: np.ndarray | None = None) -> np.ndarray:
        """One period whose harmonic ``k`` has peak amplitude ``amps[k-1]``.

        Parameters
        ----------
        amps : np.ndarray, shape (n_harmonics,)
        f_max : float, the highest fundamental the table will be read at (Hz): harmonics whose
            frequency would pass ``NYQUIST_MARGIN * sr / 2`` are left out
        out : np.ndarray, shape (TABLE_SIZE + 1,), float32, optional: written in place

        Returns
        -------
        table : np.ndarray, shape (TABLE_SIZE + 1,), float32; the last sample repeats the first
        """
        keep = self._k * f_max < NYQUIST_MARGIN * self.sr / 2
        spec = self._spec
        spec[:] = 0.0
        n = len(amps)
        # irfft of X gives sum_k 2|X_k|/N cos(2 pi k n/N + arg X_k); a sine of amplitude a needs X_k = -1j * a * N / 2
        spec[1 : n + 1] = np.where(keep[:n], amps, 0.0) * self._rot[:n] * (-0.5j * TABLE_SIZE)
        y = np.fft.irfft(spec, n=TABLE_SIZE)
        if out is None:
            out = np.empty(TABLE_SIZE + 1, dtype=np.float32)
        out[:TABLE_SIZE] = y
        out[TABLE_SIZE] = y[0]
        return out


def read(table: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Samples of a period ``table`` (TABLE_SIZE + 1,) at phases in cycles ``phase`` (n,), in [0, 1).

    Returns
    -------
    y : np.ndarray, shape (n,), float32 (linear interpolation)
    """
    pos = phase * TABLE_SIZE
    i = pos.astype(np.intp)
    np.minimum(i, TABLE_SIZE - 1, out=i)
    frac = (pos - i).astype(np.float32)
    a = table[i]
    return a + frac * (table[i + 1] - a)
