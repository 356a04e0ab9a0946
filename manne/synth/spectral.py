"""Inverse-STFT synthesis modes: the paper's noise phase, and a phase locked to the partials.

Both turn one spectrum per hop into ``hop_length`` samples by an inverse real FFT of ``n_fft``
points, a Hann synthesis window and overlap-add.

* ``"noise"`` (the paper's): the magnitude of the voices' harmonics (each a Hann main lobe at its
  exact frequency), and every bin gets a fresh uniformly random phase each hop, drawn from a PCG64
  stream: it never repeats (the old 64-row table looped every 0.37 s).
* ``"coherent"``: each harmonic is drawn as the Hann window's main lobe at its exact frequency with
  its own running phase (inverse-FFT synthesis, Rodet & Depalle 1992), so a steady note is steady:
  no beating between neighbouring bins, no DC.

Levels do not depend on the hop: a coherent frame is already a Hann-windowed sinusoid, so the
overlapping frames are divided by the windows' sum; a noise frame is windowed and the frames add in
power, so they are divided by the root of the squared windows' sum. NumPy only.
"""

from __future__ import annotations

import numpy as np

from manne.dsp import hann
from manne.errors import ParameterError
from manne.synth.limits import PHASE_MODES

__all__ = ["SPECTRAL_MODES", "OverlapAdd", "lobe"]

SPECTRAL_MODES = PHASE_MODES
LOBE = np.arange(-2, 3)  # bins around a partial drawn by the coherent mode (the Hann main lobe is +-2 bins)


def lobe(delta: np.ndarray) -> np.ndarray:
    """Hann window transform at ``delta`` bins from its centre, normalised to 1 at 0 (real, zero-phase)."""
    d = np.asarray(delta, dtype=np.float64)
    out = np.sinc(d) / (1.0 - d * d + 1e-12)
    return np.where(np.abs(np.abs(d) - 1.0) < 1e-9, 0.5, out)  # the limit at |d| = 1


class OverlapAdd:
    """Overlap-add synthesis of one spectrum per hop.

    Parameters
    ----------
    n_fft : int, frame length (the model's 4096, or shorter for a faster response)
    hop_length : int, samples per hop
    sr : int
    seed : int, the noise phase stream
    """

    def __init__(self, *, n_fft: int, hop_length: int, sr: int, seed: int = 0):
        if n_fft % hop_length or hop_length > n_fft // 2:
            raise ParameterError(f"hop_length={hop_length} must divide n_fft={n_fft} and be at most n_fft/2")
        self.n_fft, self.hop_length, self.sr = int(n_fft), int(hop_length), int(sr)
        self.n_bins = self.n_fft // 2 + 1
        self.bin_hz = self.sr / self.n_fft
        N, H = self.n_fft, self.hop_length
        w = hann(N).astype(np.float64)
        overlap = w.reshape(-1, H).sum(axis=0)[np.arange(N) % H]
        power = np.sqrt((w ** 2).reshape(-1, H).sum(axis=0))[np.arange(N) % H]
        # a partial frame is already a windowed sinusoid: divide by the overlapping windows' sum only
        self.window = {"coherent": (1.0 / overlap).astype(np.float32), "noise": (w / power).astype(np.float32)}
        self._rng = np.random.default_rng(seed)
        self._tail = np.zeros(N, dtype=np.float32)
        self._centre = np.where(np.arange(self.n_bins) % 2, -1.0, 1.0)  # puts time zero at the frame's centre

    def reset(self) -> None:
        self._tail[:] = 0.0

    def noise_frame(self, S: np.ndarray) -> np.ndarray:
        """The next hop from magnitude ``S`` (n_bins,) with a fresh random phase per bin.

        ``S`` is scaled like :meth:`partial_spectrum`: a partial of peak amplitude 1 keeps the power
        of a unit sinusoid (its frames add in power).
        """
        # a partial's Hann lobe holds 3 (N/4)^2 of power, a unit sinusoid N^2 / 2: scale by sqrt(8 / 3)
        X = (S * np.sqrt(8.0 / 3.0)) * np.exp(1j * self._rng.uniform(-np.pi, np.pi, self.n_bins))
        return self._add(np.fft.irfft(X, n=self.n_fft), "noise")

    def gaussian_frame(self, S: np.ndarray) -> np.ndarray:
        """The next hop of noise whose power spectrum is ``S ** 2``, scaled as :meth:`noise_frame`:
        each bin a fresh complex Gaussian (Rayleigh magnitude, as a noise's own STFT has), a few
        times cheaper to draw than a uniform phase's complex exponential.

        Parameters
        ----------
        S : np.ndarray, shape (m,), m <= n_bins: the lowest ``m`` bins (the others are silent)
        """
        m = len(S)
        g = self._rng.standard_normal((2, m))
        X = np.zeros(self.n_bins, dtype=np.complex128)
        s = S * np.sqrt(4.0 / 3.0)  # sqrt(8 / 3) of noise_frame, halved in power for the two components
        X.real[:m], X.imag[:m] = s * g[0], s * g[1]
        return self._add(np.fft.irfft(X, n=self.n_fft), "noise")

    def partial_frame(self, freqs: np.ndarray, amps: np.ndarray, phases: np.ndarray) -> np.ndarray:
        """The next hop from partials: frequencies (P,) Hz, peak amplitudes (P,), phases (P,) at the
        frame's centre (radians)."""
        return self._add(np.fft.irfft(self.partial_spectrum(freqs, amps, phases), n=self.n_fft), "coherent")

    def partial_spectrum(self, freqs: np.ndarray, amps: np.ndarray, phases: np.ndarray) -> np.ndarray:
        """Spectrum (n_bins,) complex of Hann-windowed partials centred in the frame."""
        pos = freqs / self.bin_hz
        k = np.rint(pos).astype(np.intp)[:, None] + LOBE[None, :]  # (P, 5)
        ok = (k > 0) & (k < self.n_bins)
        vals = lobe(k - pos[:, None]) * (amps * self.n_fft / 4.0)[:, None] * np.exp(1j * phases)[:, None]
        X = np.zeros(self.n_bins, dtype=np.complex128)
        np.add.at(X, k[ok], vals[ok])
        X *= self._centre
        return X

    def _add(self, frame: np.ndarray, mode: str) -> np.ndarray:
        H = self.hop_length
        t = self._tail
        t += frame.astype(np.float32) * self.window[mode]
        out = t[:H].copy()
        t[:-H] = t[H:]
        t[-H:] = 0.0
        return out
