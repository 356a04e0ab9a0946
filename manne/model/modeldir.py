"""The model directory: the one module that reads and writes its files.

A model directory holds:

* ``config.json``: format version, analysis parameters, :class:`ModelConfig`, :class:`TrainConfig`,
  layer widths, the corpus it was trained on and the sliders' ``latent_range``;
* ``weights.npz``: each Dense layer as ``encoder/<i>/W`` (n_in, n_out), ``encoder/<i>/b`` (n_out,),
  ``decoder/<i>/W``, ``decoder/<i>/b``, float32 or float16; for a VAE the encoder's last layer is
  the mean of ``q(z|x)``;
* from training: ``model.keras``, ``history.csv`` (one row per epoch, :data:`HISTORY_COLUMNS`),
  ``metrics.json``, ``examples.npz`` and ``checkpoint/`` (what ``--resume`` continues from:
  ``config.json``, ``state.json``, ``best.json``, ``history.csv``, ``best.weights.h5``,
  ``last.keras``).

Only ``config.json`` and ``weights.npz`` are needed to play a model (:data:`REQUIRED_FILES`).
Every file is written to a temporary name and renamed into place. Every reader here is the error
boundary for its file: a damaged file raises :class:`~manne.errors.ModelError` naming the file and
the problem. This module needs NumPy only.
"""

from __future__ import annotations

import csv
import io
import math
import os
import pickle
import shutil
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from manne.corpus.analysis import Analysis
from manne.errors import ModelError, OutputExistsError
from manne.io.files import atomic_path, read_csv_rows, read_json, write_json
from manne.model.config import ModelConfig, TrainConfig, from_dict

__all__ = [
    "FORMAT_VERSION", "REQUIRED_FILES", "MODEL_FILES", "HISTORY_COLUMNS", "CHECKPOINT",
    "is_complete", "check_output", "clear", "read_config", "parse_config", "write_config",
    "read_weights", "write_weights", "read_metrics", "write_metrics", "read_history", "write_history",
    "read_checkpoint", "write_state", "write_best",
]

FORMAT_VERSION = 1
REQUIRED_FILES = ("config.json", "weights.npz")
CHECKPOINT = "checkpoint"
MODEL_FILES = ("config.json", "weights.npz", "model.keras", "history.csv", "metrics.json", "examples.npz", CHECKPOINT)
HISTORY_COLUMNS = ("epoch", "loss", "mse", "val_mse", "lr", "seconds", "frames")

Layers = list[tuple[np.ndarray, np.ndarray]]  # Dense layers' (W, b), input side first


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
        if not (out / CHECKPOINT / "state.json").is_file():
            raise ModelError(f"{out}: nothing to resume (no {CHECKPOINT}/state.json); train without --resume")
        return
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out} exists and is not a directory")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise OutputExistsError(f"{out} exists; use --force to overwrite it or --resume to continue it")
        if not any((out / f).exists() for f in MODEL_FILES):
            raise OutputExistsError(f"{out} is not a manne model directory; --force only replaces model directories")


def clear(out: str | os.PathLike) -> None:
    """Remove the files a model directory holds (and nothing else the user put there)."""
    for name in MODEL_FILES:
        p = Path(out) / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


# ---- config.json --------------------------------------------------------------------------------

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
    missing = [f for f in REQUIRED_FILES if not (d / f).is_file()]
    if missing:
        raise ModelError(f"{d}: incomplete model directory (missing {', '.join(missing)}); train it again with `manne train`")
    return _read_info(d / "config.json")


def _read_info(path: Path) -> dict:
    info = _read_object(path, "model configuration")
    version = info.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelError(f"{path.parent}: model format version {version}, this manne reads version {FORMAT_VERSION}; "
                         "retrain it with `manne train`")
    config, _ = parse_config(info, path)
    lr = info.get("latent_range")
    if lr is not None:
        try:
            arr = np.asarray(lr, dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
        if arr is None or arr.shape != (2, config.latent) or not np.isfinite(arr).all():
            raise ModelError(f"{path}: latent_range must be two lists of {config.latent} finite numbers")
    return info


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
        config, analysis = from_dict(ModelConfig, info["model"]), from_dict(Analysis, info["analysis"])
    except (TypeError, ValueError) as exc:  # ParameterError is a ValueError
        raise ModelError(f"{path}: invalid model configuration ({exc})") from exc
    if config.n_bins != analysis.n_bins:
        raise ModelError(f"{path}: the model has n_bins={config.n_bins}; its analysis (n_fft={analysis.n_fft}) "
                         f"makes {analysis.n_bins}")
    return config, analysis


def write_config(path: str | os.PathLike, info: dict) -> None:
    """Write ``info`` as ``config.json`` (``path`` is the file), atomically."""
    write_json(path, info)


# ---- weights.npz --------------------------------------------------------------------------------

def read_weights(model_dir: str | os.PathLike, config: ModelConfig, *, dtype=np.float32) -> tuple[Layers, Layers]:
    """Dense layers of ``weights.npz``, checked against ``config``.

    Returns
    -------
    encoder, decoder : lists of ``(W, b)``, ``W`` shape (n_in, n_out), ``b`` shape (n_out,), as ``dtype``

    Raises
    ------
    ModelError
        If the file cannot be read, lacks a layer, or a shape does not match ``config``.
    """
    path = Path(model_dir) / "weights.npz"
    if path.is_file() and not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not a .npz archive (damaged, or another kind of file)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError as exc:
        raise ModelError(f"{path}: no such file") from exc
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError, AttributeError) as exc:
        raise ModelError(f"{path}: cannot be read ({type(exc).__name__}: {str(exc)[:120]})") from exc
    n = len(config.hidden) + 1
    layers: dict[str, Layers] = {}
    for part in ("encoder", "decoder"):
        try:
            layers[part] = [(arrays[f"{part}/{i}/W"].astype(dtype), arrays[f"{part}/{i}/b"].astype(dtype)) for i in range(n)]
        except KeyError as exc:
            raise ModelError(f"{path}: no array {exc.args[0]}; it does not match config.json") from exc
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{path}: a {part} layer is not numeric ({exc})") from exc
    aug = {"chroma": 12, "diff": config.n_bins, "none": 0}[config.augment]
    _check_chain(path, "encoder", layers["encoder"], config.n_bins + aug, config.latent)
    _check_chain(path, "decoder", layers["decoder"], config.latent + (12 if config.skip else 0), config.n_bins)
    return layers["encoder"], layers["decoder"]


