"""Timbre transfer (the MANNe repository's ANNe mode): filter a recording through the timbre space.

Each frame of the input is analysed as the corpus was (4096-point Hann STFT, hop 1024, divided by
its own maximum, its chroma), encoded with its own note, moved in the latent space (``z' = gain * z
+ offset``, per neuron, clipped to the range), decoded, given back its gain, and resynthesised with
the input's own phase (inverse STFT). Frames quieter than the corpus' silence threshold pass
through unchanged (``gate`` sets an absolute threshold instead, as the live mode's). With unit gains
and zero offsets the output is the model's reconstruction of the input. All NumPy: the STFT, inverse
STFT and chroma filterbank are :mod:`manne.stft`'s, equal to the corpus analysis' librosa calls (whose
import and first call would take longer than transferring a minute of audio). The live mode, frame by
frame, is :class:`manne.synth.transfer.LiveTransfer`.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from manne.errors import ParameterError

__all__ = ["Transferred", "check_moves", "move", "transfer"]


class Transferred(NamedTuple):
    y: np.ndarray  # (n_samples,) float32, the output at the analysis rate
    S_in: np.ndarray  # (n_frames, n_bins) the input's magnitudes
    S_out: np.ndarray  # (n_frames, n_bins) the magnitudes given to the inverse STFT
    loud: np.ndarray  # (n_frames,) bool, the frames that went through the model


def check_moves(gain: Sequence[float] | None, offset: Sequence[float] | None, latent: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-neuron gains (default 1) and offsets (default 0) as arrays of ``latent`` finite values."""
    out = []
    for name, values, default in (("--gain", gain, 1.0), ("--offset", offset, 0.0)):
        if values is None:
            out.append(np.full(latent, default))
            continue
        v = np.asarray(values, dtype=np.float64)
        if v.shape != (latent,):
            raise ParameterError(f"{name} has {v.size} value{'s' * (v.size != 1)}; the model has {latent} neurons: "
                                 "give one per neuron")
        if not np.isfinite(v).all():
            raise ParameterError(f"{name} values must be finite numbers")
        out.append(v)
    return out[0], out[1]


def move(z: np.ndarray, gain: np.ndarray, offset: np.ndarray, latent_range: np.ndarray) -> np.ndarray:
    """``clip(gain * z + offset)`` to the latent range; ``z`` (n, latent)."""
    lo, hi = (np.asarray(r, dtype=np.float64) for r in latent_range)
    return np.clip(np.asarray(z, dtype=np.float64) * gain + offset, lo, hi)


def transfer(ae, y: np.ndarray, *, gain: np.ndarray, offset: np.ndarray, gate: float | None = None,
             batch: int = 1024) -> Transferred:
    """Filter mono ``y`` (at ``ae.analysis.sr``) through model ``ae``; see the module docstring.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    gain, offset : np.ndarray, shape (latent,), from :func:`check_moves`
    gate : float, optional
        Frames whose maximum STFT magnitude is at most this pass through unchanged; default the
        corpus rule (more than ``silence_db`` below the loudest frame).
    batch : int
        Frames through the model at a time.

    Returns
    -------
    Transferred
        ``y`` (n_samples,) float32 at the analysis rate; ``S_in``, ``S_out`` (n_frames, n_bins); ``loud`` (n_frames,).

    Raises
    ------
    ParameterError
        If ``y`` is shorter than half a frame or holds no frame loud enough to analyse.
    """
    from manne import dsp
    from manne.corpus.analysis import frame_pitch
    from manne.stft import chroma_filterbank, istft, stft

    a = ae.analysis
    y = np.asarray(y, dtype=np.float32)
    if len(y) < a.n_fft // 2:
        raise ParameterError(f"the input is {len(y) / a.sr * 1000:.0f} ms long; transfer needs at least "
                             f"{a.n_fft // 2 / a.sr * 1000:.0f} ms")
    Y = stft(y, n_fft=a.n_fft, hop_length=a.hop_length)  # (n_frames, n_bins); the output is made in place
    mag = np.abs(Y)
    g = mag.max(axis=1)
    loud = (dsp.loud_frames(g, silence_db=a.silence_db) if gate is None else g > gate) & (g > 0)
    if not loud.any():
        raise ParameterError("the input has no frame loud enough to analyse (it is silent)")
    fb = chroma_filterbank(sr=a.sr, n_fft=a.n_fft, fmin=a.fmin, fmax=a.fmax)
    out = mag.copy()
    idx = np.flatnonzero(loud)
    # each loud frame's pitch (pYIN's, or the chroma's class in the nearest pitched frame's octave), as the corpus labels it
    pitch, _ = frame_pitch(y, mag[idx] / g[idx, None], loud, analysis=a, fb=fb)
    for i in range(0, len(idx), batch):  # a batch of loud frames at a time: memory stays a few arrays per minute
        rows = idx[i : i + batch]
        old = mag[rows]
        S = old / g[rows, None]
        note = pitch[i : i + batch]
        z = ae.encode(S, note, batch=batch)
        new = ae.decode(move(z, gain, offset, ae.latent_range).astype(np.float32), note, batch=batch)
        new *= g[rows, None]
        out[rows] = new
        # the new magnitude with the input's phase, X * |new| / |X| (phase 0 where X = 0)
        Y_rows = Y[rows] * (new / np.maximum(old, np.finfo(np.float32).tiny))
        zero = old == 0
        if zero.any():
            Y_rows[zero] = new[zero]
        Y[rows] = Y_rows
    y_out = istft(Y, hop_length=a.hop_length, length=len(y))
    return Transferred(y_out.astype(np.float32), mag, out, loud)
