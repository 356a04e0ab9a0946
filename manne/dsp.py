"""Pure signal processing: STFT frames, normalisation, chroma, phase and overlap-add.

This module imports NumPy and SciPy only. Shapes follow one vocabulary:

- ``y``: samples, shape ``(n_samples,)``, float32 in [-1, 1]
- ``S``: magnitudes, shape ``(n_frames, n_bins)`` with ``n_bins = n_fft // 2 + 1``
- ``note``: pitch class 0-11, C=0
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from manne.errors import ParameterError

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_index(name: str | int) -> int:
    """Pitch class 0-11 of a note name (``"C"``, ``"F#"``, ``"Bb"``) or an integer.

    Raises
    ------
    ParameterError
        If the name is not a note.
    """
    if isinstance(name, (int, np.integer)):
        if not 0 <= int(name) < 12:
            raise ParameterError(f"note={name} must be between 0 (C) and 11 (B)")
        return int(name)
    s = str(name).strip()
    if s.lstrip("-").isdigit():
        return note_index(int(s))
    flats = {"DB": "C#", "EB": "D#", "GB": "F#", "AB": "G#", "BB": "A#"}
    key = flats.get(s.upper(), s.upper())
    names = [n.upper() for n in NOTE_NAMES]
    if key not in names:
        raise ParameterError(f"note={name!r} is not a note name; use one of {', '.join(NOTE_NAMES)}")
    return names.index(key)


def hann(n_fft: int) -> np.ndarray:
    """Periodic Hann window, shape ``(n_fft,)``, float32 (as librosa and scipy's STFT use)."""
    return scipy.signal.get_window("hann", n_fft, fftbins=True).astype(np.float32)


def frame_count(n_samples: int, *, n_fft: int, hop_length: int) -> int:
    """Number of centred STFT frames of a signal of ``n_samples`` samples."""
    return 1 + n_samples // hop_length


def stft_magnitude(
    y: np.ndarray, *, n_fft: int = 4096, hop_length: int = 1024, chunk: int = 1024
) -> np.ndarray:
    """Magnitude STFT of a mono signal, centred frames with zero padding.

    Frame ``t`` covers samples ``[t*hop_length - n_fft//2, t*hop_length + n_fft//2)``,
    windowed by a periodic Hann window. Computed ``chunk`` frames at a time so a long
    file never holds its whole complex STFT in memory.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    n_fft, hop_length : int

    Returns
    -------
    S : np.ndarray, shape (n_frames, n_fft // 2 + 1), float32
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ParameterError(f"y has shape {y.shape}; stft_magnitude needs a mono signal (1-D)")
    pad = n_fft // 2
    yp = np.pad(y, (pad, pad))
    n_frames = frame_count(len(y), n_fft=n_fft, hop_length=hop_length)
    yp = np.pad(yp, (0, max(0, (n_frames - 1) * hop_length + n_fft - len(yp))))
    frames = np.lib.stride_tricks.sliding_window_view(yp, n_fft)[::hop_length][:n_frames]
    window = hann(n_fft)
    S = np.empty((n_frames, n_fft // 2 + 1), dtype=np.float32)
    for start in range(0, n_frames, chunk):
        block = frames[start : start + chunk] * window
        S[start : start + chunk] = np.abs(np.fft.rfft(block, axis=1))
    return S


def normalize_frames(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Divide each frame by its own maximum.

    Parameters
    ----------
    S : np.ndarray, shape (n_frames, n_bins)

    Returns
    -------
    S_norm : np.ndarray, shape (n_frames, n_bins), float32, each row's max is 1 (or 0 for an all-zero row)
    gain : np.ndarray, shape (n_frames,), float32, the maximum that was divided out
    """
    gain = S.max(axis=1).astype(np.float32)
    safe = np.where(gain > 0, gain, 1.0).astype(np.float32)
    return (S / safe[:, None]).astype(np.float32, copy=False), gain


def loud_frames(gain: np.ndarray, *, silence_db: float) -> np.ndarray:
    """Mask of frames within ``silence_db`` dB of the loudest frame.

    Parameters
    ----------
    gain : np.ndarray, shape (n_frames,)
        Each frame's maximum magnitude.

    Returns
    -------
    keep : np.ndarray of bool, shape (n_frames,)
    """
    peak = float(gain.max()) if len(gain) else 0.0
    if peak <= 0:
        return np.zeros(len(gain), dtype=bool)
    return gain > peak * 10.0 ** (-silence_db / 20.0)


def chroma_filter(*, sr: int, n_fft: int, fmin: float = 50.0, fmax: float = 5000.0) -> np.ndarray:
    """Chroma filterbank mapping STFT power to the 12 pitch classes.

    Each bin between ``fmin`` and ``fmax`` spreads its power over the pitch classes with a
    Gaussian (in semitones, circular) whose width is at least half a semitone and at least
    half the bin's own width in semitones, so low bins that span several semitones share
    their energy instead of voting for one class. Each bin's weights sum to one.

    Returns
    -------
    fb : np.ndarray, shape (12, n_fft // 2 + 1), float32
    """
    n_bins = n_fft // 2 + 1
    freqs = np.arange(n_bins) * sr / n_fft
    fb = np.zeros((12, n_bins), dtype=np.float64)
    band = (freqs >= fmin) & (freqs <= fmax)
    f = freqs[band]
    df = sr / n_fft
    c0 = 440.0 * 2.0 ** (-57 / 12)  # C0, so that pitch 0 mod 12 is C
    pitch = 12.0 * np.log2(f / c0)
    width = 12.0 * np.log2((f + df / 2) / np.maximum(f - df / 2, 1e-3))
    sigma = np.maximum(0.5, width / 2)
    classes = np.arange(12)[:, None]
    d = (pitch[None, :] - classes) % 12
    d = np.minimum(d, 12 - d)
    w = np.exp(-0.5 * (d / sigma[None, :]) ** 2)
    fb[:, band] = w / w.sum(axis=0, keepdims=True)
    return fb.astype(np.float32)


def chroma(S: np.ndarray, fb: np.ndarray) -> np.ndarray:
    """Chroma energy of each frame.

    Parameters
    ----------
    S : np.ndarray, shape (n_frames, n_bins)
    fb : np.ndarray, shape (12, n_bins), from :func:`chroma_filter`

    Returns
    -------
    C : np.ndarray, shape (n_frames, 12)
    """
    S = np.asarray(S, dtype=np.float32)
    return (S * S) @ fb.T


def chroma_argmax(S: np.ndarray, fb: np.ndarray) -> np.ndarray:
    """Pitch class of each frame: the argmax of *that frame's* chroma.

    Ties go to the lowest pitch class (``np.argmax`` takes the first maximum), so the label is
    deterministic.

    Returns
    -------
    note : np.ndarray of int8, shape (n_frames,)
    """
    return np.argmax(chroma(S, fb), axis=1).astype(np.int8)


def one_hot(note: np.ndarray, n: int = 12) -> np.ndarray:
    """One-hot rows, shape ``(len(note), n)``, float32."""
    note = np.asarray(note, dtype=np.int64)
    out = np.zeros((len(note), n), dtype=np.float32)
    out[np.arange(len(note)), note] = 1.0
    return out


def first_order_difference(S: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Difference between each frame and the previous frame of the same clip.

    The first frame of every clip has a zero difference, so nothing leaks across clips.

    Parameters
    ----------
    S : np.ndarray, shape (n_frames, n_bins)
    clip : np.ndarray, shape (n_frames,)

    Returns
    -------
    D : np.ndarray, shape (n_frames, n_bins), float32
    """
    D = np.zeros_like(S, dtype=np.float32)
    same = np.asarray(clip[1:]) == np.asarray(clip[:-1])
    D[1:] = S[1:] - S[:-1]
    D[1:][~same] = 0.0
    return D


def noise_phase(n_frames: int, n_bins: int, *, seed: int = 0) -> np.ndarray:
    """A fixed table of white-noise phases, shape ``(n_frames, n_bins)``, float32 in [-pi, pi)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-np.pi, np.pi, size=(n_frames, n_bins)).astype(np.float32)


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Polyphase resampling of a 1-D or ``(n_samples, n_channels)`` signal, float32."""
    if orig_sr == target_sr:
        return np.asarray(y, dtype=np.float32)
    g = np.gcd(int(orig_sr), int(target_sr))
    return scipy.signal.resample_poly(y, target_sr // g, orig_sr // g, axis=0).astype(np.float32)
