"""Audio file input and output: find, read (any rate, mono or stereo), write atomically."""

from __future__ import annotations

import io
import os
import stat
from contextlib import nullcontext
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from manne.dsp import resample
from manne.errors import AudioFileError, ParameterError
from manne.io.files import atomic_path, mute_stderr

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")
SR_MIN = 8000  # Hz: the lowest sample rate read (a telephone's); below it a file is damaged or not audio
SHORT_DECODE = 0.98  # a file decoding to less than this share of the length its header announces is reported


def find_audio(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Audio files named by ``inputs``: files as given, folders searched recursively.

    Folders are searched through symbolic links (each real folder once, so a link back up the tree
    ends there); hidden files and folders (names starting with ``.``, such as macOS's ``._take.wav``
    resource forks and ``.Trash``) are skipped.

    Returns the files sorted by path within each folder, in the order the inputs were given,
    without duplicates.

    Raises
    ------
    AudioFileError
        If an input does not exist, is a pipe or a device (reading one would wait for ever), a
        folder holds no audio, or nothing was found at all.
    """
    found: list[Path] = []
    for item in inputs:
        p = Path(item)
        if not p.exists():
            raise AudioFileError(f"{p}: no such file or folder")
        if p.is_dir():
            files = _audio_below(p)
            if not files:
                raise AudioFileError(
                    f"{p}: folder holds no audio files ({', '.join(AUDIO_EXTENSIONS)})"
                )
            found.extend(files)
        else:
            _check_regular(p)
            if p.suffix.lower() not in AUDIO_EXTENSIONS:
                raise AudioFileError(f"{p}: not an audio file (expected one of {', '.join(AUDIO_EXTENSIONS)})")
            found.append(p)
    seen: set[Path] = set()
    unique = [f for f in found if not (f.resolve() in seen or seen.add(f.resolve()))]
    if not unique:
        raise AudioFileError("no audio files given")
    return unique


def _audio_below(folder: Path) -> list[Path]:
    """The audio files below ``folder`` (not hidden, through symbolic links, each real folder once), sorted."""
    files, visited = [], set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        st = os.stat(root)
        if (st.st_dev, st.st_ino) in visited:  # a link to a folder already searched (or a loop)
            dirs[:] = []
            continue
        visited.add((st.st_dev, st.st_ino))
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            f = Path(root) / name
            if not name.startswith(".") and f.suffix.lower() in AUDIO_EXTENSIONS and os.path.exists(f):  # (not a broken link)
                _check_regular(f)
                files.append(f)
    return sorted(files)


def _check_regular(path: Path) -> None:
    """Refuse a pipe, socket or device: reading one waits for a writer or never ends."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise AudioFileError(f"{path}: no such file (a broken link?)") from None
    if not stat.S_ISREG(mode):
        kind = "a named pipe" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else \
            "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
        raise AudioFileError(f"{path}: {kind}, not an audio file; give audio files or folders")


def load(path: str | os.PathLike, *, sr: int = 44100, warn: Callable[[str], None] | None = None) -> np.ndarray:
    """Read an audio file as a mono float32 signal at ``sr``.

    Channels are averaged; any sample rate is resampled. A file that decodes shorter than its
    header says (a damaged MP3) is read as far as it goes and reported through ``warn``.

    Returns
    -------
    y : np.ndarray, shape (n_samples,), float32

    Raises
    ------
    AudioFileError
        If the file is not a regular file, cannot be decoded, has a sample rate below :data:`SR_MIN`,
        is empty, or holds NaN or Inf samples.
    """
    import soundfile as sf

    path = Path(path)
    _check_regular(path)
    try:
        # libmpg123 prints its complaints about a damaged MP3 on stderr: they come back as one warning
        with mute_stderr() if path.suffix.lower() == ".mp3" else nullcontext():
            with sf.SoundFile(str(path)) as fh:
                announced, file_sr = fh.frames, fh.samplerate
                data = fh.read(dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises several types for corrupt data
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = reason.replace(f"Error opening {str(path)!r}: ", "")
        raise AudioFileError(f"{path}: cannot decode audio ({reason})") from exc
    if file_sr < SR_MIN:
        raise AudioFileError(f"{path}: sample rate {file_sr} Hz; manne reads audio at {SR_MIN} Hz or more")
    if data.size == 0:
        raise AudioFileError(f"{path}: file holds no samples")
    if warn is not None and 0 < len(data) < SHORT_DECODE * announced < 2**62:  # (2**62: a stream of unknown length)
        warn(f"{path}: decoded {len(data) / file_sr:.2f} s of the {announced / file_sr:.2f} s its header announces "
             "(the file is damaged); using what decoded")
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
    if not np.isfinite(y).all():
        bad = int((~np.isfinite(y)).sum())
        raise ParameterError(f"{path}: not written, {bad} of {len(y)} samples are NaN or Inf")
    # encoded in memory, written by Python: a full disk is an OSError naming the file (libsndfile's own
    # writes only say "System error")
    buf = io.BytesIO()
    sf.write(buf, np.clip(y, -1.0, 1.0), sr, subtype="PCM_16", format="WAV")
    with atomic_path(path, force=force) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(buf.getbuffer())
    return Path(path)
