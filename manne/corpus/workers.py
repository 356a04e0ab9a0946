"""Audio files analysed in parallel, one process per core, results in file order.

:func:`analysed` runs :func:`analyse_file` on each file, in this process (``jobs=1``, or when the
files are too small to be worth a process's start-up) or in ``jobs`` worker processes
(``spawn``\\ ed: a clean interpreter, never a fork of one that may hold TensorFlow's threads). At most
``2 * jobs`` files are in flight, so memory holds a few files' frames, however many files there are;
the caller writes each file's frames away before it asks for the next.

Workers ignore Ctrl-C: the parent's ``KeyboardInterrupt`` cancels what has not started and the
workers end with the file in hand. A bad file is not an exception in the worker but a result
(:class:`~manne.errors.AudioFileError` in place of the frames), so the caller decides, in file
order, whether to skip it.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from pathlib import Path
from typing import Iterator, Sequence

from manne.corpus.analysis import Analysis, Frames, analyse, chroma_filter
from manne.errors import AudioFileError

__all__ = ["analyse_file", "analysed", "PARALLEL_MIN_BYTES", "default_jobs"]

PARALLEL_MIN_BYTES = 8_000_000  # below this much audio (about 45 s of CD-quality stereo) one process is quicker

_FB: dict = {}  # each process's chroma filterbank, per analysis


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS
        return max(1, os.cpu_count() or 1)


def analyse_file(path: str | os.PathLike, analysis: Analysis) -> tuple[Frames | AudioFileError, int, list[str]]:
    """One file's frames (or why it cannot be used), its length in samples, and the warnings it raised.

    Returns
    -------
    frames : :class:`~manne.corpus.analysis.Frames`, or the :class:`AudioFileError` that refuses the
        file (unreadable, shorter than one frame, silent)
    n_samples : int, at ``analysis.sr`` (0 for a refused file)
    warnings : list of str (a damaged file that decodes short)
    """
    from manne.io.audio import load

    warnings: list[str] = []
    key = (analysis.sr, analysis.n_fft, analysis.fmin, analysis.fmax)
    if key not in _FB:
        _FB[key] = chroma_filter(sr=analysis.sr, n_fft=analysis.n_fft, fmin=analysis.fmin, fmax=analysis.fmax)
    try:
        y = load(path, sr=analysis.sr, warn=warnings.append)
        if len(y) < analysis.n_fft:
            raise AudioFileError(
                f"{path}: {len(y)} samples is shorter than one frame ({analysis.n_fft} samples at {analysis.sr} Hz)"
            )
        frames = analyse(y, analysis=analysis, fb=_FB[key])
        if len(frames.S) == 0:
            raise AudioFileError(f"{path}: the file is silent")
    except AudioFileError as exc:
        return exc, 0, warnings
    return frames, len(y), warnings


def _quiet_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C


def analysed(files: Sequence[Path], analysis: Analysis, *, jobs: int = 1) -> Iterator[tuple[Path, Frames | AudioFileError, int, list[str]]]:
    """``(path, frames, n_samples, warnings)`` of :func:`analyse_file` for each file, in order.

    Parameters
    ----------
    files : the audio files
    analysis : the analysis parameters
    jobs : worker processes (at most one per file); 1, or less than :data:`PARALLEL_MIN_BYTES` of
        files, analyses in this process
    """
    jobs = max(1, min(int(jobs), len(files)))
    if jobs > 1:
        try:
            size = sum(os.stat(f).st_size for f in files)
        except OSError:
            size = 0
        if size < PARALLEL_MIN_BYTES:
            jobs = 1
    if jobs == 1:
        for f in files:
            yield (f, *analyse_file(f, analysis))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_quiet_worker)
    pending: deque = deque()
    todo = iter(files)
    try:
        for f in todo:
            pending.append((f, pool.submit(analyse_file, f, analysis)))
            if len(pending) >= 2 * jobs:
                break
        while pending:
            f, future = pending.popleft()
            result = future.result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(analyse_file, nxt, analysis)))
            yield (f, *result)
    finally:
        pool.shutdown(wait=not pending, cancel_futures=True)
