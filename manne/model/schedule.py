"""The default learning-rate schedule: a short warm-up, then a cosine decay over a plan that adapts.

The plan is ``cfg.epochs`` epochs: the rate rises linearly from near 0 to ``cfg.lr`` over the first
``cfg.warmup`` of its steps, then falls along a half cosine to ``cfg.min_lr`` at the plan's end,
where training stops. Two things change the plan while training runs:

* a time budget (``cfg.minutes``): after each epoch the plan's end moves to the last epoch that
  fits in the budget at the pace measured so far, so the decay ends when the budget does (the plan
  is sized for the machine, not cut off: a cut-off would stop at a high rate);
* convergence (``cfg.min_gain``): when the best validation score improved by less than
  ``cfg.min_gain`` percent a minute over the last :data:`WINDOW_S` seconds (and at least
  :data:`WINDOW_EPOCHS` epochs), the schedule anneals: the rate falls from where it is to
  ``cfg.min_lr`` over a fifth as many epochs as have run (at least :data:`ANNEAL_EPOCHS`, never
  past the plan's end), and training stops there.

The rate is set before every batch (a Python float assigned to the optimizer's variable), so the
warm-up is smooth even when the plan is a few epochs long.
"""

from __future__ import annotations

import math
import time

from manne.model.config import TrainConfig
from manne.model.network import keras

__all__ = ["CosinePlan", "WINDOW_S", "WINDOW_EPOCHS", "ANNEAL_EPOCHS"]

WINDOW_S = 30.0  # the convergence test looks back at least this long ...
WINDOW_EPOCHS = 4  # ... and at least this many epochs
ANNEAL_EPOCHS = 2  # the shortest final decay
FIRST_PLAN = 60  # epochs a time budget's warm-up assumes until the first epoch has been timed


class CosinePlan(keras.callbacks.Callback):
    """Warm-up and cosine decay over a plan that follows a time budget and shortens on convergence.

    Parameters
    ----------
    cfg : ``epochs`` (the plan), ``lr`` (peak), ``min_lr`` (end), ``warmup`` (fraction of the plan),
        ``minutes`` (budget, 0: none), ``min_gain`` (percent a minute, 0: never anneal early)
    steps_per_epoch : batches per epoch
    monitor : the log value that scores an epoch
    epoch, seconds : epochs done and training seconds spent (a resumed run's)

    Attributes
    ----------
    planned : the epoch at which the plan ends (changes with the budget and on convergence)
    stopped : None, ``"minutes"`` (the budget's plan ended), ``"converged"`` (the annealing after
        convergence ended) or ``"epochs"`` (the plan ended)
    """

    def __init__(self, cfg: TrainConfig, *, steps_per_epoch: int, monitor: str, epoch: int = 0, seconds: float = 0.0):
        super().__init__()
        self.cfg, self.spe, self.monitor = cfg, max(1, int(steps_per_epoch)), monitor
        self.epoch, self.seconds = int(epoch), float(seconds)
        # a budget's plan is not known before the first epoch's pace: warm up as a plan of FIRST_PLAN would
        first = min(cfg.epochs, FIRST_PLAN) if cfg.minutes else cfg.epochs
        self.warmup = max(1, round(cfg.warmup * first * self.spe)) if cfg.warmup > 0 else 0
        self.start, self.lr0, self.end = self.warmup, float(cfg.lr), cfg.epochs * self.spe  # the cosine segment
        self.annealing = False
        self._converged_at: int | None = None
        self._budgeted = False
        self.stopped: str | None = None
        self._best: list[tuple[float, int, float]] = []  # (seconds, epoch, best score) after each epoch
        self._paces: list[float] = []
        self._t0 = 0.0

    @property
    def planned(self) -> int:
        return math.ceil(self.end / self.spe)

    def rate(self, step: int) -> float:
        """The learning rate of optimizer step ``step`` (0-based, counted from the run's start)."""
        lo = self.cfg.min_lr
        if step < self.warmup and not self.annealing:
            return self.lr0 * (step + 1) / self.warmup
        p = min(max((step - self.start) / max(1, self.end - self.start), 0.0), 1.0)
        return lo + (self.lr0 - lo) * 0.5 * (1.0 + math.cos(math.pi * p))

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self._t0 = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(self.rate(self.epoch * self.spe + batch))

    def on_epoch_end(self, epoch, logs=None):
        dt = time.perf_counter() - self._t0
        self.seconds += dt
        done = epoch + 1
        self._paces.append(dt)
        value = float((logs or {}).get(self.monitor, math.nan))
        best = min([b for _, _, b in self._best[-1:]] + ([value] if math.isfinite(value) else []), default=math.nan)
        self._best.append((self.seconds, done, best))
        if self.cfg.minutes and not self.annealing:
            self._fit_budget(done)
        if self.cfg.min_gain and not self.annealing and self._converged(done):
            self._converged_at = done
            self._anneal(done)
        if done >= self.planned:
            self.stopped = "converged" if self._converged_at else ("minutes" if self.cfg.minutes else "epochs")
            self.model.stop_training = True

    def _fit_budget(self, done: int) -> None:
        """Move the plan's end to the last epoch that fits in the budget at the pace so far (at most
        ``cfg.epochs``); the first time, make the warm-up that fraction of this plan."""
        paces = self._paces[1:] or self._paces  # the first epoch of a run also traces the model
        pace = sum(paces[-5:]) / len(paces[-5:])
        left = 60.0 * self.cfg.minutes - self.seconds
        end_epoch = min(self.cfg.epochs, done + int(left / pace) + (1 if left % pace > 0.5 * pace else 0))
        if not self._budgeted and self.cfg.warmup > 0:
            self.warmup = min(self.warmup, max(1, round(self.cfg.warmup * end_epoch * self.spe)))
            self.start = self.warmup
        self._budgeted = True
        self.end = max(end_epoch, done) * self.spe

    def _converged(self, done: int) -> bool:
        """Whether the best score improved by less than ``min_gain`` percent a minute over the window."""
        now, _, best = self._best[-1]
        if done * self.spe <= self.warmup or not math.isfinite(best):
            return False
        then = [(t, b) for t, e, b in self._best if now - t >= WINDOW_S and done - e >= WINDOW_EPOCHS]
        if not then:
            return False
        t, b = then[-1]
        gain = 100.0 * (b - best) / best / ((now - t) / 60.0)
        return gain < self.cfg.min_gain

    def _anneal(self, done: int, *, epochs: int | None = None) -> None:
        """Decay from the current rate to ``min_lr`` over ``epochs`` (default: a fifth of those done), then stop."""
        if epochs is None:
            epochs = max(ANNEAL_EPOCHS, math.ceil(0.2 * done))
        step = done * self.spe
        self.lr0 = self.rate(step)
        self.start, self.end = step, min(step + epochs * self.spe, max(self.end, step))
        self.annealing = True