def _check_chain(path: Path, part: str, layers: Layers, n_in: int, n_out: int) -> None:
    width = n_in
    for i, (W, b) in enumerate(layers):
        if W.ndim != 2 or W.shape[0] != width or b.shape != (W.shape[1],):
            raise ModelError(f"{path}: {part} layer {i} has W {W.shape} and b {b.shape}, expected W ({width}, n) "
                             "and b (n,); it does not match config.json")
        width = W.shape[1]
    if width != n_out:
        raise ModelError(f"{path}: the {part} outputs {width} values; config.json says {n_out}")


def write_weights(path: str | os.PathLike, encoder: Layers, decoder: Layers, *, dtype=np.float32) -> None:
    """Write Dense layers' ``(W, b)`` pairs to ``weights.npz`` at ``path``, atomically, as ``dtype``."""
    arrays = {}
    for name, layers in (("encoder", encoder), ("decoder", decoder)):
        for i, (W, b) in enumerate(layers):
            arrays[f"{name}/{i}/W"] = np.asarray(W, dtype=dtype)
            arrays[f"{name}/{i}/b"] = np.asarray(b, dtype=dtype)
    with atomic_path(path, force=True) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


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


# ---- checkpoint/ --------------------------------------------------------------------------------

def read_checkpoint(model_dir: str | os.PathLike) -> tuple[dict, dict, list[dict[str, float]]]:
    """What ``--resume`` continues from: ``checkpoint/config.json``, the state and the history.

    Returns
    -------
    info : dict, the checkpoint's ``config.json`` (with valid ``model`` and ``training`` sections)
    state : dict with ``epoch`` (epochs done), ``seconds`` (training time so far), ``best_val`` and
        ``best_epoch`` (None before the first best weights), from ``state.json`` and ``best.json``
    history : the rows of ``checkpoint/history.csv`` up to ``state["epoch"]``

    Raises
    ------
    ModelError
        Naming the file, if one is missing or damaged.
    """
    ckpt = Path(model_dir) / CHECKPOINT
    info = _read_info(ckpt / "config.json")
    if not isinstance(info.get("training"), dict) or not isinstance(info.get("corpus"), dict):
        raise ModelError(f"{ckpt / 'config.json'}: no 'training' or 'corpus' section")
    try:
        from_dict(TrainConfig, info["training"])
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{ckpt / 'config.json'}: invalid training configuration ({exc})") from exc
    path = ckpt / "state.json"
    raw = _read_object(path, "training state")
    state = {"epoch": raw.get("epoch"), "seconds": raw.get("seconds", 0.0), "best_val": None, "best_epoch": None}
    if not _is_count(state["epoch"]):
        raise ModelError(f"{path}: epoch={state['epoch']!r} is not an epoch count")
    if not _is_number(state["seconds"]) or state["seconds"] < 0:
        raise ModelError(f"{path}: seconds={state['seconds']!r} is not a duration")
    best = ckpt / "best.json"
    if best.is_file():
        raw_best = _read_object(best, "best score")
        state["best_val"], state["best_epoch"] = raw_best.get("best_val"), raw_best.get("best_epoch")
        if not _is_number(state["best_val"]) or not _is_count(state["best_epoch"]) or state["best_epoch"] < 1:
            raise ModelError(f"{best}: best_val={state['best_val']!r} and best_epoch={state['best_epoch']!r} "
                             "must be a number and an epoch from 1")
    if isinstance(raw.get("history"), list):  # checkpoints from before history.csv kept it here
        history = raw["history"]
    else:
        history = read_history(ckpt / "history.csv")
    history = [h for h in history if h.get("epoch", math.inf) <= state["epoch"]]
    if len(history) != state["epoch"]:
        raise ModelError(f"{ckpt / 'history.csv'}: {len(history)} epochs of history; {path.name} says {state['epoch']}")
    return info, state, history


def write_state(ckpt: str | os.PathLike, *, epoch: int, seconds: float) -> None:
    """Write ``checkpoint/state.json`` (epochs done and training seconds), atomically."""
    write_json(Path(ckpt) / "state.json", {"epoch": int(epoch), "seconds": float(seconds)})


def write_best(ckpt: str | os.PathLike, *, best_val: float, best_epoch: int) -> None:
    """Write ``checkpoint/best.json``, the score of ``best.weights.h5``, atomically."""
    write_json(Path(ckpt) / "best.json", {"best_val": float(best_val), "best_epoch": int(best_epoch)})


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
