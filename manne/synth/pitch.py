"""Where a decoded spectrum's partials lie, so a note can be placed at its exact frequency.

The decoder is conditioned on a pitch class, but the spectrum it returns sits in the octave (and,
for some slider positions, at the pitch) its training corpus had. :class:`Partials`, prepared once
per analysis, estimates the fundamental ``f0`` of a magnitude spectrum by a harmonic sum over a
log-frequency grid of candidates, and reads the amplitude of each harmonic ``k * f0``. A voice then
plays harmonic ``k`` at ``k * f_note``: the timbre (the harmonics' amplitudes) comes from the model,
the pitch from the key.

The harmonic sum of candidate ``f`` is ``sum_k (S(k f) - S((k - 1/2) f)) / k``: the ``1/k`` weights
halve a sub-octave's score (it hits every other harmonic only from its second on), and the
in-between term penalises an octave too high (whose midpoints land on the odd harmonics).

NumPy only; everything is prepared in the constructor, a call does a few gathers on small arrays.
"""

from __future__ import annotations

import numpy as np

from manne.errors import ParameterError

__all__ = ["Partials", "midi_hz", "cents", "midi_note", "F0_MIN", "F0_MAX", "N_HARMONICS"]

F0_MIN, F0_MAX = 40.0, 2200.0  # Hz: the fundamentals a decoded spectrum is searched for
N_HARMONICS = 48  # harmonics read from a spectrum and played by a voice
STEPS_PER_SEMITONE = 8  # resolution of the f0 search grid (12.5 cents) before refinement
SCORE_HARMONICS = 16  # harmonics summed to score an f0 candidate
NOISE_GAP = 3  # bins either side of a partial that hold its Hann lobe, not noise
_NEAR_STEPS = 2.0 ** (np.linspace(-50.0, 50.0, 21) / 1200.0)  # Partials.near's candidates, as ratios
_SCORE_K = np.arange(1, SCORE_HARMONICS + 1, dtype=np.float64)


def midi_hz(note: float | np.ndarray) -> float | np.ndarray:
    """Frequency in Hz of MIDI note number(s) (A4 = 69 = 440 Hz; fractions are cents / 100)."""
    return 440.0 * 2.0 ** ((np.asarray(note, dtype=np.float64) - 69.0) / 12.0)


def cents(f: float | np.ndarray, note: float) -> float | np.ndarray:
    """How far frequency ``f`` (Hz) lies from MIDI note ``note``, in cents (positive: sharp)."""
    return 1200.0 * np.log2(np.asarray(f, dtype=np.float64) / midi_hz(note))


