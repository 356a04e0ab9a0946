"""Real-time phase gradient heap integration (RTPGHI): a phase for a magnitude-only spectrum, hop by hop.

Průša & Søndergaard, "Real-Time Spectrogram Inversion Using Phase Gradient Heap Integration"
(DAFx-16), and Průša, Balazs & Søndergaard, "A Noniterative Method for Reconstruction of Phase
from STFT Magnitude" (IEEE/ACM TASLP 2017). The zero look-ahead variant.

For a Gaussian window ``exp(-pi t^2 / gamma)`` the STFT's phase gradient follows from its
log-magnitude ``s`` (frame-local phase, time zero at the frame's centre, as
:meth:`~manne.synth.spectral.OverlapAdd.partial_spectrum` draws it)::

    phase change per hop  (bin m)   = 2 pi a m / M + (a M / gamma) ds/dm
    phase change per bin  (frame n) = -(gamma / (a M)) ds/dn

with ``a`` the hop and ``M = n_fft``. A Hann window of ``n_fft`` samples is approximated by the
Gaussian of ``gamma = 0.25645 n_fft^2``. ``ds/dm`` is a centred difference; ``ds/dn`` is the
backward difference from the previous frame (no look-ahead). A bin above ``tol`` times the largest
magnitude of the two frames takes its phase from the previous frame (integrated along time, the
trapezoidal rule) or from a neighbour of this frame (integrated along frequency), whichever of the
two reaches it from the larger coefficients first: the heap integration. Bins below ``tol`` get a
random phase.

The heap is not run bin by bin in Python. On one frame it is a widest-path flood: bin ``m`` is
reached along time at the level ``p[m]`` of its previous-frame coefficient, or along frequency from
a neighbour, at the smallest key on the way (``min(p[s], c[s], ..., c[m -+ 1])`` from a source bin
``s``; ``c`` the current frame's keys). The best level arriving from below is the running clamp
``L[m] = max(min(p, c)[m-1], min(c[m-1], L[m-1]))``, a composition of clamps and so a scan that
takes log2(n_bins) vectorised steps (the same from above). A bin whose own ``p`` is highest is
integrated along time; any other bin takes the phase of the nearest such bin on the side it is
reached from, plus the frequency integral between them. ``tests/test_rtpghi.py`` checks this
against a plain ``heapq`` loop.

NumPy only; everything is prepared in the constructor, a frame costs O(n_bins log n_bins) in a few
dozen array operations, whatever the number of partials.
"""

from __future__ import annotations

import numpy as np

from manne.dsp import hann
from manne.errors import ParameterError
from manne.synth.spectral import OverlapAdd

__all__ = ["RTPGHI", "PhaseGradientOverlapAdd", "GAMMA_HANN", "TOL", "HOP_BLOCKS", "arrival", "heap_integrate"]

GAMMA_HANN = 0.25645  # gamma / n_fft^2 of the Gaussian closest to a Hann window of n_fft samples
TOL = 1e-5  # bins this far (-100 dB) below the frames' largest magnitude get a random phase
# the instrument's hop, in blocks: 128 samples is 32 frames per n_fft = 4096. Longer hops cost less on
# average, not in the block that computes a frame (the real-time deadline), and step the envelope
HOP_BLOCKS = 1
LATE = 1e3  # a new bin's key: below every previous coefficient's (log), ordered by its own magnitude


