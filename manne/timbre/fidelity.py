"""How close a model plays a real note: harmonic levels, noise between the partials, stuck bins.

The measures of ``manne bench fidelity`` (issue 16), on magnitude spectra of shape ``(n_bins,)``:

- :func:`harmonic_levels`: the harmonics ``k = 1 .. 16`` with ``k * f0`` below 10 kHz, each the
  largest bin within one bin of ``k * f0``, in dB relative to the strongest of them, floored at
  -60 dB; :func:`level_error` is the mean absolute dB difference of two such readings, and
  :func:`sawtooth_levels` a sawtooth's (``-20 log10 k``, the same floor).
- :func:`noise_level`: the mean power of the bins farther than 3 bins from every harmonic (between
  ``f0 / 2`` and 10 kHz) over the power of the strongest harmonic's peak bin, in dB.
  :func:`noise_floor` is what that reads on a note of the same partials without any noise (the
  window's side lobes: about -65 dB).
- :func:`stuck_share`: the share of decoded bins that are exactly 0 where the real spectrum is
  above -60 dB of its maximum.

:func:`play_spectrum` plays a code offline through the instrument, as ``manne render`` plays one
note, and reads the median spectrum of its held part. NumPy only (the STFT is librosa's, imported
when it runs).
"""

from __future__ import annotations

import numpy as np

__all__ = ["N_HARMONICS", "FMAX_HZ", "FLOOR_DB", "PEAK_BINS", "NOISE_GAP_BINS", "harmonic_numbers", "harmonic_levels",
           "sawtooth_levels", "level_error", "noise_level", "noise_floor", "stuck_share", "play_spectrum", "RENDER_SECONDS",
           "RENDER_VELOCITY", "HELD_FROM_S", "HELD_TO_S"]

N_HARMONICS = 16
FMAX_HZ = 10000.0  # harmonics and noise are read below this
FLOOR_DB = -60.0  # levels are floored here, relative to the strongest harmonic
PEAK_BINS = 1  # a harmonic's level is the largest bin within this many bins of k * f0
NOISE_GAP_BINS = 3  # the noise is read in bins farther than this from every harmonic
RENDER_SECONDS, RENDER_VELOCITY = 1.0, 100  # the rendered note
HELD_FROM_S, HELD_TO_S = 0.3, 0.8  # its spectrum: the median of the frames centred in this span


def _bin_hz(sr: int, n_fft: int) -> float:
    return sr / n_fft


def harmonic_numbers(f0: float) -> np.ndarray:
    """The harmonics read at fundamental ``f0`` Hz: ``k = 1 .. 16`` with ``k * f0 < 10 kHz``; shape (n,), int."""
    k = np.arange(1, N_HARMONICS + 1)
    return k[k * float(f0) < FMAX_HZ]


def harmonic_levels(S: np.ndarray, f0: float, *, sr: int, n_fft: int, n: int | None = None) -> np.ndarray:
    """Levels of the harmonics of ``f0`` in magnitude spectrum ``S``, dB relative to the strongest, floored.

    Parameters
    ----------
    S : np.ndarray, shape (n_fft // 2 + 1,), magnitudes
    f0 : float, Hz
    sr, n_fft : int, the spectrum's STFT
    n : int, optional
        Read the first ``n`` harmonics instead of those below 10 kHz: a played note is read at the
        harmonics of the real note it is compared with, whose tracked pitch may sit a few cents on the
        other side of the 10 kHz limit.

    Returns
    -------
    levels : np.ndarray, shape (len(harmonic_numbers(f0)),) or (n,), float64, from :data:`FLOOR_DB` to 0
        (all at the floor when every harmonic is 0)
    """
    S = np.asarray(S, dtype=np.float64)
    k = harmonic_numbers(f0) if n is None else np.arange(1, int(n) + 1)
    centre = np.round(k * f0 / _bin_hz(sr, n_fft)).astype(np.int64)
    near = np.clip(centre[:, None] + np.arange(-PEAK_BINS, PEAK_BINS + 1), 0, len(S) - 1)
    amp = S[near].max(axis=1)
    top = amp.max() if len(amp) else 0.0
    if not top > 0:
        return np.full(len(amp), FLOOR_DB)
    with np.errstate(divide="ignore"):
        return np.maximum(20.0 * np.log10(amp / top), FLOOR_DB)


def sawtooth_levels(n: int) -> np.ndarray:
    """A sawtooth's first ``n`` harmonic levels, ``-20 log10 k`` dB, floored at :data:`FLOOR_DB`; shape (n,)."""
    return np.maximum(-20.0 * np.log10(np.arange(1, int(n) + 1)), FLOOR_DB)