class Partials:
    """Fundamental and harmonic amplitudes of magnitude spectra.

    Parameters
    ----------
    sr, n_fft : the analysis of the spectra (bin ``i`` is at ``i * sr / n_fft`` Hz)
    n_harmonics : harmonics returned per spectrum
    fmax : highest frequency read from a spectrum (Hz); default the Nyquist frequency. Spectra given
        to the methods hold at least the bins up to it (``n_bins`` of them) and may stop there.
    """

    def __init__(self, *, sr: int, n_fft: int, n_harmonics: int = N_HARMONICS, fmax: float | None = None):
        if n_harmonics < 1:
            raise ParameterError(f"n_harmonics={n_harmonics} must be at least 1")
        self.sr, self.n_fft = int(sr), int(n_fft)
        self.bin_hz = self.sr / self.n_fft
        self.n_harmonics = int(n_harmonics)
        self.fmax = float(sr) / 2 if fmax is None else min(float(fmax), float(sr) / 2)
        self.n_bins = int(self.fmax / self.bin_hz) + 1  # spectra may stop here (bins 0 .. n_bins - 1)
        n_cand = int(np.floor(12 * STEPS_PER_SEMITONE * np.log2(F0_MAX / F0_MIN))) + 1
        self.candidates = F0_MIN * 2.0 ** (np.arange(n_cand) / (12 * STEPS_PER_SEMITONE))  # (n_cand,) Hz
        k = np.arange(1, SCORE_HARMONICS + 1, dtype=np.float64)
        on = self.candidates[:, None] * k[None, :] / self.bin_hz  # (n_cand, K) bin positions
        off = self.candidates[:, None] * (k[None, :] - 0.5) / self.bin_hz
        valid = on * self.bin_hz < min(self.fmax, 5000.0)
        self._w = np.where(valid, 1.0 / k[None, :], 0.0).astype(np.float32)  # (n_cand, K)
        self._on = np.clip(np.rint(on), 0, self.n_bins - 1).astype(np.intp)  # (n_cand, K)
        self._off = np.clip(np.rint(off), 0, self.n_bins - 1).astype(np.intp)
        self._on_flat, self._off_flat, self._w_flat = self._on.ravel(), self._off.ravel(), self._w.ravel()
        self._g_on, self._g_off = np.empty(self._on.size, np.float32), np.empty(self._on.size, np.float32)

    def _near(self, pos: np.ndarray) -> np.ndarray:
        """Indices of the 3 bins around fractional bin positions ``pos``; shape ``pos.shape + (3,)``."""
        c = np.rint(pos).astype(np.int64)
        return np.clip(c[..., None] + np.arange(-1, 2), 0, self.n_bins - 1)

    def f0(self, S: np.ndarray) -> np.ndarray:
        """Estimated fundamental of each spectrum.

        Parameters
        ----------
        S : np.ndarray, shape (n, n_bins) or (n_bins,)

        Returns
        -------
        f0 : np.ndarray, shape (n,) (or a 0-d array), Hz

        One spectrum at a time is scored in buffers of this object: one thread per ``Partials``.
        """
        S2 = np.atleast_2d(np.asarray(S, dtype=np.float32))
        peak = S2.copy()  # the largest bin within one bin of each position
        np.maximum(peak[:, 1:], S2[:, :-1], out=peak[:, 1:])
        np.maximum(peak[:, :-1], S2[:, 1:], out=peak[:, :-1])
        if len(S2) == 1:  # the synth's case: gathers on the flat row, into buffers made once
            np.take(peak[0], self._on_flat, out=self._g_on)
            np.take(peak[0], self._off_flat, out=self._g_off)
            self._g_on -= self._g_off
            self._g_on *= self._w_flat
            score = self._g_on.reshape(self._w.shape).sum(axis=-1)[None, :]  # (1, n_cand)
        else:
            score = ((peak[:, self._on] - peak[:, self._off]) * self._w).sum(axis=-1)  # (n, n_cand)
        f = self.candidates[np.argmax(score, axis=1)]  # (n,)
        # refine to a cent around the winner (harmonic 48 of a 6-cent error is 5 bins off)
        fs = f[:, None] * 2.0 ** (np.linspace(-8.0, 8.0, 17) / 1200.0)[None, :]  # (n, 17)
        k = np.arange(1, SCORE_HARMONICS + 1)
        pos = fs[:, :, None] * k / self.bin_hz  # (n, 17, K)
        ok = pos < min(self.fmax, 5000.0) / self.bin_hz
        i0 = np.minimum(pos.astype(np.intp), self.n_bins - 2)
        frac = pos - i0
        rows = np.arange(len(S2))[:, None, None]
        val = (S2[rows, i0] * (1 - frac) + S2[rows, i0 + 1] * frac) * ok / k
        f = fs[np.arange(len(S2)), np.argmax(val.sum(axis=2), axis=1)]
        # a sub-octave: only its even multiples sound, so the fundamental is twice as high
        pos = np.clip(np.rint(f[:, None] * np.arange(1, 9) / self.bin_hz), 0, self.n_bins - 1).astype(np.intp)
        a = peak[np.arange(len(S2))[:, None], pos]
        f = np.where(a[:, 0::2].sum(axis=1) < 0.15 * a[:, 1::2].sum(axis=1), 2.0 * f, f)
        return f if np.ndim(S) > 1 else f[0]

    def near(self, S: np.ndarray, f: float) -> float:
        """The fundamental of spectrum ``S`` (n_bins,) within a quarter tone of ``f`` Hz (a register-aware
        decoder's spectrum sits at the note it was decoded for): the best of 21 candidates by the
        interpolated harmonic sum."""
        fs = f * _NEAR_STEPS  # (21,)
        pos = fs[:, None] * _SCORE_K / self.bin_hz  # (21, K)
        ok = pos < min(self.fmax, 5000.0) / self.bin_hz
        i0 = np.minimum(pos.astype(np.intp), self.n_bins - 2)
        frac = pos - i0
        S = np.asarray(S, dtype=np.float32)
        val = (S[i0] * (1 - frac) + S[i0 + 1] * frac) * ok / _SCORE_K
        return float(fs[np.argmax(val.sum(axis=1))])

    def noise_levels(self, S: np.ndarray, f0: float) -> np.ndarray:
        """The level between the partials of ``f0`` in spectrum ``S`` (n_bins,): the RMS of the bins
        more than :data:`NOISE_GAP` bins from every harmonic, in each gap ``(k f0, (k + 1) f0)`` (and
        ``(f0 / 2, f0)`` below the first); where a gap has no such bin (a low note), its middle bin.

        Returns
        -------
        levels : np.ndarray, shape (n_harmonics,), float32: gap ``j`` is centred on
            :meth:`noise_centres`\ ``[j]`` harmonics; 0 above ``fmax``
        """
        S = np.asarray(S, dtype=np.float64)[: self.n_bins]
        csum = np.concatenate([[0.0], np.cumsum(S * S)])
        K = self.n_harmonics
        j = np.arange(K, dtype=np.float64)
        lo_h, hi_h = np.where(j == 0, 0.5, j), j + 1.0  # the gap in harmonics of f0
        lo = np.ceil(lo_h * f0 / self.bin_hz + np.where(j == 0, 0.0, NOISE_GAP)).astype(np.intp)
        hi = np.floor(hi_h * f0 / self.bin_hz - NOISE_GAP).astype(np.intp) + 1
        lo, hi = np.clip(lo, 0, self.n_bins), np.clip(hi, 0, self.n_bins)
        mid = np.clip(np.rint(self.noise_centres() * f0 / self.bin_hz).astype(np.intp), 0, self.n_bins - 1)
        width = hi - lo
        power = np.where(width > 0, (csum[hi] - csum[lo]) / np.maximum(width, 1), S[mid] ** 2)
        levels = np.sqrt(power).astype(np.float32)
        levels[hi_h * f0 >= self.fmax] = 0.0
        return levels

    def noise_centres(self) -> np.ndarray:
        """Where each gap of :meth:`noise_levels` is centred, in harmonics of f0: 0.75, 1.5, 2.5, ..."""
        j = np.arange(self.n_harmonics, dtype=np.float64)
        return np.where(j == 0, 0.75, j + 0.5)

    def amplitudes(self, S: np.ndarray, f0: float, *, n_harmonics: int | None = None) -> np.ndarray:
        """Amplitude of harmonics ``1..n_harmonics`` of ``f0`` in spectrum ``S`` (n_bins,).

        Each is the largest bin within one bin of ``k * f0``; harmonics above ``fmax`` are 0.

        Returns
        -------
        a : np.ndarray, shape (n_harmonics,), float32
        """
        K = self.n_harmonics if n_harmonics is None else int(n_harmonics)
        pos = f0 * np.arange(1, K + 1) / self.bin_hz
        a = np.asarray(S, dtype=np.float32)[self._near(pos)].max(axis=-1)
        a[pos * self.bin_hz >= self.fmax] = 0.0
        return a


