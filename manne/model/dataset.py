"""Training batches gathered from a corpus: the autoencoder's inputs for a set of frames.

The inputs are named as :func:`manne.model.network.input_names` lists them and each is made by one
function of :data:`INPUTS` from the frames' rows of the corpus: ``S`` (frames), ``note`` (one-hot
pitch class) when the model uses it, ``diff`` (first-order difference with the previous frame of
the same clip) for ``augment="diff"``, ``register`` (``(pitch - 60) / 24``) for a register-aware
model. ``S`` and the target are the frames as the model sees them, ``S ** cfg.power``
(:func:`to_model`). A new input is one more entry there.

:func:`training_data` is a :class:`tf.data.Dataset` that feeds ``model.fit`` at the speed of a
bare fit on in-memory arrays without a second copy of the corpus: only the frame *indices* live in
TensorFlow (shuffled again each epoch, from a seed), and each batch's rows are gathered from
``corpus.S`` (in memory or memory-mapped from the corpus file, see
:func:`manne.corpus.fileformat.load_corpus`) by one NumPy call in tf.data's own thread, sorted so
that a memory-mapped corpus is read in file order, while the previous batch trains. Memory held is
a few batches, whatever the corpus's size.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from manne import dsp
from manne.corpus import Corpus
from manne.model.condition import compress, register
from manne.model.config import ModelConfig

__all__ = ["INPUTS", "model_inputs", "training_data", "to_model", "PREFETCH"]

PREFETCH = 2  # batches gathered ahead of the one training


def to_model(S: np.ndarray, cfg: ModelConfig) -> np.ndarray:
    """Frames as the model sees them and learns them: ``S ** cfg.power``, float32."""
    return compress(S, cfg.power)


def _S(corpus: Corpus, sel: np.ndarray, cfg: ModelConfig) -> np.ndarray:
    return to_model(corpus.S[sel], cfg)


def _note(corpus: Corpus, sel: np.ndarray, cfg: ModelConfig) -> np.ndarray:
    return dsp.one_hot(corpus.note[sel])


def _diff(corpus: Corpus, sel: np.ndarray, cfg: ModelConfig) -> np.ndarray:
    # the previous frame of the same clip, not the previous row of the batch (zero at a clip's start)
    prev = np.maximum(sel - 1, 0)
    D = to_model(corpus.S[sel], cfg) - to_model(corpus.S[prev], cfg)
    D[(corpus.clip[prev] != corpus.clip[sel]) | (sel == 0)] = 0.0
    return D


def _register(corpus: Corpus, sel: np.ndarray, cfg: ModelConfig) -> np.ndarray:
    return register(corpus.pitch[sel])[:, None]


# input name -> its rows for sorted frame indices ``sel``: (corpus, sel, cfg) -> (len(sel), width) float32
INPUTS: dict[str, Callable[[Corpus, np.ndarray, ModelConfig], np.ndarray]] = {
    "S": _S, "note": _note, "register": _register, "diff": _diff}


def _names(cfg: ModelConfig) -> list[str]:
    from manne.model.network import input_names

    return input_names(cfg)


def _widths(corpus: Corpus, cfg: ModelConfig, names: list[str]) -> list[int]:
    probe = np.zeros(1, dtype=np.int64)
    return [int(INPUTS[n](corpus, probe, cfg).shape[1]) for n in names]


def model_inputs(corpus: Corpus, cfg: ModelConfig, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Arrays the autoencoder takes for frames ``idx`` (sorted), each shape ``(len(idx), width)``."""
    idx = np.asarray(idx, dtype=np.int64)
    return {n: INPUTS[n](corpus, idx, cfg) for n in _names(cfg)}


def training_data(corpus: Corpus, cfg: ModelConfig, idx: np.ndarray, *, batch: int, shuffle: bool, seed: int):
    """A :class:`tf.data.Dataset` of ``(inputs, target)`` batches of frames ``idx``, for ``model.fit``.

    Parameters
    ----------
    corpus : the frames (``corpus.S`` in memory or memory-mapped)
    cfg : the model, whose :func:`~manne.model.network.input_names` the inputs follow
    idx : frame indices, shape (n,)
    batch : frames per batch (the last one may be smaller)
    shuffle : draw a new order of the frames each epoch (from ``seed``: the same run, the same orders)
    seed : seed of the orders

    Returns
    -------
    dataset : yields ``({name: (b, width) float32}, (b, n_bins) float32)``; one pass is one epoch
    """
    import tensorflow as tf

    names = _names(cfg)
    widths = _widths(corpus, cfg, names)

    def gather(sel: np.ndarray):
        sel = np.sort(sel)  # file order: a memory-mapped corpus is read forwards
        x = [INPUTS[n](corpus, sel, cfg) for n in names]
        return (*x, x[0])  # the target is S

    def rows(sel):
        out = tf.numpy_function(gather, [sel], [tf.float32] * (len(names) + 1), stateful=False)
        for t, w in zip(out, [*widths, widths[0]]):
            t.set_shape((None, w))
        return dict(zip(names, out[:-1])), out[-1]

    ds = tf.data.Dataset.from_tensor_slices(np.asarray(idx, dtype=np.int64))
    if shuffle:
        ds = ds.shuffle(len(idx), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch).map(rows, num_parallel_calls=1, deterministic=True).prefetch(PREFETCH)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)