def arrival(p: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The best level at which the heap reaches each bin from the bins below it.

    ``L[0] = -inf``, ``L[m] = max(min(p[m-1], c[m-1]), min(c[m-1], L[m-1]))``: each step is the clamp
    ``L -> clip(L, min(p, c), c)``, and clamps compose into clamps, so a Hillis-Steele scan does it.

    Parameters
    ----------
    p, c : np.ndarray, shape (n,), keys of the previous (time) and current (frequency) coefficients

    Returns
    -------
    L : np.ndarray, shape (n,)
    """
    clamp = np.stack([np.minimum(p, c), c]).astype(np.float64)  # (lower, upper) bound of each step
    n, d = clamp.shape[1], 1
    while d < n:  # step i becomes step i composed after the d steps before it: both bounds clamped
        head = np.minimum(clamp[1:, d:], clamp[:, :-d])
        np.maximum(clamp[:1, d:], head, out=head)
        clamp[:, d:] = head
        d *= 2
    out = np.empty(n)
    out[0] = -np.inf
    out[1:] = clamp[0, :-1]  # a composed clamp applied to -inf gives its lower bound
    return out


def heap_integrate(p: np.ndarray, c: np.ndarray, along_time: np.ndarray, fgrad: np.ndarray) -> np.ndarray:
    """One frame's heap integration: each bin's phase along time or from a neighbour along frequency.

    Parameters
    ----------
    p : np.ndarray, shape (n,), the key at which a bin is reached along time (its previous
        coefficient's log-magnitude); -inf for a bin left out
    c : np.ndarray, shape (n,), the key at which a bin, once it has a phase, passes it on to its
        neighbours (its own log-magnitude); -inf for a bin left out
    along_time : np.ndarray, shape (n,), each bin's phase integrated from the previous frame
    fgrad : np.ndarray, shape (n,), the phase's change per bin at each bin

    Returns
    -------
    phase : np.ndarray, shape (n,), radians (unwrapped); NaN where ``c`` is -inf
    """
    n = len(c)
    up, down = arrival(p, c), arrival(p[::-1], c[::-1])[::-1]
    big = c > -np.inf
    timed = big & (p >= np.maximum(up, down))  # reached along time before any neighbour reaches it
    m = np.arange(n)
    below = np.maximum.accumulate(np.where(timed, m, -1))  # the nearest timed bin at or below
    above = np.minimum.accumulate(np.where(timed, m, n)[::-1])[::-1]  # ... at or above
    src = np.where(up >= down, below, above)
    src = np.where(timed | (src < 0) | (src >= n), m, src)
    cum = np.zeros(n)  # the frequency integral (trapezoidal) from bin 0
    np.cumsum(0.5 * (fgrad[1:] + fgrad[:-1]), out=cum[1:])
    return np.where(big, along_time[src] + (cum - cum[src]), np.nan)


class RTPGHI:
    """The phase of each frame from its magnitude and the previous frame's.

    Parameters
    ----------
    n_fft : int, frame length (a Hann window of this length)
    hop_length : int, samples between frames
    tol : float, relative magnitude below which a bin gets a random phase (0 < tol < 1)
    rng : np.random.Generator, the random phases
    """

    def __init__(self, *, n_fft: int, hop_length: int, tol: float = TOL, rng: np.random.Generator | None = None):
        if not 0.0 < tol < 1.0:
            raise ParameterError(f"tol={tol} must be between 0 and 1")
        M, a = int(n_fft), int(hop_length)
        self.n_fft, self.hop_length, self.tol = M, a, float(tol)
        self.n_bins = M // 2 + 1
        self.gamma = GAMMA_HANN * M * M
        self._tplus = 2.0 * np.pi * a * np.arange(self.n_bins) / M  # a bin-centred sinusoid's phase advance per hop
        self._tmul = a * M / (2.0 * self.gamma)  # times s[m+1] - s[m-1]
        self._fmul = -self.gamma / (a * M)  # times s[n] - s[n-1]
        self._rng = rng if rng is not None else np.random.default_rng(0)
        self.reset()

    def reset(self) -> None:
        """Forget the previous frame (the next one starts from silence)."""
        self._S = np.zeros(self.n_bins)
        self._tgrad = self._tplus.copy()
        self._phase = self._rng.uniform(-np.pi, np.pi, self.n_bins)

    def phase(self, S: np.ndarray) -> np.ndarray:
        """The phase (n_bins,) radians of magnitude frame ``S`` (n_bins,); advances one hop."""
        S = np.asarray(S, dtype=np.float64)
        S0 = self._S
        top = max(float(S.max(initial=0.0)), float(S0.max(initial=0.0)))
        if top <= 0.0:  # silence: nothing to integrate
            self._S = S.copy()
            return self._phase
        floor = self.tol * top
        # above the highest bin over tol in either frame the log-magnitude is flat: work below it
        k = min(self.n_bins, int(np.flatnonzero((S > floor) | (S0 > floor))[-1]) + 3)
        big, big0 = S[:k] > floor, S0[:k] > floor
        s, s0 = np.log(np.maximum(S[:k], floor)), np.log(np.maximum(S0[:k], floor))
        tgrad = self._tplus.copy()  # radians per hop
        tgrad[1 : k - 1] += self._tmul * (s[2:] - s[:-2])
        # radians per bin; a new bin has no time gradient, and a centre more than half a frame
        # away (a jump in level no STFT of this window can make) is held at the frame's edge
        fgrad = np.where(big0, self._fmul * (s - s0), 0.0)
        np.clip(fgrad, -np.pi, np.pi, out=fgrad)
        along_time = self._phase[:k] + 0.5 * (self._tgrad[:k] + tgrad[:k])
        # heap keys: a bin above tol enters along time at its previous log-magnitude (a new one
        # after all of those, largest first) and spreads along frequency at its own
        p = np.where(big, np.where(big0, s0, s - LATE), -np.inf)
        c = np.where(big, s, -np.inf)
        phase = self._rng.uniform(-np.pi, np.pi, self.n_bins)
        phase[:k] = np.where(big, heap_integrate(p, c, along_time, fgrad), phase[:k])
        phase[:k] = np.remainder(phase[:k] + np.pi, 2.0 * np.pi) - np.pi
        self._S, self._tgrad, self._phase = S.copy(), tgrad, phase
        return phase


class PhaseGradientOverlapAdd(OverlapAdd):
    """:class:`~manne.synth.spectral.OverlapAdd` with RTPGHI frames (:meth:`pghi_frame`).

    A frame with a consistent phase is an analysis frame: already Hann-windowed. It is windowed
    again by the canonical dual of the Hann window at this hop, ``w / sum_j w(n - j a)^2``: on a
    consistent spectrum that gives the signal back exactly (the overlapping frames add in amplitude,
    as the coherent method's), and what the phase estimate gets wrong is faded out at the frame's
    edges instead of wrapping around them as a click every hop.

    Parameters
    ----------
    n_fft, hop_length, sr, seed : as :class:`~manne.synth.spectral.OverlapAdd`
    tol : float, see :class:`RTPGHI`
    """

    def __init__(self, *, n_fft: int, hop_length: int, sr: int, seed: int = 0, tol: float = TOL):
        super().__init__(n_fft=n_fft, hop_length=hop_length, sr=sr, seed=seed)
        N, H = self.n_fft, self.hop_length
        w = hann(N).astype(np.float64)
        self.window["rtpghi"] = (w / (w ** 2).reshape(-1, H).sum(axis=0)[np.arange(N) % H]).astype(np.float32)
        self.pghi = RTPGHI(n_fft=N, hop_length=H, tol=tol, rng=self._rng)

    def reset(self) -> None:
        super().reset()
        self.pghi.reset()

    def pghi_frame(self, S: np.ndarray) -> np.ndarray:
        """The next hop (hop_length,) from magnitude ``S`` (n_bins,), scaled as :meth:`partial_spectrum`'s."""
        X = (S * self._centre) * np.exp(1j * self.pghi.phase(S))
        return self._add(np.fft.irfft(X, n=self.n_fft), "rtpghi")
