"""The analysis that turns audio into corpus frames: librosa's STFT and chroma, and their parameters.

A signal becomes magnitude frames (``librosa.stft``: centred, zero padded, periodic Hann), each
divided by its own maximum; frames far below the loudest are dropped as silence, and each kept
frame is labelled with its fundamental as a fractional MIDI pitch, tracked by ``librosa.pyin``
(:func:`track_pitch`); where pYIN hears no pitch (a transient, noise), the pitch class is the argmax
of the frame's own chroma (``librosa.filters.chroma`` at A440, restricted to ``fmin..fmax``) in the
octave of the nearest pitched frame. The mesh (:mod:`manne.inspect.mesh`) labels decoded spectra
with the same :func:`chroma_filter` and :func:`chroma_argmax`.

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


# the pitch tracker's range: C1 (32.7 Hz) to C8 (4186 Hz), quarter-semitone states
PITCH_FMIN_MIDI = 24
PITCH_FMAX_MIDI = 108
PITCH_RESOLUTION = 0.25


def track_pitch(y: np.ndarray, *, sr: int, n_fft: int, hop_length: int, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """The fundamental of each STFT frame as a fractional MIDI pitch, by ``librosa.pyin``.

    pYIN runs on the signal at half the rate (when ``sr`` is at least 32 kHz and ``hop_length`` is
    even: four times faster, with the same frame centres) between C1 and C8 with quarter-semitone
    states; frame ``t`` is centred on sample ``t * hop_length``, as the analysis STFT's frames.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    sr, n_fft, hop_length : int
        The analysis STFT's parameters.
    n_frames : int
        Frames of the analysis STFT (``1 + n_samples // hop_length``).

    Returns
    -------
    pitch : np.ndarray, shape (n_frames,), float32
        MIDI pitch (69 = A440); NaN where pYIN hears no pitch.
    voiced : np.ndarray, shape (n_frames,), bool
    """
    import librosa

    y = np.asarray(y, dtype=np.float32)
    factor = 2 if sr >= 32000 and hop_length % 2 == 0 and n_fft % 2 == 0 else 1
    if factor > 1:
        y = librosa.resample(y, orig_sr=sr, target_sr=sr // factor, res_type="soxr_hq")
    sr_p, hop, frame_length = sr // factor, hop_length // factor, n_fft // factor
    fmin = float(librosa.midi_to_hz(PITCH_FMIN_MIDI))
    # the lag search needs two periods of fmin in the frame
    fmin = max(fmin, 2.0 * sr_p / frame_length)
    fmax = min(float(librosa.midi_to_hz(PITCH_FMAX_MIDI)), sr_p / 4)
    f0, voiced, _ = librosa.pyin(y, fmin=fmin, fmax=fmax, sr=sr_p, frame_length=frame_length, hop_length=hop,
                                 center=True, pad_mode="constant", resolution=PITCH_RESOLUTION)
    pitch = np.full(n_frames, np.nan, dtype=np.float32)
    m = min(n_frames, len(f0))
    with np.errstate(divide="ignore", invalid="ignore"):
        pitch[:m] = librosa.hz_to_midi(f0[:m])
    voiced_out = np.zeros(n_frames, dtype=bool)
    voiced_out[:m] = voiced[:m] & np.isfinite(pitch[:m])
    pitch[~voiced_out] = np.nan
    return pitch, voiced_out


def fill_unvoiced(pitch: np.ndarray, chroma_note: np.ndarray, S: np.ndarray, *, sr: int, n_fft: int) -> np.ndarray:
    """Pitches where the tracker heard none: the chroma's pitch class, in the octave of the nearest pitched frame.

    Parameters
    ----------
    pitch : np.ndarray, shape (n_frames,)
        Fractional MIDI pitch, NaN where unvoiced.
    chroma_note : np.ndarray, shape (n_frames,)
        Pitch class of each frame's chroma argmax (:func:`chroma_argmax`).
    S : np.ndarray, shape (n_frames, n_bins)
        The frames: with no pitched frame at all, the octave is that of each frame's strongest bin.

    Returns
    -------
    pitch : np.ndarray, shape (n_frames,), float32, every value finite
    """
    pitch = np.array(pitch, dtype=np.float32)
    unvoiced = ~np.isfinite(pitch)
    if not unvoiced.any():
        return pitch
    voiced_idx = np.flatnonzero(~unvoiced)
    idx = np.flatnonzero(unvoiced)
    if len(voiced_idx):
        pos = np.clip(np.searchsorted(voiced_idx, idx), 1, max(1, len(voiced_idx) - 1))
        left, right = voiced_idx[pos - 1], voiced_idx[np.minimum(pos, len(voiced_idx) - 1)]
        near = np.where(np.abs(idx - left) <= np.abs(right - idx), left, right)
        ref = pitch[near]
    else:
        peak = np.maximum(np.argmax(S[idx], axis=1), 1) * (sr / n_fft)
        ref = 69.0 + 12.0 * np.log2(peak / 440.0)
    pc = chroma_note[idx].astype(np.float32)
    pitch[idx] = pc + 12.0 * np.round((ref - pc) / 12.0)
    return pitch


class Frames(NamedTuple):
    """The kept frames of one signal (see :func:`analyse`)."""

    S: np.ndarray  # (n_kept, n_bins) float32, each row's max is 1
    gain: np.ndarray  # (n_kept,) float32, the max each row was divided by
    note: np.ndarray  # (n_kept,) int8, 0-11: the pitch's class
    pitch: np.ndarray  # (n_kept,) float32, fractional MIDI pitch (pYIN's, or the chroma's class where unvoiced)
    voiced: np.ndarray  # (n_kept,) bool, whether pYIN labelled the frame
    frame: np.ndarray  # (n_kept,) int32, index of each kept frame in the signal's STFT
    n_total: int  # frames before dropping silence


def analyse(y: np.ndarray, *, analysis: Analysis = Analysis(), fb: np.ndarray | None = None) -> Frames:
    """Frames of one signal: normalised magnitudes, gains, pitches, notes and frame indices of loud frames.

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
        ``S (n_kept, n_bins)``, ``gain (n_kept,)``, ``note (n_kept,)``, ``pitch (n_kept,)``,
        ``voiced (n_kept,)``, ``frame (n_kept,)``, ``n_total``.
    """
    a = analysis
    if fb is None:
        fb = chroma_filter(sr=a.sr, n_fft=a.n_fft, fmin=a.fmin, fmax=a.fmax)
    S, gain = dsp.normalize_frames(stft_magnitude(y, n_fft=a.n_fft, hop_length=a.hop_length))
    keep = dsp.loud_frames(gain, silence_db=a.silence_db)
    S = S[keep]
    pitch, voiced = frame_pitch(y, S, keep, analysis=a, fb=fb)
    note = (np.round(pitch).astype(np.int64) % 12).astype(np.int8)
    return Frames(S, gain[keep], note, pitch, voiced, np.flatnonzero(keep).astype(np.int32), len(keep))


def frame_pitch(y: np.ndarray, S: np.ndarray, keep: np.ndarray, *, analysis: Analysis,
                fb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pitch of each kept frame of ``y``: pYIN's (:func:`track_pitch`), else the chroma's class in
    the nearest pitched frame's octave (:func:`fill_unvoiced`).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,); S : np.ndarray, shape (n_kept, n_bins), its kept frames
    keep : np.ndarray of bool, shape (n_frames,), which of the STFT's frames are kept
    analysis : Analysis; fb : np.ndarray, shape (12, n_bins), its :func:`chroma_filter`

    Returns
    -------
    pitch : np.ndarray, shape (n_kept,), float32; voiced : np.ndarray, shape (n_kept,), bool
    """
    a = analysis
    tracked, voiced = track_pitch(y, sr=a.sr, n_fft=a.n_fft, hop_length=a.hop_length, n_frames=len(keep))
    return fill_unvoiced(tracked[keep], chroma_argmax(S, fb), S, sr=a.sr, n_fft=a.n_fft), voiced[keep]
