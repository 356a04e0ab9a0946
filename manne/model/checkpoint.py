"""The ``checkpoint/`` folder of a model directory: what ``--resume`` continues from.

Part of the model directory's format (:mod:`manne.model.modeldir`):

* ``config.json``: the run's configuration (the model directory's, with ``training`` and ``corpus``);
* ``history.csv``: one row per epoch, rewritten after each;
* ``best.weights.npz`` and ``best.json``: the best weights so far with the optimizer's state, and
  their score, written together at every improvement;
* ``last.keras`` and ``state.json``: the latest epoch's Keras model and its epoch and training
  seconds, every 30 s and when training stops.

A run resumes from the later of the last saved epoch and the best weights. Every reader is the
error boundary for its file (:class:`~manne.errors.ModelError` naming it). NumPy only.
"""

from __future__ import annotations

import math
import os
import pickle
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np

from manne.errors import ModelError
from manne.io.files import atomic_path, write_json
from manne.model.config import TrainConfig, from_dict
from manne.model.modeldir import BEST_WEIGHTS, CHECKPOINT, _is_count, _is_number, _read_info, _read_object, read_history

__all__ = ["read_checkpoint", "write_state", "write_best", "write_best_weights", "read_best_weights"]


def read_checkpoint(model_dir: str | os.PathLike) -> tuple[dict, dict, list[dict[str, float]]]:
    """What ``--resume`` continues from: ``checkpoint/config.json``, the state and the history.

    A run continues from the later of its last saved epoch (``last.keras``, ``state.json``) and its
    best weights (``best.weights.npz``, ``best.json``: written together at every improvement, so a
    run killed before its first timed save is resumable too).

    Returns
    -------
    info : dict, the checkpoint's ``config.json`` (with valid ``model``, ``training`` and ``corpus`` sections)
    state : dict with ``epoch`` (epochs done), ``seconds`` (training time so far), ``best_val`` and
        ``best_epoch`` (None before the first best weights), and ``start``: ``"last"`` (continue
        ``last.keras``) or ``"best"`` (continue the best weights)
    history : the rows of ``checkpoint/history.csv`` up to ``state["epoch"]``

    Raises
    ------
    ModelError
        Naming the file and the field, if one is missing or damaged.
    """
    ckpt = Path(model_dir) / CHECKPOINT
    cfg = ckpt / "config.json"
    info = _read_info(cfg)
    for key in ("training", "corpus"):
        if not isinstance(info.get(key), dict):
            raise ModelError(f"{cfg}: no {key!r} section")
    if not isinstance(info["corpus"].get("hash"), str):
        raise ModelError(f"{cfg}: the corpus section names no hash; the checkpoint cannot be matched to a corpus")
    try:
        from_dict(TrainConfig, info["training"])
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{cfg}: invalid training configuration ({exc})") from exc
    state = {"epoch": None, "seconds": None, "best_val": None, "best_epoch": None, "start": "last"}
    path = ckpt / "state.json"
    raw: dict = {}
    if path.is_file():
        raw = _read_object(path, "training state")
        state["epoch"], state["seconds"] = raw.get("epoch"), raw.get("seconds", 0.0)
        if not _is_count(state["epoch"]):
            raise ModelError(f"{path}: epoch={state['epoch']!r} is not an epoch count")
        if not _is_number(state["seconds"]) or not 0 <= state["seconds"] < math.inf:
            raise ModelError(f"{path}: seconds={state['seconds']!r} is not a duration")
    best = ckpt / "best.json"
    if best.is_file():
        raw_best = _read_object(best, "best score")
        state["best_val"], state["best_epoch"] = raw_best.get("best_val"), raw_best.get("best_epoch")
        if not _is_number(state["best_val"]) or not math.isfinite(state["best_val"]) or not _is_count(state["best_epoch"]) \
                or state["best_epoch"] < 1:
            raise ModelError(f"{best}: best_val={state['best_val']!r} and best_epoch={state['best_epoch']!r} "
                             "must be a finite number and an epoch from 1")
    if isinstance(raw.get("history"), list):  # checkpoints from before history.csv kept it here
        history = raw["history"]
    else:
        history = read_history(ckpt / "history.csv")
    if state["best_epoch"] is not None and (ckpt / BEST_WEIGHTS).is_file() and state["best_epoch"] > (state["epoch"] or 0):
        # the best weights are newer than the last saved epoch (or there is none): continue from them
        state.update(start="best", epoch=state["best_epoch"])
        if len(history) < state["epoch"]:
            raise ModelError(f"{ckpt / 'history.csv'}: {len(history)} epochs of history; {best.name} says the best "
                             f"was epoch {state['epoch']}")
        state["seconds"] = float(sum(h.get("seconds", 0.0) for h in history[: state["epoch"]]))
    elif state["epoch"] is None:
        raise ModelError(f"{path}: no such file; the checkpoint is incomplete, train again without --resume")
    history = [h for h in history if h.get("epoch", math.inf) <= state["epoch"]]
    if len(history) != state["epoch"]:
        raise ModelError(f"{ckpt / 'history.csv'}: {len(history)} epochs of history; {path.name} says {state['epoch']}")
    if state["best_epoch"] is not None and state["best_epoch"] > state["epoch"]:
        raise ModelError(f"{best}: best_epoch={state['best_epoch']} is after the last epoch saved ({state['epoch']})")
    return info, state, history


