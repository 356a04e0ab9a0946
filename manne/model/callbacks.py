"""Keras callbacks for :func:`manne.model.train.train`.

Keras's own do the schedule and the early stop: :class:`keras.callbacks.ReduceLROnPlateau` (the
``plateau`` schedule) and :class:`keras.callbacks.EarlyStopping` (``patience``), each told where a
resumed run stood. Two small callbacks do what Keras lacks:

* :class:`HistoryLog`, Keras's ``CSVLogger`` written atomically: ``checkpoint/history.csv`` is
  rewritten whole after each epoch (with the epoch's seconds and frames), so a kill never leaves
  half a row, and ``--resume`` reads it back;
* :class:`Monitor`: the best weights with the optimizer's state (``checkpoint/best.weights.npz``
  and ``best.json``, renamed into place on each improvement: a point ``--resume`` continues from),
  the ``target_mse``, ``max_minutes`` and divergence (a NaN or Inf score) stops, the latest epoch's
  checkpoint (``last.keras`` and ``state.json``, every 30 s and when training stops) and the
  progress bar (only on a terminal).

Callbacks run in list order (:func:`callbacks`): the schedule first, so the history row holds the
rate the epoch ran at and the checkpoint holds the rate the next epoch starts with.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from manne.io.files import atomic_path, check_room
from manne.model import checkpoint, modeldir
from manne.model.config import TrainConfig
from manne.model.network import keras

__all__ = ["PlateauLR", "EarlyStop", "HistoryLog", "Monitor", "callbacks", "save_keras"]

SAVE_EVERY = 30.0  # seconds between resume checkpoints; also saved when training stops and on Ctrl-C


class _Resumed:
    """Start a monitoring callback where a resumed run stood (Keras resets ``best`` and ``wait``
    in ``on_train_begin``)."""

    def __init__(self, *args, best: float | None = None, wait: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self._resumed = (best, wait)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.best, self.wait = self._resumed


class PlateauLR(_Resumed, keras.callbacks.ReduceLROnPlateau):
    """:class:`keras.callbacks.ReduceLROnPlateau` that can start from a resumed run's best and wait."""


class EarlyStop(_Resumed, keras.callbacks.EarlyStopping):
    """:class:`keras.callbacks.EarlyStopping` that can start from a resumed run's best and wait."""


class HistoryLog(keras.callbacks.Callback):
    """One row per epoch (:data:`manne.model.modeldir.HISTORY_COLUMNS`), the file rewritten atomically.

    Parameters
    ----------
    path : the ``history.csv`` to write
    rows : the rows of the epochs already done (a resumed run's); appended to in place
    frames : training frames per epoch
    seconds : training seconds already spent
    """

    def __init__(self, path: Path, rows: list[dict], *, frames: int, seconds: float = 0.0):
        super().__init__()
        self.path, self.rows, self.frames, self.seconds = Path(path), rows, int(frames), float(seconds)
        self._t0 = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        dt = time.perf_counter() - self._t0
        self.seconds += dt
        lr = logs.get("learning_rate")  # set by ReduceLROnPlateau before it cuts the rate
        if lr is None:
            lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.rows.append({"epoch": epoch + 1, "loss": float(logs.get("loss", np.nan)), "mse": float(logs.get("mse", np.nan)),
                          "val_mse": float(logs.get("val_mse", np.nan)), "lr": float(lr), "seconds": round(dt, 3),
                          "frames": self.frames})
        modeldir.write_history(self.path, self.rows)