_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def midi_note(text: str | int) -> int:
    """MIDI note number of a name with octave (``"C4"`` = 60, ``"F#2"``, ``"Bb3"``, ``"c-1"`` = 0) or a
    number (``"60"``, ``60``).

    Raises
    ------
    ParameterError
        If ``text`` is neither, or the note is outside 0-127.
    """
    import re

    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        n = int(text)
    else:
        s = str(text).strip()
        m = re.fullmatch(r"([A-Ga-g])([#b]?)(-?\d+)", s)
        if s.lstrip("-").isdigit():
            n = int(s)
        elif m:
            n = _NAMES[m.group(1).upper()] + {"#": 1, "b": -1, "": 0}[m.group(2)] + 12 * (int(m.group(3)) + 1)
        else:
            raise ParameterError(f"note={text!r} is not a MIDI note: give a name with its octave (C4, F#2, Bb3) "
                                 "or a number (60 = C4)")
    if not 0 <= n <= 127:
        raise ParameterError(f"note={text!r} is MIDI note {n}; MIDI notes are 0 to 127")
    return n


def note_name(note: int) -> str:
    """The name with octave of MIDI ``note``: 60 -> ``C4``, 70 -> ``A#4``."""
    from manne.dsp import NOTE_NAMES

    return f"{NOTE_NAMES[int(note) % 12]}{int(note) // 12 - 1}"
