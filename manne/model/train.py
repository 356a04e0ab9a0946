"""Training: a corpus in, a model directory out.

Nothing is ever half-saved: every file goes to a temporary name and is renamed into place (see
:mod:`manne.model.modeldir`). While training, ``checkpoint/`` holds the best weights so far (on
every improvement), the history (every epoch) and, every 30 s and when training stops, the model
with its optimizer state and the epoch it reached; ``--resume`` continues from there. The schedule,
the early stop and the other stops are the callbacks of :mod:`manne.model.callbacks`. Ctrl-C stops
after the current batch and writes the model directory from the best weights so far.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable

import numpy as np

from manne.corpus import Corpus
from manne.errors import ModelError, ParameterError
from manne.inspect.examples import Examples
from manne.io.files import atomic_path
from manne.model import modeldir
from manne.model.config import ModelConfig, TrainConfig, from_dict
from manne.model.dataset import batches, model_inputs
from manne.model.evaluate import evaluate, latent_range
from manne.model.forward import Autoencoder

__all__ = ["train", "model_inputs", "STOPS"]

# why training stopped, as metrics.json's "stopped" says it
STOPS = ("epochs", "patience", "target_mse", "max_minutes", "interrupted")

# what a damaged Keras file raises on loading
_KERAS_LOAD_ERRORS = (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError)


def train(
    corpus: Corpus,
    corpus_path: str,
    out: str | os.PathLike,
    *,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
    weights_dtype=np.float32,
) -> dict:
    """Train an autoencoder on ``corpus`` and write the model directory ``out``.

    Parameters
    ----------
    corpus : the frames; ``corpus_path`` is recorded in ``config.json``
    model_cfg, train_cfg : the settings (a resumed run keeps its own, except ``epochs``)
    resume : continue the run in ``out/checkpoint``
    force : replace an existing model directory
    progress : show a progress bar (on a terminal only)
    weights_dtype : ``np.float32`` or ``np.float16`` for ``weights.npz``

    Returns
    -------
    metrics : dict, as written to ``metrics.json``; ``interrupted`` is true after Ctrl-C, ``stopped``
        says why training ended (one of :data:`STOPS`)

    Raises
    ------
    OutputExistsError
        If ``out`` exists and may not be replaced (see :func:`manne.model.modeldir.check_output`).
    ModelError
        If the checkpoint to resume is missing, damaged, or from another corpus.
    KeyboardInterrupt
        If Ctrl-C comes before the first epoch ends (there is no model worth writing).
    """
    out = Path(out)
    modeldir.check_output(out, resume=resume, force=force)
    if model_cfg.n_bins != corpus.analysis.n_bins:
        model_cfg = replace(model_cfg, n_bins=corpus.analysis.n_bins)
    train_idx, val_idx = corpus.indices("train"), corpus.indices("val")
    if len(train_idx) == 0:
        raise ParameterError("the corpus has no training frames")
    ckpt = out / modeldir.CHECKPOINT
    state = {"epoch": 0, "seconds": 0.0, "best_val": None, "best_epoch": None}
    history: list[dict] = []
    if resume:
        saved, state, history = modeldir.read_checkpoint(out)
        if saved["corpus"].get("hash") != corpus.hash:
            raise ModelError(f"{out}: the checkpoint was trained on another corpus "
                             f"(hash {saved['corpus'].get('hash')}, this one {corpus.hash})")
        model_cfg = from_dict(ModelConfig, saved["model"])
        train_cfg = from_dict(TrainConfig, {**saved["training"], "epochs": train_cfg.epochs})
    elif out.exists() and force:
        modeldir.clear(out)
    ckpt.mkdir(parents=True, exist_ok=True)

    from manne.model import callbacks as cb  # loads Keras (quietly)
    from manne.model.network import build, keras

    keras.utils.set_random_seed(train_cfg.seed)
    if resume:
        autoencoder = _load_keras(ckpt / "last.keras", lambda path: keras.models.load_model(path))
    else:
        autoencoder, _, _ = build(model_cfg, seed=train_cfg.seed)
        autoencoder.compile(optimizer=keras.optimizers.Adam(train_cfg.lr), loss="mse", metrics=["mse"])
    info = _info(corpus, corpus_path, model_cfg, train_cfg)
    modeldir.write_config(ckpt / "config.json", info)

    monitor = "val_mse" if len(val_idx) else "mse"
    best = {"best_val": state["best_val"], "best_epoch": state["best_epoch"]}
    schedule = cb.callbacks(train_cfg, monitor=monitor, epoch=state["epoch"], **best)
    history_log = cb.HistoryLog(ckpt / "history.csv", history, frames=len(train_idx), seconds=state["seconds"])
    watch = cb.Monitor(ckpt, train_cfg, history_log, monitor=monitor, progress=progress, **best)
    interrupted = False
    try:
        if state["epoch"] < train_cfg.epochs:
            data = batches(corpus, model_cfg, train_idx, train_cfg.batch, shuffle=True, seed=train_cfg.seed + state["epoch"])
            val_data = batches(corpus, model_cfg, val_idx, 4096, shuffle=False, seed=0) if len(val_idx) else None
            autoencoder.fit(data, validation_data=val_data, epochs=train_cfg.epochs, initial_epoch=state["epoch"],
                            verbose=0, callbacks=[*schedule, history_log, watch])
    except KeyboardInterrupt:
        if watch.best_epoch is None:
            raise  # Ctrl-C before the first epoch ended: there is no model worth writing
        interrupted = True
        log(f"\ninterrupted at epoch {len(history) + 1}; saving the best model so far (epoch {watch.best_epoch})")
    finally:
        watch.set_model(autoencoder)
        watch.close()
    early = any(isinstance(c, cb.EarlyStop) and c.stopped_epoch for c in schedule)
    stopped = "interrupted" if interrupted else watch.stopped or ("patience" if early else "epochs")
    _load_keras(ckpt / "best.weights.h5", autoencoder.load_weights)
    info["training_seconds"] = history_log.seconds
    return _finish(autoencoder, corpus, out, info, history, model_cfg, weights_dtype,
                   {"best_epoch": watch.best_epoch, "interrupted": interrupted, "stopped": stopped})


def _load_keras(path: Path, load: Callable):
    """``load(path)``, a checkpoint file; ModelError naming it if it is missing or damaged."""
    if not path.is_file():
        raise ModelError(f"{path}: no such file; the checkpoint is incomplete, train again without --resume")
    try:
        return load(path)
    except _KERAS_LOAD_ERRORS as exc:
        # (Keras's own words can mislead: a damaged .keras file is "File not found")
        raise ModelError(f"{path}: damaged, Keras cannot load it ({type(exc).__name__}); "
                         "train again without --resume") from exc


def _info(corpus: Corpus, corpus_path: str, model_cfg: ModelConfig, train_cfg: TrainConfig) -> dict:
    """The ``config.json`` of a model trained on ``corpus``."""
    return {
        "format_version": modeldir.FORMAT_VERSION,
        "analysis": corpus.analysis.to_dict(),
        "model": asdict(model_cfg),
        "training": asdict(train_cfg),
        "widths": {"encoder": model_cfg.hidden + [model_cfg.latent], "decoder": list(reversed(model_cfg.hidden)) + [model_cfg.n_bins]},
        "corpus": {
            "path": str(corpus_path),
            "hash": corpus.hash,
            "n_frames": {s: int(len(corpus.indices(s))) for s in ("train", "val", "test")},
            "notes_present": corpus.notes_present("train"),
        },
    }


def _finish(autoencoder, corpus: Corpus, out: Path, info: dict, history: list[dict], model_cfg: ModelConfig,
            weights_dtype, stop: dict) -> dict:
    """Write the model directory from the (best) Keras model; returns the metrics."""
    from manne.model.network import dense_weights

    n = len(model_cfg.hidden) + 1
    encoder = dense_weights(autoencoder, "enc", n)
    decoder = dense_weights(autoencoder.get_layer("decoder"), "dec", n)
    # measured as stored: float16 weights are rounded before the latent range and the metrics
    stored = [[(W.astype(weights_dtype).astype(np.float32), b.astype(weights_dtype).astype(np.float32)) for W, b in part]
              for part in (encoder, decoder)]
    ae = Autoencoder.from_layers(model_cfg, corpus.analysis, *stored, info)
    info["latent_range"] = latent_range(ae, corpus, corpus.indices("train"))
    ae.latent_range = np.asarray(info["latent_range"], dtype=np.float32)
    modeldir.write_weights(out / "weights.npz", encoder, decoder, dtype=weights_dtype)
    modeldir.write_config(out / "config.json", info)
    with atomic_path(out / "model.keras", force=True) as tmp:
        autoencoder.save(tmp)
    Examples.from_corpus(ae, corpus).save(out / "examples.npz")
    metrics = evaluate(ae, corpus)
    seconds = info["training_seconds"]
    metrics.update({
        "epochs": len(history),
        "best_epoch": stop["best_epoch"],
        "training_seconds": round(seconds, 2),
        "frames_per_second": round(sum(h["frames"] for h in history) / seconds, 1) if seconds else None,
        "interrupted": stop["interrupted"],
        "stopped": stop["stopped"],
    })
    modeldir.write_metrics(out, metrics)
    modeldir.write_history(out / "history.csv", history)
    return metrics
