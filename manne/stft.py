"""The analysis' STFT, inverse STFT and chroma filterbank in NumPy, equal to librosa's.

For the paths that must not load librosa (the live transfer, :mod:`manne.synth.transfer`) or need
not wait for it (the offline transfer: librosa's import and its numba helpers' first call cost
more than transferring a minute of audio). Each function states the librosa call it equals;
``tests/test_live_transfer.py`` checks them against librosa.

- ``y``: samples, shape ``(n_samples,)``
- ``X``: complex spectra, shape ``(n_frames, n_bins)``, ``n_bins = n_fft // 2 + 1``
"""

from __future__ import annotations

import numpy as np

from manne.dsp import hann
from manne.errors import ParameterError

__all__ = ["stft", "istft", "chroma_filterbank"]


def stft(y: np.ndarray, *, n_fft: int, hop_length: int, chunk: int = 512) -> np.ndarray:
    """Complex STFT with centred frames, zero padding and a periodic Hann window.

    ``librosa.stft(y, n_fft=n_fft, hop_length=hop_length, window="hann", center=True,
    pad_mode="constant").T``: frame ``t`` covers samples ``t * hop_length - n_fft // 2`` onwards.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    n_fft, hop_length : int
    chunk : int, frames transformed at once (bounds the temporary windowed frames)

    Returns
    -------
    X : np.ndarray, shape (1 + n_samples // hop_length, n_fft // 2 + 1), complex64
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ParameterError(f"y has shape {y.shape}; stft needs a mono signal (1-D)")
    if n_fft < 2 or hop_length < 1:
        raise ParameterError(f"n_fft={n_fft} must be at least 2 and hop_length={hop_length} at least 1")
    pad = n_fft // 2
    yp = np.pad(y, pad)
    if len(yp) < n_fft:
        raise ParameterError(f"y has {len(y)} samples; one centred frame of n_fft={n_fft} needs at least {n_fft - 2 * pad}")
    frames = np.lib.stride_tricks.sliding_window_view(yp, n_fft)[::hop_length]  # (n_frames, n_fft), a view
    w = hann(n_fft)
    X = np.empty((len(frames), n_fft // 2 + 1), dtype=np.complex64)
    for t0 in range(0, len(frames), chunk):
        X[t0 : t0 + chunk] = np.fft.rfft(frames[t0 : t0 + chunk] * w, axis=1)
    return X


def istft(X: np.ndarray, *, hop_length: int, length: int, chunk: int = 512) -> np.ndarray:
    """Inverse of :func:`stft`: inverse FFTs, Hann synthesis window, overlap-add divided by the windows'
    squared sum where it is not tiny, the centring padding cut.

    ``librosa.istft(X.T, hop_length=hop_length, window="hann", center=True, length=length)``.

    Parameters
    ----------
    X : np.ndarray, shape (n_frames, n_fft // 2 + 1), complex
    hop_length, length : int

    Returns
    -------
    y : np.ndarray, shape (length,), float32
    """
    n_frames, n_bins = X.shape
    n_fft = 2 * (n_bins - 1)
    H = int(hop_length)
    R = -(-n_fft // H)  # hops per frame
    w = hann(n_fft)
    w_pad = np.zeros(R * H, dtype=np.float32)
    w_pad[:n_fft] = w
    n_rows = n_frames + R - 1
    y = np.zeros((n_rows, H), dtype=np.float32)  # the signal, one hop per row
    env = np.zeros((n_rows, H), dtype=np.float32)
    w2 = (w_pad * w_pad).reshape(R, H)
    for r in range(R):
        env[r : r + n_frames] += w2[r]
    frames = np.zeros((min(chunk, n_frames), R * H), dtype=np.float32)
    for t0 in range(0, n_frames, chunk):
        m = min(chunk, n_frames - t0)
        frames[:m, :n_fft] = np.fft.irfft(X[t0 : t0 + m], n=n_fft, axis=1)
        frames[:m] *= w_pad
        blocks = frames[:m].reshape(m, R, H)
        for r in range(R):
            y[t0 + r : t0 + r + m] += blocks[:, r]
    y, env = y.reshape(-1), env.reshape(-1)
    ok = env > np.finfo(np.float32).tiny
    y[ok] /= env[ok]
    out = y[n_fft // 2 : n_fft // 2 + length]
    return out if len(out) == length else np.pad(out, (0, length - len(out)))


def chroma_filterbank(*, sr: int, n_fft: int, fmin: float, fmax: float) -> np.ndarray:
    """The analysis' chroma filterbank: :func:`manne.corpus.analysis.chroma_filter` without librosa.

    ``librosa.filters.chroma`` (12 classes, C first, A440, tuning 0, ``ctroct=5``, ``octwidth=2``,
    L2-normalised columns), zero outside ``fmin..fmax``.

    Returns
    -------
    fb : np.ndarray, shape (12, n_fft // 2 + 1), float32
    """
    if not 0 <= fmin < fmax:
        raise ParameterError(f"fmin={fmin}, fmax={fmax}: the chroma band needs 0 <= fmin < fmax")
    n_chroma = 12
    freqs = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    frqbins = n_chroma * np.log2(freqs / (440.0 / 16))  # librosa.hz_to_octs at tuning 0, in chroma bins
    frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))  # DC: 1.5 octaves below bin 1
    binwidth = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1]))
    D = np.subtract.outer(frqbins, np.arange(0, n_chroma, dtype="d")).T
    half = np.round(n_chroma / 2)
    D = np.remainder(D + half + 10 * n_chroma, n_chroma) - half
    wts = np.exp(-0.5 * (2 * D / binwidth[None, :]) ** 2)
    norm = np.sqrt((wts ** 2).sum(axis=0, keepdims=True))
    wts = wts / np.where(norm < np.finfo(wts.dtype).tiny, 1.0, norm)
    wts *= np.exp(-0.5 * ((frqbins / n_chroma - 5.0) / 2.0) ** 2)[None, :]
    wts = np.roll(wts, -3, axis=0)  # base C
    fb = wts[:, : n_fft // 2 + 1].astype(np.float32)
    bins_hz = np.arange(n_fft // 2 + 1) * (sr / n_fft)
    fb[:, (bins_hz < fmin) | (bins_hz > fmax)] = 0.0
    return np.ascontiguousarray(fb)
