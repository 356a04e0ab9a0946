"""The analysis that turns audio into corpus frames: librosa's STFT and chroma, and their parameters.

A signal becomes magnitude frames (``librosa.stft``: centred, zero padded, periodic Hann), each
divided by its own maximum; frames far below the loudest are dropped as silence, and each kept
frame is labelled with the argmax of its own chroma (``librosa.filters.chroma`` at A440, restricted
to ``fmin..fmax``). The mesh (:mod:`manne.inspect.mesh`) labels decoded spectra with the same
:func:`chroma_filter` and :func:`chroma_argmax`.

A model is only valid for spectra made with the same parameters, so :class:`Analysis` is saved in
every corpus and every model and compared on load.

librosa (and SciPy through it) is imported inside the functions that use it, never at import
time: the model loader imports this module, and the real-time path must not load librosa.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from manne import dsp
from manne.errors import ParameterError


@dataclass(frozen=True)
class Analysis:
    """Parameters of the analysis that turns audio into corpus frames.

    A model is only valid for spectra made with the same parameters, so they are saved in
    every corpus and every model and compared on load. ``fmin`` and ``fmax`` bound the band
    whose energy decides a frame's pitch class.
    """

    sr: int = 44100
    n_fft: int = 4096
    hop_length: int = 1024
    silence_db: float = 50.0
    fmin: float = 50.0
    fmax: float = 5000.0

    def __post_init__(self) -> None:
        for name, lo, hi in (("sr", 1000, 768000), ("n_fft", 16, 65536), ("hop_length", 1, self.n_fft)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ParameterError(f"{name}={v!r} must be an integer from {lo} to {hi}")
        for name in ("silence_db", "fmin", "fmax"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ParameterError(f"{name}={v!r} must be a positive number")
        if not self.fmin < self.fmax <= self.sr / 2:
            raise ParameterError(f"fmin={self.fmin:g} and fmax={self.fmax:g} must be a band below the Nyquist "
                                 f"frequency ({self.sr / 2:g} Hz)")

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Analysis":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def differences(self, other: "Analysis") -> list[str]:
        """Human-readable list of the fields that differ, e.g. ``["hop_length 1024 != 512"]``."""
        a, b = self.to_dict(), other.to_dict()
        return [f"{k} {a[k]!r} != {b[k]!r}" if str(a[k]) == str(b[k]) else f"{k} {a[k]} != {b[k]}" for k in a if a[k] != b[k]]


def stft_magnitude(y: np.ndarray, *, n_fft: int = 4096, hop_length: int = 1024, chunk: int = 256) -> np.ndarray:
    """Magnitude STFT of a mono signal: ``librosa.stft``, centred frames with zero padding, periodic Hann.

    Frame ``t`` covers samples ``[t*hop_length - n_fft//2, t*hop_length - n_fft//2 + n_fft)``, zeros
    outside the signal: ``np.abs(librosa.stft(y, center=True, pad_mode="constant")).T``. It is
    computed ``chunk`` frames at a time (each chunk an uncentred ``librosa.stft`` of its stretch of
    the zero-padded signal), so a long file never holds its whole complex STFT, nor a padded copy.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    n_fft, hop_length : int
    chunk : int
        Frames per ``librosa.stft`` call; the complex block is ``chunk * (n_fft // 2 + 1) * 8`` bytes.

    Returns
    -------
    S : np.ndarray, shape (1 + (n_samples + 2 * (n_fft // 2) - n_fft) // hop_length, n_fft // 2 + 1), float32
        ``1 + n_samples // hop_length`` frames for an even ``n_fft``.

    Raises
    ------
    ParameterError
        If ``y`` is not 1-D, holds NaN or Inf, is too short for one frame, or a size is below 1.
    """
    import librosa

    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ParameterError(f"y has shape {y.shape}; stft_magnitude needs a mono signal (1-D)")
    if not np.isfinite(y).all():
        raise ParameterError(f"y holds {int((~np.isfinite(y)).sum())} NaN or Inf samples")
    for name, v in (("n_fft", n_fft), ("hop_length", hop_length), ("chunk", chunk)):
        if v < 1:
            raise ParameterError(f"{name}={v} must be at least 1")
    pad = n_fft // 2
    n_frames = 1 + (len(y) + 2 * pad - n_fft) // hop_length
    if n_frames < 1:
        need = n_fft - 2 * pad
        raise ParameterError(f"y has {len(y)} samples; one centred frame of n_fft={n_fft} needs at least {need}")
    S = np.empty((n_frames, n_fft // 2 + 1), dtype=np.float32)
    for t0 in range(0, n_frames, chunk):
        t1 = min(t0 + chunk, n_frames)
        a, b = t0 * hop_length - pad, (t1 - 1) * hop_length + n_fft - pad  # the chunk's samples in y
        seg = y[max(a, 0) : max(min(b, len(y)), 0)]
        if a < 0 or b > len(y):
            seg = np.pad(seg, (max(0, -a), (b - a) - max(0, -a) - len(seg)))
        X = librosa.stft(seg, n_fft=n_fft, hop_length=hop_length, window="hann", center=False)
        S[t0:t1] = np.abs(X).T
    return S


def chroma_filter(*, sr: int, n_fft: int, fmin: float, fmax: float) -> np.ndarray:
    """Chroma filterbank of the analysis: ``librosa.filters.chroma`` at A440, zero outside ``fmin..fmax``.

    librosa's filterbank (12 classes, C first, a Gaussian bump per bin, octaves weighted by a
    Gaussian centred on 880 Hz) with ``tuning=0``, so that the corpus and the mesh use one fixed
    filterbank, and the columns of bins below ``fmin`` or above ``fmax`` Hz set to zero, so that
    only the band that carries the pitch decides the label (and the mesh decodes only that band).

    Parameters
    ----------
    sr, n_fft : int
        Sample rate and FFT size of the spectra it will label.
    fmin, fmax : float
        The band in Hz (an :class:`Analysis`'s ``fmin`` and ``fmax``).

    Returns
    -------
    fb : np.ndarray, shape (12, n_fft // 2 + 1), float32
    """
    import librosa

    if not 0 <= fmin < fmax:
        raise ParameterError(f"fmin={fmin}, fmax={fmax}: the chroma band needs 0 <= fmin < fmax")
    fb = librosa.filters.chroma(sr=sr, n_fft=n_fft, n_chroma=12, tuning=0.0, base_c=True, dtype=np.float32)
    freqs = np.arange(n_fft // 2 + 1) * (sr / n_fft)
    fb[:, (freqs < fmin) | (freqs > fmax)] = 0.0
    return np.ascontiguousarray(fb, dtype=np.float32)


def chroma_argmax(S: np.ndarray, fb: np.ndarray) -> np.ndarray:
    """Pitch class of each frame: the argmax of *that frame's* chroma ``(S ** 2) @ fb.T``.

    As ``librosa.feature.chroma_stft`` with power 2; its per-frame normalisation does not move the
    argmax. Ties go to the lowest pitch class (``np.argmax`` takes the first maximum), so the label
    is deterministic; the label does not change when a frame is scaled.

    Parameters
    ----------
    S : np.ndarray, shape (n_frames, n_bins)
        Magnitudes.
    fb : np.ndarray, shape (12, n_bins)
        From :func:`chroma_filter`.

    Returns
    -------
    note : np.ndarray of int8, shape (n_frames,)
    """
    S = np.asarray(S, dtype=np.float32)
    return np.argmax((S * S) @ fb.T, axis=1).astype(np.int8)


class Frames(NamedTuple):
    """The kept frames of one signal (see :func:`analyse`)."""

    S: np.ndarray  # (n_kept, n_bins) float32, each row's max is 1
    gain: np.ndarray  # (n_kept,) float32, the max each row was divided by
    note: np.ndarray  # (n_kept,) int8, 0-11
    frame: np.ndarray  # (n_kept,) int32, index of each kept frame in the signal's STFT
    n_total: int  # frames before dropping silence


def analyse(y: np.ndarray, *, analysis: Analysis = Analysis(), fb: np.ndarray | None = None) -> Frames:
    """Frames of one signal: normalised magnitudes, gains, notes and frame indices of loud frames.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono samples at ``analysis.sr``.
    analysis : Analysis
    fb : np.ndarray, shape (12, analysis.n_bins), optional
        :func:`chroma_filter` of ``analysis``, when the caller analyses many signals.

    Returns
    -------
    Frames
        ``S (n_kept, n_bins)``, ``gain (n_kept,)``, ``note (n_kept,)``, ``frame (n_kept,)``, ``n_total``.
    """
    a = analysis
    if fb is None:
        fb = chroma_filter(sr=a.sr, n_fft=a.n_fft, fmin=a.fmin, fmax=a.fmax)
    S, gain = dsp.normalize_frames(stft_magnitude(y, n_fft=a.n_fft, hop_length=a.hop_length))
    keep = dsp.loud_frames(gain, silence_db=a.silence_db)
    S = S[keep]
    return Frames(S, gain[keep], chroma_argmax(S, fb), np.flatnonzero(keep).astype(np.int32), len(keep))