def write_state(ckpt: str | os.PathLike, *, epoch: int, seconds: float) -> None:
    """Write ``checkpoint/state.json`` (epochs done and training seconds), atomically."""
    write_json(Path(ckpt) / "state.json", {"epoch": int(epoch), "seconds": float(seconds)})


def write_best(ckpt: str | os.PathLike, *, best_val: float, best_epoch: int) -> None:
    """Write ``checkpoint/best.json``, the score of the best weights, atomically."""
    write_json(Path(ckpt) / "best.json", {"best_val": float(best_val), "best_epoch": int(best_epoch)})


def write_best_weights(ckpt: str | os.PathLike, weights: Sequence[np.ndarray], optimizer: Sequence[np.ndarray]) -> None:
    """Write ``checkpoint/best.weights.npz``: the model's variables (``w/<i>``, Keras ``get_weights`` order)
    and the optimizer's (``opt/<i>``, ``optimizer.variables`` order), atomically.

    Plain NumPy, not HDF5: on a full disk the write fails with an OSError naming the file instead of
    crashing the HDF5 library.
    """
    arrays = {f"w/{i}": np.asarray(a) for i, a in enumerate(weights)}
    arrays.update({f"opt/{i}": np.asarray(a) for i, a in enumerate(optimizer)})
    with atomic_path(Path(ckpt) / BEST_WEIGHTS, force=True) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def read_best_weights(ckpt: str | os.PathLike) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The model's and the optimizer's variables of ``checkpoint/best.weights.npz``.

    Raises
    ------
    ModelError
        If the file is missing, damaged, or holds non-finite values.
    """
    path = Path(ckpt) / BEST_WEIGHTS
    if not path.is_file():
        raise ModelError(f"{path}: no such file; the checkpoint is incomplete, train again without --resume")
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not a .npz archive (damaged); train again without --resume")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, pickle.UnpicklingError, AttributeError) as exc:
        raise ModelError(f"{path}: cannot be read ({type(exc).__name__}: {str(exc)[:120]}); "
                         "train again without --resume") from exc
    out: dict[str, list[np.ndarray]] = {"w": [], "opt": []}
    for part in out:
        i = 0
        while f"{part}/{i}" in arrays:
            a = arrays.pop(f"{part}/{i}")
            if a.dtype.kind not in "fiu" or not np.isfinite(a).all():
                raise ModelError(f"{path}: {part}/{i} holds values that are not finite numbers; train again without --resume")
            out[part].append(a)
            i += 1
    if arrays or not out["w"]:
        raise ModelError(f"{path}: not a manne checkpoint ({'unknown array ' + sorted(arrays)[0] if arrays else 'no weights'})")
    return out["w"], out["opt"]
