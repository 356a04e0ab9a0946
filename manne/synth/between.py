"""The noise between a note's partials: what a bow, a breath or a reed adds beside the harmonics.

:class:`~manne.synth.pitch.Partials` reads, from each decoded spectrum, the level of the noise in
each gap between its harmonics (:meth:`~manne.synth.pitch.Partials.noise_levels`). :class:`Between`
plays it: one random-phase overlap-add frame for all voices every hop, each bin's magnitude the
voices' gap levels at their own harmonics (so a bent note's noise bends with it), times their
envelopes, added in power. Frames are half the analysis window (2048 points for the model's 4096)
and hop by half of theirs: a quarter of the cost per sample of the analysis window's frames, and
the gaps between partials are still several bins wide. Every bin is a complex Gaussian drawn
afresh each hop, so the noise never repeats. NumPy only.
"""

from __future__ import annotations

import math

import numpy as np

from manne.synth.pitch import midi_hz
from manne.synth.spectral import OverlapAdd

__all__ = ["Between", "NOISE_MAX_DB", "NOISE_MAX"]

NOISE_MAX_DB = -35.0  # the loudest bin between partials, relative to the strongest partial (real notes: -42 to -51)
NOISE_MAX = 10.0 ** (NOISE_MAX_DB / 20.0)


class Between:
    """Noise between the voices' partials, a block at a time.

    Parameters
    ----------
    sr, n_fft : the model's analysis (a decoded bin's level is relative to a partial's peak bin in it)
    block : samples per block of the synth
    fmax : Hz, the highest bin filled (the decoder's band)
    centres : np.ndarray, shape (n_harmonics,): where each gap is centred, in harmonics of f0
        (:meth:`~manne.synth.pitch.Partials.noise_centres`)
    seed : int
    """

    def __init__(self, *, sr: int, n_fft: int, block: int, fmax: float, centres: np.ndarray, seed: int = 0):
        n = n_fft // 2
        hop = max(block, (n // 2) // block * block)
        self.block = int(block)
        self._ola = OverlapAdd(n_fft=n, hop_length=hop, sr=sr, seed=seed)
        self._hz = np.arange(int(fmax * n / sr) + 1) * (sr / n)  # the bins it fills
        self._centres = np.asarray(centres, dtype=np.float64)
        # a decoded bin of level 1 holds the noise power that a partial of amplitude 1's peak bin would,
        # in the analysis window (a partial's peak is n_fft / 4); a window half as long sees half the power per bin
        self._scale = n_fft / 4.0 * math.sqrt(n / n_fft)
        self.sounding = True  # whether a frame has played since the last reset
        self.reset()

    def reset(self) -> None:
        """Silence: drop the overlap-add's tail (a no-op when nothing has played since the last reset)."""
        if self.sounding:
            self._ola.reset()
            self._out, self._pos = np.zeros(0, dtype=np.float32), 0
            self.sounding = False

    def block_of(self, voices: list, envs: list, ratio: float, levels: dict) -> np.ndarray:
        """The next block of noise, shape (block,) float32 (a view: add it, do not keep it).

        Parameters
        ----------
        voices : the sounding voices (``note``, ``pitch_class``: the key of ``levels``)
        envs : each voice's envelope over the block, shape (block,)
        ratio : the pitch bend, as a frequency ratio
        levels : decode key -> gap levels (n_harmonics,), relative to the strongest partial at 1
        """
        self.sounding = True
        if self._pos >= len(self._out):
            P = np.zeros(len(self._hz))
            for v, env in zip(voices, envs):
                gaps = levels.get(v.pitch_class)
                if gaps is None:
                    continue
                m = np.interp(self._hz / (float(midi_hz(v.note)) * ratio), self._centres, gaps, left=0.0, right=0.0)
                m *= float(env[-1])
                P += m * m
            self._out, self._pos = self._ola.gaussian_frame(np.sqrt(P) * self._scale).astype(np.float32), 0
        out = self._out[self._pos : self._pos + self.block]
        self._pos += self.block
        return out
