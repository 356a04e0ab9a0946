"""A corpus: normalised STFT magnitude frames of a musician's recordings, split by clip.

A :class:`Corpus` holds the arrays of the corpus file, with the shapes and meanings tabled in
:mod:`manne.corpus.fileformat`; its ``meta`` is a dict (analysis, split settings, seconds, content
hash) where the file stores JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from manne import dsp
from manne.corpus.analysis import Analysis
from manne.corpus.split import SPLIT_MODES, SPLITS, assign_split, check_fractions, check_splits, folders_below_inputs
from manne.errors import AudioFileError, CorpusError, ParameterError
from manne.io.audio import find_audio


@dataclass
class Corpus:
    """Frames, labels and split of a corpus. See the module docstring for shapes."""

    S: np.ndarray
    gain: np.ndarray
    note: np.ndarray
    pitch: np.ndarray
    clip: np.ndarray
    frame: np.ndarray
    split: np.ndarray
    clip_source: np.ndarray
    sources: list[str]
    analysis: Analysis
    meta: dict = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.S.shape[0])

    @property
    def hash(self) -> str:
        return str(self.meta.get("hash", ""))

    def frames(self, idx: np.ndarray) -> "Rows":
        """Frames ``idx`` of ``S``, read a slice at a time (:class:`Rows`): what the NumPy encoder and
        the MSE take, without a copy of all the frames at once (``S[idx]`` would copy them)."""
        return Rows(self.S, idx)

    def indices(self, name: str) -> np.ndarray:
        """Frame indices of split ``name`` (``"train"``, ``"val"`` or ``"test"``)."""
        if name not in SPLITS:
            raise ParameterError(f"split={name!r} must be one of {SPLITS}")
        return np.flatnonzero(self.split == SPLITS.index(name))

    def notes_present(self, name: str = "train", *, min_fraction: float = 0.005) -> list[int]:
        """Pitch classes with at least ``min_fraction`` of split ``name``'s frames, sorted.

        The threshold keeps a handful of mislabelled frames (a strong harmonic, a transient) from
        counting a note as part of the corpus.
        """
        note = self.note[self.indices(name)]
        counts = np.bincount(note.astype(np.int64), minlength=12)
        return [n for n in range(12) if counts[n] > 0 and counts[n] >= min_fraction * len(note)]

    def summary(self) -> str:
        """A few lines for the terminal: files, minutes, frames per split, note histogram."""
        a = self.analysis
        minutes = self.meta.get("seconds", 0.0) / 60
        lines = [
            f"{len(self.sources)} files, {minutes:.1f} min of audio, {self.n_frames} frames kept "
            f"({self.meta.get('dropped', 0)} silent dropped), {len(self.clip_source)} clips, "
            f"split by {self.meta.get('split_mode')}",
        ]
        for i, name in enumerate(SPLITS):
            idx = self.split == i
            clips = len(np.unique(self.clip[idx]))
            lines.append(f"  {name:5s} {int(idx.sum()):8d} frames  {clips:5d} clips")
        counts = np.bincount(self.note.astype(np.int64), minlength=12)
        peak = max(1, counts.max())
        lines.append("  notes:")
        for n, c in enumerate(counts):
            lines.append(f"    {dsp.NOTE_NAMES[n]:2s} {c:8d} {'#' * int(round(30 * c / peak))}")
        labels = self.meta.get("pitch_labels")
        if isinstance(labels, dict):
            lines.append(f"  pitch: {labels.get('tracker', 0)} frames by pYIN, {labels.get('chroma', 0)} unpitched by chroma; "
                         f"MIDI {float(np.min(self.pitch)):.0f}-{float(np.max(self.pitch)):.0f}")
        lines.append(f"  analysis: sr={a.sr} n_fft={a.n_fft} hop_length={a.hop_length} silence_db={a.silence_db}")
        return "\n".join(lines)


class Rows:
    """Rows ``idx`` of an array ``S`` (n, n_bins), read on demand: ``len(rows)``, ``rows.shape``,
    ``rows[a:b]`` (an array of those rows) and ``np.asarray(rows)`` (all of them)."""

    def __init__(self, S: np.ndarray, idx: np.ndarray):
        self.S, self.idx = S, np.asarray(idx)

    def __len__(self) -> int:
        return len(self.idx)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.idx), int(self.S.shape[1]))

    def __getitem__(self, key) -> np.ndarray:
        return np.asarray(self.S[self.idx[key]])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        a = np.asarray(self.S[self.idx])
        return a if dtype is None else a.astype(dtype, copy=False)


def content_hash(corpus: Corpus) -> str:
    """SHA-256 (first 16 hex digits) of the frames, labels, split and analysis parameters."""
    h = hashlib.sha256()
    for a in (corpus.S, corpus.note, corpus.pitch, corpus.clip, corpus.split):
        h.update(np.ascontiguousarray(a).data)
    h.update(json.dumps(corpus.analysis.to_dict(), sort_keys=True).encode())
    return h.hexdigest()[:16]


def build(
    inputs: Sequence[str | os.PathLike],
    *,
    analysis: Analysis = Analysis(),
    val: float = 0.1,
    test: float = 0.1,
    split_mode: str = "auto",
    seed: int = 0,
    skip_bad: bool = False,
    progress: bool = True,
    warn: Callable[[str], None] = print,
    jobs: int = 1,
    scratch: str | os.PathLike | None = None,
) -> Corpus:
    """Analyse audio files into a :class:`Corpus`, split by clip.

    Parameters
    ----------
    inputs : audio files or folders (searched recursively)
    analysis : the STFT, silence and chroma parameters
    val, test : fractions of clips for validation and test
    split_mode : one of :data:`~manne.corpus.split.SPLIT_MODES` (see :mod:`manne.corpus.split`)
    seed : seed of the file split
    skip_bad : go on past corrupt, silent or too-short files instead of stopping
    progress : show a progress bar on a terminal (needs tqdm)
    warn : called with one line for each skipped file and each file that decodes short (damaged)
    jobs : files analysed at once, each in its own process (:func:`manne.corpus.workers.analysed`);
        1 analyses in this process
    scratch : a file to write the frames to as each file is analysed; the corpus's ``S`` is then
        memory-mapped from it (the caller removes it once the corpus is saved), so memory holds
        only the files being analysed, whatever the corpus's size. None: ``S`` is in memory.

    Raises
    ------
    AudioFileError, CorpusError, ParameterError
    """
    from manne.corpus.workers import analysed

    if split_mode not in SPLIT_MODES:
        raise ParameterError(f"split_mode={split_mode!r} must be one of {SPLIT_MODES}")
    check_fractions(val, test)
    files = find_audio(inputs)
    sink = FrameSink(analysis.n_bins, scratch)
    parts = []
    sources: list[str] = []
    seconds, dropped = 0.0, 0
    t0 = time.perf_counter()
    try:
        for path, frames, n_samples, warnings in _progress(analysed(files, analysis, jobs=jobs), progress, "analysing",
                                                            len(files)):
            for line in warnings:
                warn(line)
            if isinstance(frames, AudioFileError):
                if not skip_bad:
                    raise frames
                warn(f"skipping {frames}")
                continue
            sink.append(frames.S)
            parts.append(frames._replace(S=None))  # the frames are on their way to disk (or in the sink)
            sources.append(str(path))
            seconds += n_samples / analysis.sr
            dropped += frames.n_total - frames.gain.shape[0]
        if not parts:
            raise CorpusError("no usable audio: every file was skipped")
        S = sink.finish()
    finally:
        sink.close()
    split, clip, clip_source, mode = assign_split(
        [p.frame for p in parts], folders_below_inputs([Path(s) for s in sources], inputs),
        val=val, test=test, mode=split_mode, seed=seed,
    )
    gain = np.concatenate([p.gain for p in parts])
    n_voiced = int(sum(int(p.voiced.sum()) for p in parts))
    corpus = Corpus(
        S=S,
        gain=gain,
        note=np.concatenate([p.note for p in parts]),
        pitch=np.concatenate([p.pitch for p in parts]),
        frame=np.concatenate([p.frame for p in parts]),
        clip=clip,
        split=split,
        clip_source=clip_source,
        sources=sources,
        analysis=analysis,
    )
    parts.clear()
    corpus.meta = {
        "analysis": analysis.to_dict(),
        "split_mode": mode,
        "val": val,
        "test": test,
        "seed": seed,
        "seconds": seconds,
        "dropped": int(dropped),
        "pitch_labels": {"tracker": n_voiced, "chroma": int(len(gain)) - n_voiced},
        "build_seconds": time.perf_counter() - t0,
        "hash": content_hash(corpus),
    }
    check_splits(split, val=val, test=test, n_files=len(sources))
    return corpus


class FrameSink:
    """Frames appended file by file: kept in memory, or written to a ``scratch`` file and memory-mapped.

    Parameters
    ----------
    n_bins : int
    scratch : path or None
    """

    def __init__(self, n_bins: int, scratch: str | os.PathLike | None = None):
        self.n_bins, self.scratch, self.n = int(n_bins), scratch, 0
        self._parts: list[np.ndarray] = []
        self._fh = open(scratch, "wb") if scratch is not None else None

    def append(self, S: np.ndarray) -> None:
        """Add frames ``S`` (n, n_bins)."""
        S = np.ascontiguousarray(S, dtype=np.float32)
        if self._fh is not None:
            try:
                self._fh.write(memoryview(S).cast("B"))
            except OSError as exc:  # a full disk: name the file
                raise type(exc)(exc.errno, exc.strerror or os.strerror(exc.errno or 0), str(self.scratch)) from exc
        else:
            self._parts.append(S)
        self.n += len(S)

    def finish(self) -> np.ndarray:
        """All frames, shape (n, n_bins) float32: one array, or a read-only memory map of ``scratch``."""
        if self._fh is None:
            S = np.empty((self.n, self.n_bins), dtype=np.float32)
            start = 0
            while self._parts:  # fill in place, freeing each file's frames as we go
                part = self._parts.pop(0)
                S[start : start + len(part)] = part
                start += len(part)
            return S
        try:
            self._fh.close()
        except OSError as exc:
            raise type(exc)(exc.errno, exc.strerror or os.strerror(exc.errno or 0), str(self.scratch)) from exc
        return np.memmap(self.scratch, dtype=np.float32, mode="r", shape=(self.n, self.n_bins))

    def close(self) -> None:
        if self._fh is not None and not self._fh.closed:
            try:
                self._fh.close()
            except OSError:  # the write that failed is the error to report
                pass


def _progress(items, enabled: bool, desc: str, total: int | None = None):
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, desc=desc, unit="file", leave=False, disable=None, total=total)  # None: only on a terminal
