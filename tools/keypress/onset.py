"""Where a sound starts or changes in a capture: ``--onset energy`` and ``--onset change``. NumPy only."""

from __future__ import annotations

import numpy as np

from tools.keypress import SR

__all__ = ["onset_energy", "onset_change", "PRE_S", "END_S", "N_FFT", "HOP"]

PRE_S = 0.150  # pre-press reference for --onset change (energy uses the last 100 ms of it)
END_S = 0.080  # the end of the hold: the eventual state for --onset change
N_FFT, HOP = 512, 64


def onset_energy(y: np.ndarray, *, start: int, stop: int, sr: int = SR, rise_db: float = 20.0,
                 floor_db: float = -60.0) -> int | None:
    """First sample in ``[start, stop)`` whose trailing 1 ms RMS exceeds the threshold, or None.

    The threshold is ``rise_db`` above the RMS of the 100 ms before ``start`` and at least
    ``floor_db`` dBFS.
    """
    w = max(1, sr // 1000)
    pre = y[max(0, start - sr // 10): start].astype(np.float64)
    floor = np.sqrt(np.mean(pre ** 2)) if len(pre) else 0.0
    thr = max(floor * 10 ** (rise_db / 20), 10 ** (floor_db / 20))
    lo = max(0, start - w)
    seg = y[lo:stop].astype(np.float64)
    c = np.concatenate([[0.0], np.cumsum(seg ** 2)])
    rms = np.sqrt(np.maximum(c[w:] - c[:-w], 0) / w)  # rms[k]: window ending at sample lo + k + w - 1
    ends = lo + np.arange(len(rms)) + w - 1
    hit = np.flatnonzero((rms > thr) & (ends >= start))
    return int(ends[hit[0]]) if len(hit) else None



def _spectra(y: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Compressed magnitude spectra ``|X| ** 0.5`` of 512-sample Hann frames starting at ``starts``;
    shape (len(starts), 257). The square root keeps a few strong partials from deciding alone
    (the noise-phase synth's frames scatter least this way; a log would move the half-way point
    towards partials that appear from nothing)."""
    idx = starts[:, None] + np.arange(N_FFT)[None, :]
    return np.sqrt(np.abs(np.fft.rfft(y[idx].astype(np.float64) * np.hanning(N_FFT), axis=1)))



def _step(p: np.ndarray, level: float) -> int | None:
    """The index where a 0/1 step best fits ``p > level``: the fewest frames above ``level`` before it
    plus below it from there on (the earliest such index); None if no frame is above. For a curve
    that crosses once this is the first crossing; a lone noisy frame above the level before the
    change does not count."""
    above = p > level
    if not above.any():
        return None
    cost = np.concatenate([[0], np.cumsum(above)]) + np.concatenate([np.cumsum(~above[::-1])[::-1], [0]])
    return int(np.argmin(cost[:-1]))



def onset_change(y: np.ndarray, *, start: int, stop: int, end: int, sr: int = SR,
                 fraction: float = 0.5) -> tuple[int | None, float]:
    """The frame centre in ``[start, stop)`` where the spectrum has made ``fraction`` of its change.

    Each frame's spectrum is placed on the line from the mean spectrum of the ``PRE_S`` before
    ``start`` (0) to the mean spectrum of the ``END_S`` before ``end``, the key release (1): the
    projection of its difference from the first onto the difference between the two. The curve,
    smoothed over 3 frames, is fitted with a step at ``fraction`` (:func:`_step`). Returns
    ``(sample or None, contrast)``: contrast is the eventual change over the standard deviation of
    the pre-press frames along the same line; below 3 there is no clear change (None).
    """
    pre0, end0 = start - int(PRE_S * sr), end - int(END_S * sr)
    if pre0 < 0 or end0 <= start or stop + N_FFT > len(y):
        return None, 0.0
    pre = _spectra(y, np.arange(pre0, start - N_FFT + 1, HOP))
    ref = pre.mean(axis=0)
    change = _spectra(y, np.arange(end0, end - N_FFT + 1, HOP)).mean(axis=0) - ref
    norm2 = float(change @ change)
    if norm2 == 0.0:
        return None, 0.0
    contrast = 1.0 / max(float(np.std((pre - ref) @ change / norm2)), 1e-12)
    if contrast < 3.0:
        return None, contrast
    starts = np.arange(start - N_FFT // 2, min(stop, end) - N_FFT // 2, HOP)
    p = np.convolve((_spectra(y, starts) - ref) @ change / norm2, np.ones(3) / 3, mode="same")
    k = _step(p, fraction)
    return (None if k is None else int(starts[k] + N_FFT // 2)), contrast
