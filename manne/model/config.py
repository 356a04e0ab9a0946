"""Model and training configuration: frozen dataclasses saved as JSON beside the weights."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from manne.errors import ParameterError

BOTTLENECKS = ("sigmoid", "lrelu")
OUTPUTS = ("linear", "relu")
AUGMENTS = ("chroma", "diff", "none")
SCHEDULES = ("cosine", "plateau", "constant")


# The limits a model's sizes have, whether given on the command line or read from a config.json
LATENT_MAX = 256  # bottleneck neurons (the paper's models have 2 to 8)
MAX_WIDTH_MAX = 8192  # widest hidden layer (default 1024)
N_BINS_MAX = 32769  # an n_fft of 65536
SEED_MAX = 2**32 - 1  # NumPy's and Keras's seeds


LATENT_RANGE_DEFAULT = (0.0, 1.0)  # each latent neuron's slider range when a model stores none (a sigmoid's)


def default_latent_range(latent: int) -> list[list[float]]:
    """The slider range of a model that stores none: :data:`LATENT_RANGE_DEFAULT` for each neuron; shape (2, latent)."""
    lo, hi = LATENT_RANGE_DEFAULT
    return [[lo] * int(latent), [hi] * int(latent)]


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the autoencoder.

    The hidden widths halve from ``max_width`` and stop above the bottleneck: with the default
    ``max_width=1024`` the encoder is 1024-512-256-128-64-32-16 then 8 for ``latent=8``, and
    1024-512-256-128-64-32-16-8-4 then 2 or 3 for ``latent=2`` or ``3``. The decoder mirrors it.

    Beyond the paper (:data:`PAPER` sets them back): the model sees and learns ``S ** power``
    (0.25: a partial 40 dB down is 0.32 of the strongest in what the loss sees, not 0.01), ends in a
    ``linear`` output (a ReLU's zero has no gradient, so what the loss once ignored stays silent),
    and with ``register`` takes the note's register ``(pitch - 60) / 24`` beside the pitch class, at
    the encoder and the decoder, so one code plays each octave with its own spectrum.
    """

    n_bins: int = 2049
    latent: int = 8
    bottleneck: str = "sigmoid"
    augment: str = "chroma"
    skip: bool = True
    vae: bool = False
    beta: float = 1.0
    max_width: int = 1024
    min_width: int = 0  # the narrowest hidden layer; 0: halve down to the bottleneck (the paper)
    l2: float = 1e-7
    alpha: float = 0.1  # LeakyReLU negative slope
    power: float = 0.25  # the model sees S ** power (1: the paper's linear magnitudes; 1/4 decodes by two squarings)
    register: bool = True  # the note's register (pitch - 60) / 24 is an input of encoder and decoder
    output: str = "linear"  # the decoder's output activation

    def __post_init__(self) -> None:
        _check_int("n_bins", self.n_bins, 1, N_BINS_MAX)
        _check_int("latent", self.latent, 1, LATENT_MAX)
        if self.bottleneck not in BOTTLENECKS:
            raise ParameterError(f"bottleneck={self.bottleneck!r} must be one of {', '.join(BOTTLENECKS)}")
        if self.augment not in AUGMENTS:
            raise ParameterError(f"augment={self.augment!r} must be one of {', '.join(AUGMENTS)}")
        _check_int("max_width", self.max_width, 2, MAX_WIDTH_MAX)
        if self.max_width <= self.latent:
            raise ParameterError(f"max_width={self.max_width} must be larger than latent={self.latent}")
        _check_int("min_width", self.min_width, 0, MAX_WIDTH_MAX)
        if self.min_width > self.max_width:
            raise ParameterError(f"min_width={self.min_width} must be at most max_width={self.max_width}")
        _check_number("beta", self.beta, 0.0, 1e6)
        _check_number("l2", self.l2, 0.0, 1.0)
        _check_number("alpha", self.alpha, 0.0, 1.0)
        _check_number("power", self.power, 0.05, 1.0)
        if self.output not in OUTPUTS:
            raise ParameterError(f"output={self.output!r} must be one of {', '.join(OUTPUTS)}")

    @property
    def hidden(self) -> list[int]:
        """Encoder hidden widths, widest first; the decoder uses them reversed."""
        widths, w = [], self.max_width
        while w > self.latent and w >= self.min_width:
            widths.append(w)
            w //= 2
        return widths

    @property
    def uses_note(self) -> bool:
        """Whether the model takes the note one-hot as an input (augmentation or skip)."""
        return self.augment == "chroma" or self.skip

    @property
    def uses_register(self) -> bool:
        """Whether the model takes the register as an input (with the note: augmentation or skip)."""
        return self.register and self.uses_note

    @property
    def n_note(self) -> int:
        """Width of the note conditioning: the 12-class one-hot, plus the register."""
        return 12 + (1 if self.uses_register else 0)

    @property
    def latent_activation(self) -> str:
        return "linear" if self.vae else self.bottleneck


