"""Keras callbacks for :func:`manne.model.train.train`.

Keras's own do the schedule and the early stop: :class:`keras.callbacks.ReduceLROnPlateau` (the
``plateau`` schedule) and :class:`keras.callbacks.EarlyStopping` (``patience``), each told where a
resumed run stood. Two small callbacks do what Keras lacks:

* :class:`HistoryLog`, Keras's ``CSVLogger`` written atomically: ``checkpoint/history.csv`` is
  rewritten whole after each epoch (with the epoch's seconds and frames), so a kill never leaves
  half a row, and ``--resume`` reads it back;
* :class:`Monitor`: the best weights (``checkpoint/best.weights.h5`` and ``best.json``, renamed
  into place on each improvement), the ``target_mse`` and ``max_minutes`` stops, the resume
  checkpoint (``last.keras`` and ``state.json``, every 30 s and when training stops) and the
  progress bar (only on a terminal).

Callbacks run in list order (:func:`callbacks`): the schedule first, so the history row holds the
rate the epoch ran at and the checkpoint holds the rate the next epoch starts with.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from manne.io.files import atomic_path
from manne.model import modeldir
from manne.model.config import TrainConfig
from manne.model.network import keras

__all__ = ["PlateauLR", "EarlyStop", "HistoryLog", "Monitor", "callbacks"]

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
    progress : show a progress bar (on a terminal only)

    Attributes
    ----------
    stopped : None, ``"target_mse"`` or ``"max_minutes"``: why this callback stopped training
    """

    def __init__(self, ckpt: Path, cfg: TrainConfig, history: HistoryLog, *, monitor: str,
                 best_val: float | None = None, best_epoch: int | None = None, progress: bool = True):
        super().__init__()
        self.ckpt, self.cfg, self.history, self.monitor = Path(ckpt), cfg, history, monitor
        self.best_val, self.best_epoch = best_val, best_epoch
        self.stopped: str | None = None
        self.bar = None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(total=cfg.epochs, initial=len(history.rows), unit="epoch", desc="training",
                            dynamic_ncols=True, disable=None)
        self._saved_at, self._unsaved = time.perf_counter(), False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        value = float(logs.get(self.monitor, logs.get("loss", np.nan)))
        if self.best_val is None or value < self.best_val:
            self.best_val, self.best_epoch = value, epoch + 1
            with atomic_path(self.ckpt / "best.weights.h5", force=True) as tmp:
                self.model.save_weights(tmp)
            # the score goes with the weights, so a resume after a hard kill never replaces them with worse ones
            modeldir.write_best(self.ckpt, best_val=value, best_epoch=epoch + 1)
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
            self.bar.update(1)
            self.bar.set_postfix_str(f"mse {row.get('mse', np.nan):.2e} val {row.get('val_mse', np.nan):.2e} "
                                     f"best {self.best_val:.2e}@{self.best_epoch} lr {row.get('lr', np.nan):.1e}")

    def save_checkpoint(self) -> None:
        """The model with its optimizer state, then the state that names its epoch (for ``--resume``)."""
        with atomic_path(self.ckpt / "last.keras", force=True) as tmp:
            self.model.save(tmp)
        modeldir.write_state(self.ckpt, epoch=len(self.history.rows), seconds=self.history.seconds)
        self._saved_at, self._unsaved = time.perf_counter(), False

    def close(self) -> None:
        """Save the resume checkpoint (if an epoch ended since the last one) and close the progress bar."""
        if self.model is not None and self._unsaved:
            self.save_checkpoint()
        if self.bar is not None:
            self.bar.close()


def callbacks(cfg: TrainConfig, *, monitor: str, epoch: int, best_val: float | None,
              best_epoch: int | None) -> list[keras.callbacks.Callback]:
    """Keras's schedule and early stop for ``cfg``, started where a run at ``epoch`` epochs stood.

    ``plateau`` halves the rate after ``cfg.plateau_patience`` epochs without improvement (floor
    ``cfg.min_lr``); ``patience`` epochs without improvement stop training (``patience=0``: never).
    Any decrease counts as an improvement (``min_delta=0``: MSEs are about 1e-4).
    """
    since = 0 if best_epoch is None else max(0, epoch - best_epoch)
    out: list[keras.callbacks.Callback] = []
    if cfg.schedule == "plateau":
        p = cfg.plateau_patience
        out.append(PlateauLR(monitor=monitor, mode="min", factor=0.5, patience=p, min_lr=cfg.min_lr, min_delta=0.0,
                             best=best_val, wait=since % p))
    if cfg.patience:
        out.append(EarlyStop(monitor=monitor, mode="min", patience=cfg.patience, min_delta=0.0, best=best_val, wait=since))
    return out