class Monitor(keras.callbacks.Callback):
    """Best weights, the target and time-budget stops, the resume checkpoint and the progress bar.

    Parameters
    ----------
    ckpt : the ``checkpoint/`` folder
    cfg : the training settings (``epochs``, ``target_mse``, ``max_minutes``)
    history : the run's :class:`HistoryLog` (epochs done and seconds spent)
    monitor : the log value that scores an epoch (``"val_mse"``, or ``"mse"`` without validation frames)
    best_val, best_epoch : a resumed run's best score and its epoch (None for a new run)
    progress : show a progress bar (on a terminal only): epochs done of the epochs planned, with the
        estimated time left
    plan : the :class:`~manne.model.schedule.CosinePlan` whose planned epochs the bar counts to (None:
        ``cfg.epochs``)

    Attributes
    ----------
    stopped : None, ``"target_mse"``, ``"max_minutes"`` or ``"diverged"``: why this callback stopped training
    diverged_at : the epoch whose score or weights were NaN or Inf (None if none was)
    """

    def __init__(self, ckpt: Path, cfg: TrainConfig, history: HistoryLog, *, monitor: str,
                 best_val: float | None = None, best_epoch: int | None = None, progress: bool = True, plan=None):
        super().__init__()
        self.plan = plan
        self.ckpt, self.cfg, self.history, self.monitor = Path(ckpt), cfg, history, monitor
        self.best_val, self.best_epoch = best_val, best_epoch
        self.stopped: str | None = None
        self.diverged_at: int | None = None
        self.bar = None
        if progress:
            from tqdm import tqdm

            # tqdm's remaining time: the epochs still planned at the pace of this run's epochs
            self.bar = tqdm(total=plan.planned if plan is not None else cfg.epochs, initial=len(history.rows),
                            unit="epoch", desc="training", dynamic_ncols=True, disable=None,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} epochs [{elapsed}<{remaining} left]{postfix}")
        self._saved_at, self._unsaved = time.perf_counter(), False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        value = float(logs.get(self.monitor, logs.get("loss", np.nan)))
        weights = self.model.get_weights()
        improved = math.isfinite(value) and (self.best_val is None or value < self.best_val)
        optimizer = [keras.ops.convert_to_numpy(v) for v in self.model.optimizer.variables] if improved else []
        if not (math.isfinite(value) and _finite(weights) and _finite(optimizer)):
            # diverged: these weights are worth nothing (nor a checkpoint of them)
            self.stopped, self.diverged_at = "diverged", epoch + 1
            self.model.stop_training = True
            self._unsaved = False
            return
        if improved:
            self.save_best(value, epoch + 1, weights, optimizer)
        if self.cfg.target_mse and value <= self.cfg.target_mse:
            self.stopped = "target_mse"
        elif self.cfg.max_minutes and self.history.seconds >= 60 * self.cfg.max_minutes:
            self.stopped = "max_minutes"
        if self.stopped:
            self.model.stop_training = True
        self._unsaved = True
        if time.perf_counter() - self._saved_at >= SAVE_EVERY:
            self.save_checkpoint()
        if self.bar is not None:
            row = self.history.rows[-1] if self.history.rows else {}
            if self.plan is not None:
                self.bar.total = self.plan.planned
            self.bar.update(1)
            self.bar.set_postfix_str(f"mse {row.get('mse', np.nan):.2e} val {row.get('val_mse', np.nan):.2e} "
                                     f"best {self.best_val:.2e}@{self.best_epoch} lr {row.get('lr', np.nan):.1e}")

    def save_best(self, value: float, epoch: int, weights: list[np.ndarray], optimizer: list[np.ndarray]) -> None:
        """The best weights (the model's ``get_weights()``) with the optimizer's state (its ``variables``),
        then their score: together a point to resume from, so a run killed at any time after its first
        epoch can be continued (and never replaces them with worse ones)."""
        checkpoint.write_best_weights(self.ckpt, weights, optimizer)
        checkpoint.write_best(self.ckpt, best_val=value, best_epoch=epoch)
        self.best_val, self.best_epoch = value, epoch  # only once both are written

    def save_checkpoint(self) -> None:
        """The model with its optimizer state, then the state that names its epoch (for ``--resume``)."""
        save_keras(self.model, self.ckpt / "last.keras")
        checkpoint.write_state(self.ckpt, epoch=len(self.history.rows), seconds=self.history.seconds)
        self._saved_at, self._unsaved = time.perf_counter(), False

    def close(self) -> None:
        """Save the resume checkpoint (if an epoch ended since the last one) and close the progress bar."""
        if self.model is not None and self._unsaved:
            self.save_checkpoint()
        if self.bar is not None:
            self.bar.close()


def save_keras(model, path: Path) -> None:
    """Write ``model`` (with its optimizer's state) as a ``.keras`` file, atomically.

    Keras keeps the file's HDF5 weights in memory while they fit in half the free memory (manne's
    models always do), so a full disk is an OSError from Python's zip writer; a disk or file-size
    limit that cannot take the whole file is refused before Keras writes anything (HDF5 writing to a
    full disk can crash the interpreter).
    """
    variables = [*model.variables, *(model.optimizer.variables if model.optimizer is not None else [])]
    check_room(path, sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables))
    with atomic_path(path, force=True) as tmp:
        model.save(tmp)


def _finite(arrays: list[np.ndarray]) -> bool:
    return all(np.isfinite(a).all() for a in arrays)


def callbacks(cfg: TrainConfig, *, monitor: str, epoch: int, best_val: float | None,
              best_epoch: int | None, steps_per_epoch: int = 1, seconds: float = 0.0) -> list[keras.callbacks.Callback]:
    """The schedule and early stop for ``cfg``, started where a run at ``epoch`` epochs (and ``seconds``
    of training) stood.

    ``cosine`` is :class:`manne.model.schedule.CosinePlan` (``steps_per_epoch`` batches an epoch);
    ``plateau`` halves the rate after ``cfg.plateau_patience`` epochs without improvement (floor
    ``cfg.min_lr``); ``patience`` epochs without improvement stop training (``patience=0``: never).
    Any decrease counts as an improvement (``min_delta=0``: MSEs are about 1e-4).
    """
    since = 0 if best_epoch is None else max(0, epoch - best_epoch)
    out: list[keras.callbacks.Callback] = []
    if cfg.schedule == "cosine":
        from manne.model.schedule import CosinePlan

        out.append(CosinePlan(cfg, steps_per_epoch=steps_per_epoch, monitor=monitor, epoch=epoch, seconds=seconds))
    if cfg.schedule == "plateau":
        p = cfg.plateau_patience
        out.append(PlateauLR(monitor=monitor, mode="min", factor=0.5, patience=p, min_lr=cfg.min_lr, min_delta=0.0,
                             best=best_val, wait=since % p))
    if cfg.patience:
        out.append(EarlyStop(monitor=monitor, mode="min", patience=cfg.patience, min_delta=0.0, best=best_val, wait=since))
    return out