# the paper's model (Colonel & Keene): linear magnitudes, ReLU output, no register; a config.json
# written before these fields existed means these values
PAPER = {"power": 1.0, "register": False, "output": "relu"}


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings.

    ``schedule="cosine"`` (the default, :mod:`manne.model.schedule`) plans ``epochs`` epochs, or as
    many as fit in ``minutes`` of training: a linear warm-up over the first ``warmup`` of the plan to
    ``lr``, then a cosine decay to ``min_lr`` at the plan's end; when validation MSE improves by less
    than ``min_gain`` percent a minute it anneals (over a fifth as many epochs as ran) and stops. ``"plateau"``
    halves the rate (down to ``min_lr``) when validation MSE stalls for :attr:`plateau_patience`
    epochs; ``"constant"`` keeps ``lr``. Training also stops after ``patience`` epochs without
    improvement (0 disables it), at ``target_mse`` on validation, or after ``max_minutes`` of
    training (a cut-off, whichever comes first).
    """

    # The paper trained 300 epochs at Adam 5e-4, batch 200, constant; manne 0.2 halved 2e-3 on
    # plateaus (300 epochs, 29 minutes for a 4,000-frame corpus). Measured on a 5,493-frame violin
    # corpus (`manne bench train`): its 300 epochs reach a best validation MSE of 1.018e-3; this plan
    # (40 epochs, batch 64, 1e-3) is within 10 % of it at epoch 27 and within 6 % at its end, where
    # batch 64 at 2e-3 ended 11 % above it, batch 256 at 2e-3 for 60 epochs 18 % above.
    # --lr 5e-4 --batch 200 --schedule constant --patience 0 --epochs 300 is the paper's schedule.
    epochs: int = 40
    batch: int = 64
    lr: float = 1e-3
    seed: int = 0
    schedule: str = "cosine"
    patience: int = 20
    min_lr: float = 1e-5
    target_mse: float = 0.0  # stop once validation MSE reaches this (0: never)
    max_minutes: float = 0.0  # stop after this much training time (0: no limit)
    warmup: float = 0.05  # fraction of the cosine plan spent rising to lr
    minutes: float = 0.0  # the cosine plan's budget: as many epochs as fit (0: plan `epochs`)
    min_gain: float = 0.5  # percent a minute: slower progress on validation anneals and stops (0: never)

    def __post_init__(self) -> None:
        _check_int("epochs", self.epochs, 1, 10**6)
        _check_int("batch", self.batch, 1, 10**7)
        _check_number("lr", self.lr, 0.0, 10.0)
        if self.lr == 0:
            raise ParameterError(f"lr={self.lr} must be positive")
        _check_int("seed", self.seed, 0, SEED_MAX)
        if self.schedule not in SCHEDULES:
            raise ParameterError(f"schedule={self.schedule!r} must be one of {', '.join(SCHEDULES)}")
        _check_int("patience", self.patience, 0, 10**6)
        _check_number("min_lr", self.min_lr, 0.0, math.inf)
        _check_number("target_mse", self.target_mse, 0.0, math.inf)
        _check_number("max_minutes", self.max_minutes, 0.0, math.inf)
        _check_number("warmup", self.warmup, 0.0, 0.5)
        _check_number("minutes", self.minutes, 0.0, 10**6)
        _check_number("min_gain", self.min_gain, 0.0, 1e4)

    @property
    def plateau_patience(self) -> int:
        """Epochs without improvement before the ``plateau`` schedule halves the rate: ``patience // 2``
        (5 when that is 0)."""
        return self.patience // 2 or 5


def _check_int(name: str, value, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"{name}={value!r} must be an integer")
    if value < lo:
        raise ParameterError(f"{name}={value} must be at least {lo}")
    if value > hi:
        raise ParameterError(f"{name}={value} must be at most {hi}")


def _check_number(name: str, value, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(f"{name}={value!r} must be a finite number")
    if value < lo:
        raise ParameterError(f"{name}={value} must be >= {lo:g}")
    if value > hi:
        raise ParameterError(f"{name}={value} must be at most {hi:g}")


def to_dict(cfg) -> dict:
    return asdict(cfg)


def from_dict(cls, d: dict):
    """Build ``cls`` from a dict (a JSON section), ignoring unknown keys (newer files) and using
    defaults for missing ones.

    Raises
    ------
    ParameterError
        If a value is not of its field's type (an int where an int is due, a number for a float, ...)
        or out of its range.
    """
    known = {f.name: f for f in fields(cls)}
    kwargs = {k: v for k, v in d.items() if k in known}
    for k, v in kwargs.items():
        due = type(known[k].default)
        ok = isinstance(v, due) and not (due is int and isinstance(v, bool))
        if due is float:
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        if not ok:
            raise ParameterError(f"{k}={v!r} must be {_TYPE_NAMES.get(due, due.__name__)}")
    return cls(**kwargs)


_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


__all__ = ["BOTTLENECKS", "OUTPUTS", "PAPER", "AUGMENTS", "SCHEDULES", "LATENT_MAX", "MAX_WIDTH_MAX", "N_BINS_MAX", "SEED_MAX", "ModelConfig", "TrainConfig", "to_dict", "from_dict", "replace"]
