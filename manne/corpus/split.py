"""Which frames train, validate and test: the split by clip.

A *clip* is a whole file or one contiguous segment of a file, and every frame of a clip is in one
split, so no validation or test frame has a near-identical neighbour in training. The split mode
decides how clips are made:

``"folders"``
    A ``train/``, ``val/`` (or ``validation/``) or ``test/`` folder below the input folder decides
    each file's split; the deepest such folder wins, folders above the input never count.
``"file"``
    Whole files, drawn at random (``seed``) in the proportions ``val`` and ``test``.
``"segment"``
    Each file is cut into a train, a validation and a test segment, in that order.
``"auto"``
    Folders when every file has one, else by file when every wanted set gets at least one file,
    else segments.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from manne.errors import CorpusError, ParameterError

SPLITS = ("train", "val", "test")
SPLIT_MODES = ("auto", "file", "segment", "folders")

_FOLDER_NAMES = {"train": 0, "val": 1, "validation": 1, "test": 2}


def check_fractions(val: float, test: float) -> None:
    """Raise :class:`ParameterError` unless ``val`` and ``test`` are fractions leaving some training data."""
    for name, v in (("val", val), ("test", test)):
        if not 0 <= v < 1:
            raise ParameterError(f"--{name} {v} must be a fraction in [0, 1)")
    if val + test >= 1:
        raise ParameterError(f"--val {val} + --test {test} leave nothing to train on; their sum must be < 1")


def folders_below_inputs(files: Sequence[Path], inputs: Sequence[str | os.PathLike]) -> list[tuple[str, ...]]:
    """Folders of each file below the input folder it was found in (a file given directly: its parent)."""
    # absolute but not resolved: a symbolic link to a folder named val/ is a val/ folder
    roots = [Path(os.path.abspath(i)) for i in inputs if Path(i).is_dir()]
    out = []
    for f in files:
        f = Path(os.path.abspath(f))
        root = next((r for r in roots if f.is_relative_to(r)), None)
        out.append(f.relative_to(root).parts[:-1] if root else (f.parent.name,))
    return out


def _folder_split(folders: Sequence[str]) -> int | None:
    """Split named by the deepest ``train``/``val``/``validation``/``test`` folder, or None."""
    for part in reversed(folders):
        if part.lower() in _FOLDER_NAMES:
            return _FOLDER_NAMES[part.lower()]
    return None


def _split_by_file(n_files: int, val: float, test: float, seed: int) -> np.ndarray | None:
    """Split of each file, or None when some wanted set would get no file."""
    n_val, n_test = int(round(val * n_files)), int(round(test * n_files))
    if (val > 0 and n_val == 0) or (test > 0 and n_test == 0) or n_files - n_val - n_test < 1:
        return None
    order = np.random.default_rng(seed).permutation(n_files)
    split = np.zeros(n_files, dtype=np.int8)
    split[order[:n_val]] = 1
    split[order[n_val : n_val + n_test]] = 2
    return split


def _file_splits(folders: Sequence[tuple[str, ...]], val: float, test: float, mode: str, seed: int):
    """Split of each file (None: split each file into segments) and the mode that decided it."""
    folder = [_folder_split(p) for p in folders]
    if mode == "folders" or (mode == "auto" and all(f is not None for f in folder)):
        missing = [i for i, f in enumerate(folder) if f is None]
        if missing:
            where = "/".join(folders[missing[0]]) or "the input folder"
            raise CorpusError(
                f"--split folders: file {missing[0] + 1} (in {where}) is not under a train/, val/ or test/ folder"
            )
        return np.array(folder, dtype=np.int8), "folders"
    if mode in ("auto", "file"):
        file_split = _split_by_file(len(folders), val, test, seed)
        if file_split is None and mode == "file":
            raise CorpusError(
                f"{len(folders)} files cannot be split by file with --val {val} --test {test}: "
                "each set needs at least one file (use more files or --split segment)"
            )
        return file_split, "file" if file_split is not None else "segment"
    return None, "segment"


def assign_split(
    frames: Sequence[np.ndarray],
    folders: Sequence[tuple[str, ...]],
    *,
    val: float,
    test: float,
    mode: str = "auto",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Split and clip of every frame of several files.

    Parameters
    ----------
    frames : one np.ndarray per file, shape (n_kept_i,)
        The kept frame indices of each file, in time order.
    folders : one tuple of folder names per file
        From :func:`folders_below_inputs`.
    val, test : fractions of clips (files, or frames of each file) for validation and test
    mode : one of :data:`SPLIT_MODES`
    seed : seed of the file split

    Returns
    -------
    split : np.ndarray of int8, shape (sum n_kept_i,), 0 train, 1 validation, 2 test
    clip : np.ndarray of int32, shape (sum n_kept_i,), clip id of each frame
    clip_source : np.ndarray of int32, shape (n_clips,), the file of each clip
    mode : str, the mode used (``"auto"`` resolved)

    Raises
    ------
    ParameterError
        If ``mode`` is not a split mode or the fractions are out of range.
    CorpusError
        If ``--split folders`` finds a file outside such a folder, or ``--split file`` has too few files.
    """
    if mode not in SPLIT_MODES:
        raise ParameterError(f"split_mode={mode!r} must be one of {SPLIT_MODES}")
    check_fractions(val, test)
    file_split, mode = _file_splits(folders, val, test, mode, seed)
    split_parts, clip_parts, clip_source = [], [], []
    for i, fr in enumerate(frames):
        n = len(fr)
        if file_split is not None:
            s = np.full(n, file_split[i], dtype=np.int8)
        else:  # contiguous train, val, test segments
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


def check_splits(split: np.ndarray, *, val: float, test: float, n_files: int) -> None:
    """Raise :class:`CorpusError` if training, or a set asked for (fraction > 0), has no frame.

    Parameters
    ----------
    split : np.ndarray, shape (n_frames,), values 0-2
    """
    for i, name in enumerate(SPLITS):
        wanted = name == "train" or {"val": val, "test": test}[name] > 0
        if wanted and not (split == i).any():
            raise CorpusError(
                f"the corpus is too small to split: {len(split)} frames in {n_files} files "
                f"leave the {name} set empty (add audio, or lower --val/--test)"
            )
