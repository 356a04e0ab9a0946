"""The engine's inverse STFT: magnitude frames in, samples out, one frame per synthesis hop.

Each frame ``S`` (n_bins,) gets a phase, an inverse real FFT of ``n_fft`` samples and a synthesis
window, and is overlap-added at hop ``hop_length``. Everything but the overlap-add tail is
prepared once, in the constructor:

* the phase table: ``max(N_PHASE_FRAMES, PHASE_TABLE_SPAN * n_fft / hop_length)`` rows of
  :func:`manne.dsp.noise_phase` seeded by ``seed``. Phase mode ``"noise"`` cycles its rows frame by
  frame, as in the paper; ``"coherent"`` starts from its first row and advances bin ``k`` by
  ``2*pi*k*hop_length/n_fft`` per hop (a table of ``exp(2 pi i j / n_fft)``), so a steady spectrum
  gives a steady sound. A steady spectrum's level is an average over the table's rows; were the
  overlapping frames always to use the same rows (table length <= ``n_fft / hop``) it would be one
  random draw, hence the span;
* the windows, the overlap-add normalisation folded in: frame ``t`` lands on output samples
  ``[t*H, t*H + N)``, so sample ``n`` of a frame always sits at phase ``n % H`` of the hop and the
  sum of the overlapping windows depends on ``n % H`` only. Coherent frames are one periodic signal
  and are divided by the window sum (amplitudes add); noise frames are independent and are divided
  by the root of the squared-window sum (powers add). Either way the output's RMS equals one
  frame's RMS, ``sqrt(sum |X|^2) / N`` over the full spectrum, for every hop.

:func:`output_gain` turns that level into the engine's fixed gain. NumPy only.
"""

from __future__ import annotations

import math

import numpy as np

from manne.dsp import hann, noise_phase

__all__ = ["InverseSTFT", "output_gain", "N_PHASE_FRAMES", "PHASE_TABLE_SPAN", "TARGET_DBFS", "TYPICAL_PARTIALS"]

N_PHASE_FRAMES = 64  # rows of the stored white-noise phase table, cycled frame by frame ...
PHASE_TABLE_SPAN = 4  # ... and at least this many frame lengths (more rows for small hops)
TARGET_DBFS = -12.0  # RMS of a typical spectrum at volume 1
TYPICAL_PARTIALS = 4.0  # a typical normalised frame holds the energy of about 4 full-scale partials


def output_gain(n_fft: int) -> float:
    """The gain at which a frame with the energy of ``TYPICAL_PARTIALS`` full-scale Hann partials plays
    at ``TARGET_DBFS`` RMS through :class:`InverseSTFT` (in either phase mode, at any hop).

    A full-scale partial (peak bin 1) of a Hann-windowed sinusoid has RMS
    ``sqrt(N * sum(w^2) / 2) / (N * sum(w) / 2)``.
    """
    N = int(n_fft)
    w = hann(N).astype(np.float64)
    partial_rms = math.sqrt(N * float(np.sum(w ** 2)) / 2.0) / (N * float(np.sum(w)) / 2.0)
    return 10.0 ** (TARGET_DBFS / 20.0) / (math.sqrt(TYPICAL_PARTIALS) * partial_rms)


class InverseSTFT:
    """Phase, inverse FFT, window and overlap-add of magnitude frames (see the module's docstring).

    Parameters
    ----------
    n_fft : int
    hop_length : int, at most ``n_fft / 2``
    seed : int, the seed of the phase table

    Attributes
    ----------
    phase_table : np.ndarray, shape (rows, n_bins), float32, read-only

    The overlap-add tail is audio-thread state: one thread calls an instance at a time.
    """

    def __init__(self, *, n_fft: int, hop_length: int, seed: int = 0):
        self.n_fft = N = int(n_fft)
        self.hop_length = H = int(hop_length)
        self.n_bins = N // 2 + 1
        rows = max(N_PHASE_FRAMES, PHASE_TABLE_SPAN * -(-N // H))
        self.phase_table = noise_phase(rows, self.n_bins, seed=int(seed))  # (rows, n_bins) float32
        self.phase_table.setflags(write=False)
        self._noise = np.exp(1j * self.phase_table.astype(np.float64)).astype(np.complex64)
        self._bins = np.arange(self.n_bins, dtype=np.int64)
        self._unit = np.exp(2j * np.pi * np.arange(N) / N).astype(np.complex64)  # e^{2 pi i j / N}

        w = hann(N).astype(np.float64)
        ola_w, ola_w2 = np.zeros(H), np.zeros(H)
        for s in range(0, N, H):
            seg = w[s : s + H]
            ola_w[: len(seg)] += seg
            ola_w2[: len(seg)] += seg ** 2
        pos = np.arange(N) % H
        self._window = {
            "coherent": (w / ola_w[pos]).astype(np.float32),
            "noise": (w / np.sqrt(ola_w2[pos])).astype(np.float32),
        }
        self.reset()

    def reset(self) -> None:
        """Forget the overlap-add tail: the next frame starts from silence."""
        self._tail = np.zeros(self.n_fft - self.hop_length, dtype=np.float32)

    def __call__(self, mags: np.ndarray, *, t0: int, phase: str) -> np.ndarray:
        """The samples of ``k`` frames that start at hop ``t0`` of the stream.

        Parameters
        ----------
        mags : np.ndarray, shape (k, n_bins), float32
        t0 : int, the stream's hop index of the first frame (picks the phases)
        phase : {"noise", "coherent"}

        Returns
        -------
        y : np.ndarray, shape (k * hop_length,), float32; a fresh array
        """
        k = len(mags)
        H, N = self.hop_length, self.n_fft
        t = t0 + np.arange(k)
        if phase == "noise":
            X = self._noise[t % len(self._noise)]
        else:
            idx = (self._bins[None, :] * ((t * H) % N)[:, None]) % N
            X = self._unit[idx]
            X *= self._noise[0]
        X *= mags

        frames = np.fft.irfft(X, n=N, axis=1).astype(np.float32, copy=False)
        frames *= self._window[phase]
        buf = np.zeros(k * H + N - H, dtype=np.float32)
        buf[: N - H] = self._tail
        R = N // H
        if N % H == 0 and k > R:
            view = buf.reshape(-1, H)
            blocks = frames.reshape(k, R, H)
            for j in range(R):
                view[j : j + k] += blocks[:, j]
        else:
            for i in range(k):
                buf[i * H : i * H + N] += frames[i]
        self._tail = buf[k * H :].copy()
        return buf[: k * H]
