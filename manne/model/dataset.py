"""Training batches gathered from a corpus: the autoencoder's inputs for a set of frames.

The inputs are named as :func:`manne.model.network.input_names` lists them: ``S`` (frames),
``note`` (one-hot pitch class) when the model uses it, ``diff`` (first-order difference within a
clip) for ``augment="diff"``; the target is ``S``.
"""

from __future__ import annotations

import math

import numpy as np

from manne import dsp
from manne.corpus import Corpus
from manne.model.condition import register
from manne.model.config import ModelConfig

__all__ = ["model_inputs", "batches", "to_model"]


def to_model(S: np.ndarray, cfg: ModelConfig) -> np.ndarray:
    """Frames as the model sees them and learns them: ``S ** cfg.power``, float32."""
    S = np.asarray(S, dtype=np.float32)
    return np.power(S, cfg.power, dtype=np.float32) if cfg.power != 1.0 else S


def model_inputs(corpus: Corpus, cfg: ModelConfig, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Arrays the autoencoder takes for frames ``idx`` (sorted), each shape ``(len(idx), ...)``;
    ``S`` (also the target) is :func:`to_model` of the frames."""
    S = to_model(corpus.S[idx], cfg)
    x = {"S": S}
    if cfg.uses_note:
        x["note"] = dsp.one_hot(corpus.note[idx])
    if cfg.uses_register:
        x["register"] = register(corpus.pitch[idx])[:, None]
    if cfg.augment == "diff":
        x["diff"] = dsp.first_order_difference(S, corpus.clip[idx])
    return x


def batches(corpus: Corpus, cfg: ModelConfig, idx: np.ndarray, batch: int, *, shuffle: bool, seed: int):
    """A :class:`keras.utils.PyDataset` of ``(inputs, S)`` batches of frames ``idx``.

    Batches are gathered from the corpus on the fly, so no second copy of the frames is made; with
    ``shuffle`` the order is drawn again (from ``seed``) before the first epoch and after each.
    """
    import keras

    class Frames(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.order = np.sort(idx)
            if shuffle:
                self.on_epoch_end()

        def __len__(self):
            return math.ceil(len(self.order) / batch)

        def __getitem__(self, i):
            sel = np.sort(self.order[i * batch : (i + 1) * batch])
            x = model_inputs(corpus, cfg, sel)
            if cfg.augment == "diff":
                # the difference needs the previous frame of the same clip, not the previous batch row
                prev = np.maximum(sel - 1, 0)
                D = x["S"] - to_model(corpus.S[prev], cfg)
                D[(corpus.clip[prev] != corpus.clip[sel]) | (sel == 0)] = 0.0
                x["diff"] = D
            return x, x["S"]

        def on_epoch_end(self):
            if shuffle:
                self.order = self.rng.permutation(self.order)

    return Frames()