def level_error(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference in dB of two harmonic readings of one fundamental (NaN when empty)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.mean(np.abs(a - b))) if len(a) else float("nan")


def noise_level(S: np.ndarray, f0: float, *, sr: int, n_fft: int) -> float:
    """Energy between the partials: mean power of the bins farther than :data:`NOISE_GAP_BINS` from every
    harmonic ``k * f0`` (from ``f0 / 2`` to 10 kHz) over the power of the strongest harmonic's peak bin, dB.

    Returns NaN when no bin lies that far from the harmonics (a fundamental below about 65 Hz) and
    -inf when those bins are all 0; +inf when the harmonics are all 0 but the noise is not.
    """
    S = np.asarray(S, dtype=np.float64)
    df = _bin_hz(sr, n_fft)
    bins = np.arange(len(S))
    band = (bins * df > f0 / 2) & (bins * df < FMAX_HZ)
    k_all = np.arange(1, int(FMAX_HZ / f0) + 2)
    dist = np.abs(bins[:, None] - k_all[None, :] * f0 / df).min(axis=1)
    between = band & (dist > NOISE_GAP_BINS)
    if not between.any():
        return float("nan")
    centre = np.round(harmonic_numbers(f0) * f0 / df).astype(np.int64)
    near = np.clip(centre[:, None] + np.arange(-PEAK_BINS, PEAK_BINS + 1), 0, len(S) - 1)
    peak = float(S[near].max()) ** 2
    noise = float(np.mean(S[between] ** 2))
    with np.errstate(divide="ignore"):
        return float(10.0 * np.log10(noise / peak)) if peak > 0 else (float("inf") if noise > 0 else float("nan"))


def noise_floor(levels: np.ndarray, f0: float, *, sr: int, n_fft: int) -> float:
    """What :func:`noise_level` reads on the harmonics alone: a frame of only the partials of ``levels``
    (dB, :func:`harmonic_levels`) at ``f0``, no noise, through the same periodic Hann window.

    The window's side lobes put about -65 dB (relative to the strongest partial) in the bins 3 to 10
    bins from a partial, so a note without any noise reads there, not at -inf: a rendered note near
    this figure plays no noise at all.
    """
    levels = np.asarray(levels, dtype=np.float64)
    t = np.arange(n_fft) / sr
    k = harmonic_numbers(f0)[: len(levels)]
    y = (10.0 ** (levels[: len(k), None] / 20.0) * np.sin(2 * np.pi * k[:, None] * f0 * t)).sum(axis=0)
    from manne.dsp import hann  # periodic, as the analysis STFT

    return noise_level(np.abs(np.fft.rfft(y * hann(n_fft))), f0, sr=sr, n_fft=n_fft)


def stuck_share(decoded: np.ndarray, real: np.ndarray) -> float:
    """Share of the bins where ``real`` is above :data:`FLOOR_DB` of its maximum whose ``decoded`` value
    is exactly 0 (an output stuck at the ReLU's floor); NaN when ``real`` is all 0."""
    decoded, real = np.asarray(decoded), np.asarray(real, dtype=np.float64)
    top = real.max() if real.size else 0.0
    if not top > 0:
        return float("nan")
    live = real > top * 10.0 ** (FLOOR_DB / 20.0)
    return float(np.mean(decoded[live] == 0.0))


def play_spectrum(ae, z: np.ndarray, midi: int, *, method: str) -> np.ndarray:
    """The instrument's note: ``z`` played at MIDI ``midi`` as ``manne render`` plays one note
    (:data:`RENDER_SECONDS` at velocity :data:`RENDER_VELOCITY`, default volume, seed 0), then the
    median of its STFT frames (the model's analysis) centred from :data:`HELD_FROM_S` to :data:`HELD_TO_S`.

    Returns
    -------
    S : np.ndarray, shape (n_bins,), float64, magnitudes (not normalised)
    """
    from manne.corpus.analysis import stft_magnitude
    from manne.synth.automation import play_note
    from manne.synth.instrument import Synth

    from manne.synth.limits import RENDER_BLOCK_DEFAULT, VOLUME_DEFAULT

    a = ae.analysis
    synth = Synth(ae, sr=a.sr, block=RENDER_BLOCK_DEFAULT, method=method, volume=VOLUME_DEFAULT, seed=0)
    with np.errstate(over="ignore", invalid="ignore"):
        y = play_note(synth, z, int(midi), velocity=RENDER_VELOCITY, seconds=RENDER_SECONDS)
    S = stft_magnitude(np.nan_to_num(y), n_fft=a.n_fft, hop_length=a.hop_length)
    t = np.arange(len(S)) * a.hop_length / a.sr
    held = (t >= HELD_FROM_S) & (t <= HELD_TO_S)
    return np.median(S[held].astype(np.float64), axis=0)
