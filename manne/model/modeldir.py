"""The model directory: reads and writes its files (``weights.npz`` in :mod:`manne.model.weights`).

A model directory holds:

* ``config.json``: format version, analysis parameters, :class:`ModelConfig`, :class:`TrainConfig`,
  layer widths, the corpus it was trained on and the sliders' ``latent_range``;
* ``weights.npz``: the Dense layers, read and written by :mod:`manne.model.weights`;
* from training: ``model.keras``, ``history.csv`` (one row per epoch, :data:`HISTORY_COLUMNS`),
  ``metrics.json``, ``examples.npz``, ``landmarks.json`` (:mod:`manne.timbre.landmarks`), ``descriptors.json``
  (:mod:`manne.timbre.descriptors`) and ``checkpoint/`` (what ``--resume`` continues from:
  ``config.json``, ``history.csv``; ``best.weights.npz`` and ``best.json``, the best weights with the
  optimizer's state and their score, written together at every improvement; ``last.keras`` and
  ``state.json``, the latest epoch's model, every 30 s and when training stops; read and written by
  :mod:`manne.model.checkpoint`).

Only ``config.json`` and ``weights.npz`` are needed to play a model (:data:`REQUIRED_FILES`).
Every file is written to a temporary name and renamed into place, and a finished model is staged
in a temporary folder and moved in at once (:func:`commit`). Every reader here is the error
boundary for its file: a damaged file, or a value out of the limits the command line has, raises
:class:`~manne.errors.ModelError` naming the file and the field. This module needs NumPy only.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from manne.corpus.analysis import Analysis
from manne.errors import ModelError, OutputExistsError
from manne.io.files import atomic_path, read_csv_rows, read_json, write_json
from manne.model.config import PAPER, ModelConfig, from_dict

__all__ = [
    "FORMAT_VERSION", "REQUIRED_FILES", "MODEL_FILES", "HISTORY_COLUMNS", "CHECKPOINT", "NEXT",
    "is_complete", "check_output", "read_config", "parse_config", "write_config",
    "read_metrics", "write_metrics", "read_history", "write_history",
    "is_resumable", "resumable_run", "commit", "corpus_path", "BEST_WEIGHTS",
]

FORMAT_VERSION = 1
REQUIRED_FILES = ("config.json", "weights.npz")
CHECKPOINT = "checkpoint"
NEXT = ".next"  # where a --force run trains, inside the model it will replace, until it is complete
MODEL_FILES = ("config.json", "weights.npz", "model.keras", "history.csv", "metrics.json", "examples.npz", "landmarks.json",
               "descriptors.json", CHECKPOINT)
HISTORY_COLUMNS = ("epoch", "loss", "mse", "val_mse", "lr", "seconds", "frames")
BEST_WEIGHTS = "best.weights.npz"  # (manne 0.1 wrote best.weights.h5, still read)

# ---- the directory as a whole -------------------------------------------------------------------

def is_complete(model_dir: str | os.PathLike) -> bool:
    """Whether ``model_dir`` holds every file needed to play the model."""
    return all((Path(model_dir) / f).is_file() for f in REQUIRED_FILES)


def check_output(out: str | os.PathLike, *, resume: bool, force: bool) -> None:
    """Check that training may write ``out``, before anything heavy is loaded.

    Raises
    ------
    ModelError
        If ``resume`` is set and ``out`` has no checkpoint to continue.
    OutputExistsError
        If ``out`` is a file, or a non-empty directory without ``force``, or a directory that is not
        a model directory (``force`` only replaces model directories).
    """
    out = Path(out)
    if resume:
        if resumable_run(out) is None:
            raise ModelError(f"{out}: nothing to resume (no {CHECKPOINT}/state.json or {CHECKPOINT}/{BEST_WEIGHTS}); "
                             "train without --resume")
        return
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out} exists and is not a directory")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise OutputExistsError(f"{out} exists; use --force to overwrite it or --resume to continue it")
        if not any((out / f).exists() for f in MODEL_FILES):
            raise OutputExistsError(f"{out} is not a manne model directory; --force only replaces model directories")


def is_resumable(out: str | os.PathLike) -> bool:
    """Whether ``out`` holds a checkpoint that ``--resume`` can continue (the last epoch's or the best)."""
    ckpt = Path(out) / CHECKPOINT
    return (ckpt / "state.json").is_file() or ((ckpt / BEST_WEIGHTS).is_file() and (ckpt / "best.json").is_file())


def resumable_run(out: str | os.PathLike) -> Path | None:
    """The folder whose checkpoint ``--resume`` continues: ``out/.next`` (a ``--force`` run that was
    stopped before it replaced the model in ``out``), else ``out`` itself, else None."""
    out = Path(out)
    for work in (out / NEXT, out):
        if is_resumable(work):
            return work
    return None


def commit(stage: str | os.PathLike, out: str | os.PathLike) -> None:
    """Move a finished model from the folder ``stage`` into ``out``, replacing the model there.

    The model files of ``out`` that ``stage`` lacks are removed too (a stale ``descriptors.json``
    does not describe new weights), except ``checkpoint/``; files the user put there stay. Every
    step is a rename within one folder, so nothing is copied and a full disk cannot stop it
    halfway; ``stage`` is removed.
    """
    stage, out = Path(stage), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    trash = stage / ".replaced"
    trash.mkdir()
    for name in MODEL_FILES:
        old = out / name
        if (old.exists() or old.is_symlink()) and ((stage / name).exists() or name != CHECKPOINT):
            os.replace(old, trash / name)
    for name in MODEL_FILES:
        if (stage / name).exists():
            os.replace(stage / name, out / name)
    shutil.rmtree(stage)


# ---- config.json --------------------------------------------------------------------------------

def corpus_path(model_dir: str | os.PathLike, info: dict) -> Path:
    """The corpus a model was trained on, as named in its ``config.json``.

    A relative path is tried from the working folder, then from each folder above the model
    directory (a model in ``trained/`` of a checkout finds ``corpora/`` beside it), so commands work
    from any folder.

    Raises
    ------
    CorpusError
        If the config names no corpus or none of those places has it.
    """
    from manne.errors import CorpusError

    named = (info.get("corpus") or {}).get("path") if isinstance(info.get("corpus"), dict) else None
    if not isinstance(named, str) or not named:
        raise CorpusError(f"{model_dir}/config.json does not name its corpus; give the corpus file")
    path = Path(named)
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = [path] + [base / path for base in Path(model_dir).resolve().parents]
    for c in candidates:
        if c.is_file():
            return c
    raise CorpusError(f"{named}, the corpus {model_dir} was trained on, is missing; give the corpus file "
                      f"(rebuild it with `manne corpus`)")


def read_config(model_dir: str | os.PathLike) -> dict:
    """Read and check a model directory's ``config.json``.

    Returns
    -------
    info : dict, the whole file; its ``model`` and ``analysis`` sections and ``latent_range`` are valid

    Raises
    ------
    ModelError
        If the directory or a required file is missing, the file is damaged, its format version
        differs, or a section is missing or holds an invalid value.
    """
    d = Path(model_dir)
    if not d.is_dir():
        raise ModelError(f"{d}: no such model directory")
    odd = [f for f in REQUIRED_FILES if (d / f).exists() and not (d / f).is_file()]
    if odd:  # (a pipe would block its reader for ever)
        raise ModelError(f"{d / odd[0]}: a pipe, folder or device, not a file of the model")
    missing = [f for f in REQUIRED_FILES if not (d / f).is_file()]
    if missing:
        raise ModelError(f"{d}: incomplete model directory (missing {', '.join(missing)}); train it again with `manne train`")
    return _read_info(d / "config.json")


def _read_info(path: Path) -> dict:
    info = _read_object(path, "model configuration")
    version = info.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ModelError(f"{path}: model format version {version!r}, this manne reads version {FORMAT_VERSION}; "
                         "retrain it with `manne train`")
    config, _ = parse_config(info, path)
    for key in ("corpus", "training", "widths"):
        if key in info and not isinstance(info[key], dict):
            raise ModelError(f"{path}: {key!r} is {_json_type(info[key])}; expected an object")
    lr = info.get("latent_range")
    if lr is not None:
        try:
            arr = np.asarray(lr, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            arr = None
        if arr is None or arr.shape != (2, config.latent) or not np.isfinite(arr).all():
            raise ModelError(f"{path}: latent_range must be two lists of {config.latent} finite numbers")
        if (arr[0] > arr[1]).any():
            i = int(np.flatnonzero(arr[0] > arr[1])[0])
            raise ModelError(f"{path}: latent_range of z{i + 1} is [{arr[0, i]:g}, {arr[1, i]:g}]; "
                             "the lower bound must not exceed the upper")
    _check_corpus_section(path, info.get("corpus"))
    return info


def _check_corpus_section(path: Path, corpus: dict | None) -> None:
    if corpus is None:
        return
    named = corpus.get("path")
    if named is not None and not isinstance(named, str):
        raise ModelError(f"{path}: corpus path={named!r} must be a string")
    if corpus.get("hash") is not None and not isinstance(corpus["hash"], str):
        raise ModelError(f"{path}: corpus hash={corpus['hash']!r} must be a string")
    notes = corpus.get("notes_present")
    if "notes_present" in corpus and not (isinstance(notes, list) and notes
                                  and all(_is_count(n) and n <= 11 for n in notes)):
        raise ModelError(f"{path}: corpus notes_present={str(notes)[:60]} must be a non-empty list of pitch classes 0-11")


def _json_type(v) -> str:
    return {type(None): "null", bool: "true or false", int: "a number", float: "a number", str: "a string",
            list: "a list"}.get(type(v), type(v).__name__)


def parse_config(info: dict, path: str | os.PathLike) -> tuple[ModelConfig, Analysis]:
    """The :class:`ModelConfig` and :class:`Analysis` of a ``config.json`` read from ``path``.

    Raises
    ------
    ModelError
        Naming ``path``, if a section is missing or holds a value of the wrong type or range.
    """
    for key in ("analysis", "model"):
        if not isinstance(info.get(key), dict):
            raise ModelError(f"{path}: no {key!r} section")
    try:
        # a model saved before power, register and output existed is the paper's
        config = from_dict(ModelConfig, {**PAPER, **info["model"]})
        analysis = from_dict(Analysis, info["analysis"])
    except (TypeError, ValueError) as exc:  # ParameterError is a ValueError
        raise ModelError(f"{path}: invalid model configuration ({exc})") from exc
    if config.n_bins != analysis.n_bins:
        raise ModelError(f"{path}: the model has n_bins={config.n_bins}; its analysis (n_fft={analysis.n_fft}) "
                         f"makes {analysis.n_bins}")
    return config, analysis


def write_config(path: str | os.PathLike, info: dict) -> None:
    """Write ``info`` as ``config.json`` (``path`` is the file), atomically."""
    write_json(path, info)


# ---- metrics.json and history.csv ---------------------------------------------------------------

def read_metrics(model_dir: str | os.PathLike) -> dict:
    """A model directory's ``metrics.json``; ModelError naming the file if it is missing or damaged."""
    path = Path(model_dir) / "metrics.json"
    metrics = _read_object(path, "metrics file")
    for key in ("val_mse", "test_mse", "training_seconds", "frames_per_second"):
        if not _is_number(metrics.get(key), none=True):
            raise ModelError(f"{path}: {key}={metrics.get(key)!r} is not a number")
    for key in ("epochs", "best_epoch"):
        if not _is_count(metrics.get(key), none=True):
            raise ModelError(f"{path}: {key}={metrics.get(key)!r} is not an epoch count")
    return metrics


def write_metrics(model_dir: str | os.PathLike, metrics: dict) -> None:
    """Write ``metrics.json`` in ``model_dir``, atomically."""
    write_json(Path(model_dir) / "metrics.json", metrics)


def read_history(path: str | os.PathLike) -> list[dict[str, float]]:
    """The rows of a ``history.csv`` written by :func:`write_history`.

    Returns
    -------
    rows : list of dict, one per epoch, keyed by :data:`HISTORY_COLUMNS`; empty cells are NaN

    Raises
    ------
    ModelError
        If the file is missing or not CSV text, its header differs from :data:`HISTORY_COLUMNS`, a
        row has another number of cells or a cell is not a number.
    """
    rows = read_csv_rows(path, error=ModelError, what="training history")
    if not rows or tuple(rows[0]) != HISTORY_COLUMNS:
        got = ",".join(rows[0]) if rows else "nothing"
        raise ModelError(f"{path}: the training history's header is {got[:80]!r}, expected {','.join(HISTORY_COLUMNS)!r}")
    out = []
    for i, row in enumerate(rows[1:], start=1):
        if len(row) != len(HISTORY_COLUMNS):
            raise ModelError(f"{path}: row {i} has {len(row)} cells; the header has {len(HISTORY_COLUMNS)}")
        try:
            out.append({k: float(v) if v else math.nan for k, v in zip(HISTORY_COLUMNS, row)})
        except ValueError:
            raise ModelError(f"{path}: row {i} holds a cell that is not a number ({','.join(row)[:80]!r})") from None
    return out


def write_history(path: str | os.PathLike, rows: Sequence[dict]) -> None:
    """Write ``history.csv`` (columns :data:`HISTORY_COLUMNS`, one row per epoch), atomically."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HISTORY_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    with atomic_path(path, force=True) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")


# ---- helpers ------------------------------------------------------------------------------------

def _read_object(path: Path, what: str) -> dict[str, Any]:
    obj = read_json(path, error=ModelError, what=what)
    if not isinstance(obj, dict):
        raise ModelError(f"{path}: the {what} is not a JSON object")
    return obj


def _is_number(v, *, none: bool = False) -> bool:
    if v is None:
        return none
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_count(v, *, none: bool = False) -> bool:
    if v is None:
        return none
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0
