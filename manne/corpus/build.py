"""A corpus: normalised STFT magnitude frames of a musician's recordings, split by clip.

A corpus file (``.npz``) holds

=============  =======================  =====================================================
key            shape, dtype             meaning
=============  =======================  =====================================================
``S``          (n_frames, n_bins) f32   magnitude frames, each divided by its own max
``gain``       (n_frames,) f32          the max each frame was divided by
``note``       (n_frames,) i8           argmax of the frame's chroma, 0-11 (C=0)
``clip``       (n_frames,) i32          clip id; a clip is a file or a contiguous segment
``frame``      (n_frames,) i32          frame index within the source file
``split``      (n_frames,) i8           0 train, 1 validation, 2 test (constant per clip)
``clip_source`` (n_clips,) i32          index into ``sources`` of each clip
``sources``    (n_sources,) str         the audio files, as given
``meta``       () str                   JSON: format version, analysis, split settings, hash
=============  =======================  =====================================================
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
from manne.io.audio import find_audio, load
from manne.io.files import atomic_path
from manne.corpus.analysis import Analysis
from manne.errors import AudioFileError, CorpusError, ParameterError

FORMAT_VERSION = 1
SPLITS = ("train", "val", "test")
SPLIT_MODES = ("auto", "file", "segment", "folders")


@dataclass
class Corpus:
    """Frames, labels and split of a corpus. See the module docstring for shapes."""

    S: np.ndarray
    gain: np.ndarray
    note: np.ndarray
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
        lines.append(f"  analysis: sr={a.sr} n_fft={a.n_fft} hop_length={a.hop_length} silence_db={a.silence_db}")
        return "\n".join(lines)


def analyse(y: np.ndarray, analysis: Analysis, fb: np.ndarray | None = None):
    """Frames of one signal: normalised magnitudes, gains, notes and frame indices of loud frames.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)

    Returns
    -------
    S : (n_kept, n_bins) float32, gain : (n_kept,), note : (n_kept,) int8, frame : (n_kept,) int32,
    n_total : int, frames before dropping silence
    """
    if fb is None:
        fb = dsp.chroma_filter(sr=analysis.sr, n_fft=analysis.n_fft, fmin=analysis.fmin, fmax=analysis.fmax)
    S = dsp.stft_magnitude(y, n_fft=analysis.n_fft, hop_length=analysis.hop_length)
    S, gain = dsp.normalize_frames(S)
    keep = dsp.loud_frames(gain, silence_db=analysis.silence_db)
    frame = np.flatnonzero(keep).astype(np.int32)
    S = S[keep]
    return S, gain[keep], dsp.chroma_argmax(S, fb), frame, len(keep)


def _split_by_file(n_files: int, val: float, test: float, seed: int) -> np.ndarray | None:
    n_val, n_test = int(round(val * n_files)), int(round(test * n_files))
    if (val > 0 and n_val == 0) or (test > 0 and n_test == 0) or n_files - n_val - n_test < 1:
        return None
    order = np.random.default_rng(seed).permutation(n_files)
    split = np.zeros(n_files, dtype=np.int8)
    split[order[:n_val]] = 1
    split[order[n_val : n_val + n_test]] = 2
    return split


def _folder_split(folders: Sequence[str]) -> int | None:
    """Split named by the deepest ``train``/``val``/``validation``/``test`` folder, or None."""
    names = {"train": 0, "val": 1, "validation": 1, "test": 2}
    for part in reversed(folders):
        if part.lower() in names:
            return names[part.lower()]
    return None


def _folders_below_inputs(files: Sequence[Path], inputs: Sequence[str | os.PathLike]) -> list[tuple[str, ...]]:
    """Folders of each file below the input folder it was found in (a file given directly: its parent)."""
    roots = [Path(i).resolve() for i in inputs if Path(i).is_dir()]
    out = []
    for f in files:
        f = f.resolve()
        root = next((r for r in roots if f.is_relative_to(r)), None)
        out.append(f.relative_to(root).parts[:-1] if root else (f.parent.name,))
    return out


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
) -> Corpus:
    """Analyse audio files into a :class:`Corpus`, split by clip.

    Parameters
    ----------
    inputs : audio files or folders (searched recursively)
    val, test : fractions of clips for validation and test
    split_mode : ``"file"`` (whole files go to one set), ``"segment"`` (each file is cut into
        contiguous train / val / test segments), ``"folders"`` (a ``train/``, ``val/`` or
        ``test/`` folder in each file's path decides) or ``"auto"`` (folders when every file
        has one, else by file when each set gets at least one file, else segments)
    skip_bad : go on past corrupt, silent or too-short files instead of stopping

    Raises
    ------
    AudioFileError, CorpusError, ParameterError
    """
    if split_mode not in SPLIT_MODES:
        raise ParameterError(f"split_mode={split_mode!r} must be one of {SPLIT_MODES}")
    for name, v in (("val", val), ("test", test)):
        if not 0 <= v < 1:
            raise ParameterError(f"--{name} {v} must be a fraction in [0, 1)")
    if val + test >= 1:
        raise ParameterError(f"--val {val} + --test {test} leave nothing to train on; their sum must be < 1")
    files = find_audio(inputs)
    fb = dsp.chroma_filter(sr=analysis.sr, n_fft=analysis.n_fft, fmin=analysis.fmin, fmax=analysis.fmax)
    parts: list[tuple] = []
    sources: list[str] = []
    seconds, dropped = 0.0, 0
    t0 = time.perf_counter()
    bar = _progress(files, progress, "analysing")
    for path in bar:
        try:
            y = load(path, sr=analysis.sr)
            if len(y) < analysis.n_fft:
                raise AudioFileError(
                    f"{path}: {len(y)} samples is shorter than one frame ({analysis.n_fft} samples at {analysis.sr} Hz)"
                )
            S, gain, note, frame, n_total = analyse(y, analysis, fb)
            if len(S) == 0:
                raise AudioFileError(f"{path}: the file is silent")
        except AudioFileError as exc:
            if not skip_bad:
                raise
            warn(f"skipping {exc}")
            continue
        parts.append((S, gain, note, frame))
        sources.append(str(path))
        seconds += len(y) / analysis.sr
        dropped += n_total - len(S)
    if not parts:
        raise CorpusError("no usable audio: every file was skipped")
    split, clip, clip_source, mode = _assign_split(
        [p[3] for p in parts], _folders_below_inputs([Path(s) for s in sources], inputs), val, test, split_mode, seed
    )
    gain = np.concatenate([p[1] for p in parts])
    S = np.empty((len(gain), analysis.n_bins), dtype=np.float32)
    start = 0
    for i, part in enumerate(parts):  # fill in place, freeing each file's frames as we go
        S[start : start + len(part[0])] = part[0]
        start += len(part[0])
        parts[i] = (None,) + part[1:]
    corpus = Corpus(
        S=S,
        gain=gain,
        note=np.concatenate([p[2] for p in parts]),
        frame=np.concatenate([p[3] for p in parts]),
        clip=clip,
        split=split,
        clip_source=clip_source,
        sources=sources,
        analysis=analysis,
    )
    parts.clear()
    corpus.meta = {
        "format_version": FORMAT_VERSION,
        "analysis": analysis.to_dict(),
        "split_mode": mode,
        "val": val,
        "test": test,
        "seed": seed,
        "seconds": seconds,
        "dropped": int(dropped),
        "build_seconds": time.perf_counter() - t0,
        "hash": content_hash(corpus),
    }
    _check_splits(corpus)
    return corpus


def _assign_split(frames, folders, val, test, mode, seed):
    """Split, clip and clip-source arrays for files whose kept frame indices are ``frames`` and
    whose folders below their input are ``folders``."""
    n_files = len(frames)
    folder = [_folder_split(p) for p in folders]
    if mode == "folders" or (mode == "auto" and all(f is not None for f in folder)):
        missing = [i for i, f in enumerate(folder) if f is None]
        if missing:
            raise CorpusError(f"--split folders: file {missing[0] + 1} (in {'/'.join(folders[missing[0]]) or 'the input folder'}) "
                              "is not under a train/, val/ or test/ folder")
        file_split = np.array(folder, dtype=np.int8)
        mode = "folders"
    elif mode in ("auto", "file"):
        file_split = _split_by_file(n_files, val, test, seed)
        if file_split is None and mode == "file":
            raise CorpusError(
                f"{n_files} files cannot be split by file with --val {val} --test {test}: "
                "each set needs at least one file (use more files or --split segment)"
            )
        mode = "file" if file_split is not None else "segment"
    else:
        file_split = None
    split_parts, clip_parts, clip_source = [], [], []
    for i, fr in enumerate(frames):
        n = len(fr)
        if file_split is not None:
            split_parts.append(np.full(n, file_split[i], dtype=np.int8))
            clip_parts.append(np.full(n, len(clip_source), dtype=np.int32))
            clip_source.append(i)
            continue
        n_val, n_test = int(round(val * n)), int(round(test * n))
        s = np.zeros(n, dtype=np.int8)
        s[n - n_val - n_test : n - n_test] = 1
        s[n - n_test :] = 2
        c = np.empty(n, dtype=np.int32)
        for value in (0, 1, 2):
            if (s == value).any():
                c[s == value] = len(clip_source)
                clip_source.append(i)
        split_parts.append(s)
        clip_parts.append(c)
    return (
        np.concatenate(split_parts),
        np.concatenate(clip_parts),
        np.asarray(clip_source, dtype=np.int32),
        mode,
    )


def _check_splits(corpus: Corpus) -> None:
    meta = corpus.meta
    for i, name in enumerate(SPLITS):
        wanted = name == "train" or meta.get(name, 0) > 0
        if wanted and not (corpus.split == i).any():
            raise CorpusError(
                f"the corpus is too small to split: {corpus.n_frames} frames in {len(corpus.sources)} files "
                f"leave the {name} set empty (add audio, or lower --val/--test)"
            )


def content_hash(corpus: Corpus) -> str:
    """SHA-256 (first 16 hex digits) of the frames, labels and split."""
    h = hashlib.sha256()
    for a in (corpus.S, corpus.note, corpus.clip, corpus.split):
        h.update(np.ascontiguousarray(a).data)
    h.update(json.dumps(corpus.analysis.to_dict(), sort_keys=True).encode())
    return h.hexdigest()[:16]


def save(corpus: Corpus, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write a corpus to ``path`` (``.npz``), atomically."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ParameterError(f"corpus output {path} must end in .npz")
    with atomic_path(path, force=force) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                S=corpus.S,
                gain=corpus.gain,
                note=corpus.note,
                clip=corpus.clip,
                frame=corpus.frame,
                split=corpus.split,
                clip_source=corpus.clip_source,
                sources=np.asarray(corpus.sources, dtype=str),
                meta=np.asarray(json.dumps(corpus.meta)),
            )
    return path


_KEYS = {
    "S": np.floating,
    "gain": np.floating,
    "note": np.integer,
    "clip": np.integer,
    "frame": np.integer,
    "split": np.integer,
    "clip_source": np.integer,
    "sources": np.str_,
    "meta": np.str_,
}


def load_corpus(path: str | os.PathLike) -> Corpus:
    """Read and validate a corpus file.

    Raises
    ------
    CorpusError
        Naming what is wrong: a missing file, a missing key, a wrong shape or dtype, labels out of
        range, non-finite frames, a clip in two splits, another format version.
    """
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such corpus file")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in _KEYS if k not in z.files]
            if missing:
                raise CorpusError(f"{path}: not a manne corpus (missing {', '.join(missing)})")
            arrays = {k: z[k] for k in _KEYS}
    except CorpusError:
        raise
    except Exception as exc:
        raise CorpusError(f"{path}: cannot read corpus ({exc})") from exc
    for k, kind in _KEYS.items():
        if not np.issubdtype(arrays[k].dtype, kind):
            raise CorpusError(f"{path}: {k} has dtype {arrays[k].dtype}, expected {kind.__name__}")
    try:
        meta = json.loads(str(arrays["meta"]))
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path}: meta is not valid JSON ({exc})") from exc
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise CorpusError(f"{path}: corpus format version {version}, this manne reads version {FORMAT_VERSION}; rebuild it with `manne corpus`")
    analysis = Analysis.from_dict(meta.get("analysis", {}))
    S = arrays["S"].astype(np.float32, copy=False)
    n = len(S)
    if S.ndim != 2 or S.shape[1] != analysis.n_bins:
        raise CorpusError(f"{path}: S has shape {S.shape}, expected (n_frames, {analysis.n_bins})")
    for k in ("gain", "note", "clip", "frame", "split"):
        if arrays[k].shape != (n,):
            raise CorpusError(f"{path}: {k} has shape {arrays[k].shape}, expected ({n},)")
    if n == 0:
        raise CorpusError(f"{path}: corpus holds no frames")
    if not np.isfinite(S).all():
        raise CorpusError(f"{path}: S holds NaN or Inf values")
    note, split, clip = arrays["note"], arrays["split"], arrays["clip"]
    if note.min() < 0 or note.max() > 11:
        raise CorpusError(f"{path}: note labels must be 0-11, found {note.min()}..{note.max()}")
    if split.min() < 0 or split.max() > 2:
        raise CorpusError(f"{path}: split values must be 0-2, found {split.min()}..{split.max()}")
    n_clips = len(arrays["clip_source"])
    if clip.min() < 0 or clip.max() >= n_clips:
        raise CorpusError(f"{path}: clip ids must be 0..{n_clips - 1}")
    per_clip = np.full(n_clips, -1)
    per_clip[clip] = split
    if (per_clip[clip] != split).any():
        raise CorpusError(f"{path}: a clip has frames in two splits (frame-level leakage)")
    return Corpus(
        S=S,
        gain=arrays["gain"].astype(np.float32, copy=False),
        note=note.astype(np.int8),
        clip=clip.astype(np.int32),
        frame=arrays["frame"].astype(np.int32),
        split=split.astype(np.int8),
        clip_source=arrays["clip_source"].astype(np.int32),
        sources=[str(s) for s in arrays["sources"]],
        analysis=analysis,
        meta=meta,
    )


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, desc=desc, unit="file", leave=False, disable=None)  # None: only on a terminal
