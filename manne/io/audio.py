"""Audio file input and output: find, read (any rate, mono or stereo), write atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from manne.dsp import resample
from manne.errors import AudioFileError, ParameterError
from manne.io.files import atomic_path

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")


def find_audio(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Audio files named by ``inputs``: files as given, folders searched recursively.

    Returns the files sorted by path within each folder, in the order the inputs were given,
    without duplicates.

    Raises
    ------
    AudioFileError
        If an input does not exist, a folder holds no audio, or nothing was found at all.
    """
    found: list[Path] = []
    for item in inputs:
        p = Path(item)
        if not p.exists():
            raise AudioFileError(f"{p}: no such file or folder")
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS)
            if not files:
                raise AudioFileError(
                    f"{p}: folder holds no audio files ({', '.join(AUDIO_EXTENSIONS)})"
                )
            found.extend(files)
        else:
            if p.suffix.lower() not in AUDIO_EXTENSIONS:
                raise AudioFileError(f"{p}: not an audio file (expected one of {', '.join(AUDIO_EXTENSIONS)})")
            found.append(p)
    seen: set[Path] = set()
    unique = [f for f in found if not (f.resolve() in seen or seen.add(f.resolve()))]
    if not unique:
        raise AudioFileError("no audio files given")
    return unique


def load(path: str | os.PathLike, *, sr: int = 44100) -> np.ndarray:
    """Read an audio file as a mono float32 signal at ``sr``.

    Channels are averaged; any sample rate is resampled.

    Returns
    -------
    y : np.ndarray, shape (n_samples,), float32

    Raises
    ------
    AudioFileError
        If the file cannot be decoded, is empty, or holds NaN or Inf samples.
    """
    import soundfile as sf

    path = Path(path)
    try:
        data, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises several types for corrupt data
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = reason.replace(f"Error opening {str(path)!r}: ", "")
        raise AudioFileError(f"{path}: cannot decode audio ({reason})") from exc
    if data.size == 0:
        raise AudioFileError(f"{path}: file holds no samples")
    if not np.isfinite(data).all():
        bad = int((~np.isfinite(data)).sum())
        raise AudioFileError(f"{path}: {bad} samples are NaN or Inf")
    y = data.mean(axis=1)
    return resample(y, orig_sr=file_sr, target_sr=sr)


def write_wav(path: str | os.PathLike, y: np.ndarray, *, sr: int = 44100, force: bool = False) -> Path:
    """Write a mono float signal as 16-bit PCM WAV, atomically; an existing file is kept unless ``force``.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,), values in [-1, 1] (clipped)
    """
    import soundfile as sf

    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ParameterError(f"y has shape {y.shape}; write_wav writes mono (1-D) signals")
    with atomic_path(path, force=force) as tmp:
        sf.write(str(tmp), np.clip(y, -1.0, 1.0), sr, subtype="PCM_16", format="WAV")
    return Path(path)
