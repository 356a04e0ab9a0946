"""A model's training history: reading ``history.csv`` and drawing its error curves.

``manne train`` writes ``history.csv`` beside the weights, one row per epoch (``epoch``, ``loss``,
``mse``, ``val_mse``, ``lr``, ``seconds``, ``frames``); models from older versions have
``loss``/``val_loss`` instead. :func:`read_history` is the error boundary for that file: a damaged
one raises :class:`~manne.errors.ModelError` naming the file and the problem.
"""

from __future__ import annotations

import os
from typing import Mapping

import numpy as np

from manne.errors import ModelError
from manne.inspect.figures import new_figure
from manne.io.files import read_csv_rows

__all__ = ["read_history", "plot_training"]


def read_history(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Columns of a model directory's ``history.csv`` as float arrays (``epoch``, ``loss``, ``mse``, ``val_mse``, ...).

    Empty cells read as NaN.

    Returns
    -------
    columns : dict of column name to np.ndarray, shape (n_epochs,), float64

    Raises
    ------
    ModelError
        If the file is missing or not UTF-8 CSV text, its header lacks ``epoch`` or both ``loss``
        and ``mse`` (or repeats a column), or a row has another number of cells than the header
        or a cell that is not a number.
    """
    rows = read_csv_rows(path, error=ModelError, what="training history")
    if not rows:
        raise ModelError(f"{path}: the training history is empty (no header, no epochs)")
    header, body = rows[0], rows[1:]
    if "epoch" not in header or not ({"loss", "mse"} & set(header)):
        raise ModelError(f"{path}: not a training history: the header {','.join(header)!r} needs "
                         "epoch and loss or mse columns")
    if len(set(header)) != len(header):
        twice = sorted({k for k in header if header.count(k) > 1})
        raise ModelError(f"{path}: the training history names column {', '.join(twice)} twice")
    cols = {k: np.empty(len(body)) for k in header}
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise ModelError(f"{path}: epoch row {i + 1} has {len(row)} cells; the header has {len(header)}")
        for k, cell in zip(header, row):
            try:
                cols[k][i] = float(cell) if cell else np.nan
            except ValueError:
                raise ModelError(f"{path}: epoch row {i + 1}, column {k}: {cell[:40]!r} is not a number") from None
    return cols


def plot_training(history: Mapping[str, np.ndarray] | str | os.PathLike, *, ax=None, title: str | None = None) -> list:
    """Training and validation error per epoch on a log scale, the best validation epoch marked.

    Reads either history format: ``mse``/``val_mse`` (reconstruction error; ``loss`` then also holds
    the weight and KL penalties and is drawn dashed when it differs) or the older ``loss``/``val_loss``.

    Parameters
    ----------
    history : mapping of column name to array, shape (n_epochs,), with ``epoch`` and ``loss`` or
        ``mse``; or the path of a ``history.csv``

    Returns
    -------
    lines : list of Line2D, labelled "train", optionally "train loss (with penalties)", then
        "validation" and "best (epoch N)" when there is a validation column

    Raises
    ------
    ModelError
        If ``history`` is a path and :func:`read_history` cannot read it.
    """
    h = read_history(history) if isinstance(history, (str, os.PathLike)) else history
    if ax is None:
        ax = new_figure(None, (6.4, 4.2)).subplots()
    epoch = np.asarray(h["epoch"])
    nan = np.full(len(epoch), np.nan)
    style = dict(marker="o", ms=3) if len(epoch) < 30 else {}
    train = np.asarray(h["mse"] if "mse" in h else h["loss"], dtype=float)
    val = np.asarray(h["val_mse"] if "val_mse" in h else h.get("val_loss", nan), dtype=float)
    lines = ax.plot(epoch, train, "-", color="0.2", label="train", **style)
    if "mse" in h and "loss" in h:
        loss = np.asarray(h["loss"], dtype=float)
        if np.isfinite(loss).any() and not np.allclose(loss, train, rtol=1e-3, equal_nan=True):
            lines += ax.plot(epoch, loss, "--", color="0.55", lw=0.9, label="train loss (with penalties)")
    if np.isfinite(val).any():
        lines += ax.plot(epoch, val, "-", color="tab:orange", label="validation", **style)
        best = int(np.nanargmin(val))
        lines += ax.plot(epoch[best], val[best], "o", ms=8, mfc="none", color="tab:red", label=f"best (epoch {int(epoch[best])})")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title(title or "training")
    return lines
