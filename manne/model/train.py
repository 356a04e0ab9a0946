"""Training: a corpus in, a model directory out.

Nothing is ever half-saved, and nothing that existed is lost: every file goes to a temporary name
and is renamed into place, and the finished model is written into a temporary folder beside the
output and moved in at once (:func:`manne.model.modeldir.commit`), so a full disk or a kill leaves
the output as it was. ``--force`` trains in ``.next/`` inside the old model, which stays until the
new one is complete (a killed ``--force`` run is resumable too). While training, ``checkpoint/`` holds the best weights so far with the
optimizer's state (on every improvement), the history (every epoch) and, every 30 s and when
training stops, the latest epoch's model; ``--resume`` continues from the later of the two
(:mod:`manne.model.checkpoint`). The schedule, the early stop and the other stops are the callbacks
of :mod:`manne.model.callbacks`. Ctrl-C stops at the next batch end (:mod:`manne.model.interrupt`:
the handler only sets a flag) and writes the model directory from the best weights so far, except
under ``--force``: an interrupted run never replaces a model, its own stays resumable in ``.next/``.
A NaN or Inf score stops training too (``diverged``).
"""

from __future__ import annotations

import math
import os
import pickle
import shutil
import zipfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable

import numpy as np

from manne.corpus import Corpus
from manne.errors import ModelError, ParameterError
from manne.inspect.examples import Examples
from manne.io.files import remove_stale_temporaries, renamed, temporary_beside
from manne.model import checkpoint, interrupt, modeldir
from manne.model.config import ModelConfig, TrainConfig, from_dict
from manne.model.dataset import model_inputs, training_data
from manne.model.evaluate import evaluate, latent_range
from manne.model.forward import Autoencoder
from manne.model.weights import write_weights

__all__ = ["train", "model_inputs", "STOPS"]

# why training stopped, as metrics.json's "stopped" says it
STOPS = ("epochs", "minutes", "converged", "patience", "target_mse", "max_minutes", "interrupted", "diverged")
XLA_MIN_STEPS = 1500  # runs planned this long compile their training step with XLA (see use_xla)
FINISH_BATCH = 1024  # frames a NumPy pass when the model directory is written (codes, MSE): bounded temporaries
VAL_BATCH = 512  # validation frames a step: the steps' buffers are what training holds beside the mapped corpus

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
    devices: int = 1,
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
    devices : train on this many GPUs (or logical CPU devices) at once (:func:`manne.model.devices.strategy`)

    Returns
    -------
    metrics : dict, as written to ``metrics.json``; ``interrupted`` is true after Ctrl-C, ``stopped``
        says why training ended (one of :data:`STOPS`)

    Raises
    ------
    OutputExistsError
        If ``out`` exists and may not be replaced (see :func:`manne.model.modeldir.check_output`).
    ModelError
        If the checkpoint to resume is missing, damaged, or from another corpus, or training diverged
        before its first finite score.
    OSError
        Naming ``out`` (or the file in it), if it cannot be written; ``out`` is left as it was.
    KeyboardInterrupt
        If Ctrl-C comes before the first epoch ends (there is no model worth writing), or while a
        ``force`` run trains (``out`` stays as it was; the new run is resumable in ``out/.next``).
    """
    out = Path(out)
    modeldir.check_output(out, resume=resume, force=force)
    if model_cfg.n_bins != corpus.analysis.n_bins:
        model_cfg = replace(model_cfg, n_bins=corpus.analysis.n_bins)
    train_idx = corpus.indices("train")
    if len(train_idx) == 0:
        raise ParameterError("the corpus has no training frames")
    state = {"epoch": 0, "seconds": 0.0, "best_val": None, "best_epoch": None, "start": None}
    history: list[dict] = []
    # This run's checkpoint lives in the output (a new model, or a resumed one: a kill leaves it
    # resumable), or, when --force replaces a model, in out/.next, so the old model stays whole until
    # the new one is complete and a killed --force run is resumable too.
    if resume:
        work = modeldir.resumable_run(out) or out
        saved, state, history = checkpoint.read_checkpoint(work)
        if saved["corpus"]["hash"] != corpus.hash:
            raise ModelError(f"{work}: the checkpoint was trained on another corpus "
                             f"(hash {saved['corpus']['hash']}, this one {corpus.hash})")
        model_cfg = from_dict(ModelConfig, saved["model"])
        train_cfg = from_dict(TrainConfig, {**saved["training"], "epochs": train_cfg.epochs})
    else:
        work = out / modeldir.NEXT if out.is_dir() and any(out.iterdir()) else out
        if work != out:  # a new --force run starts afresh
            shutil.rmtree(work, ignore_errors=True)
    remove_stale_temporaries(out.resolve().parent)  # what killed runs left beside it
    replacing = work != out
    new_out = not out.exists()
    try:
        return _train(corpus, corpus_path, out, work, model_cfg=model_cfg, train_cfg=train_cfg, state=state,
                      history=history, replacing=replacing, progress=progress, log=log, weights_dtype=weights_dtype,
                      devices=devices)
    except BaseException:
        if not modeldir.is_resumable(work):  # nothing worth keeping: leave no trace
            shutil.rmtree(work if replacing else work / modeldir.CHECKPOINT, ignore_errors=True)
            if new_out and out.is_dir() and not any(out.iterdir()):
                out.rmdir()
        raise  # (the checkpoint's paths are the real ones: the output, or the .next/ kept in it)


def use_xla(train_cfg: TrainConfig, steps: int, devices: int = 1) -> bool:
    """Whether to compile the training step with XLA.

    XLA fuses the elementwise work between the matmuls (activations, the loss, Adam's update):
    about 6 % more frames a CPU-second on these 2 CPU cores at batch 256, the same arithmetic.
    Compiling costs a few seconds, so only a run planned for at least
    ``XLA_MIN_STEPS`` steps (or one with a ``minutes`` budget) uses it, and never several devices
    (Keras leaves XLA out of ``tf.distribute``). ``MANNE_XLA=0`` or ``1`` in the environment decides.

    Parameters
    ----------
    steps : int, the training steps left in the plan (batches per epoch times epochs)
    """
    forced = os.environ.get("MANNE_XLA", "").strip()
    if forced in ("0", "1"):
        return forced == "1" and devices == 1
    return devices == 1 and (train_cfg.minutes > 0 or steps >= XLA_MIN_STEPS)


def _train(corpus: Corpus, corpus_path: str, out: Path, work: Path, *, model_cfg: ModelConfig, train_cfg: TrainConfig,
           state: dict, history: list[dict], replacing: bool, progress: bool, log: Callable[[str], None],
           weights_dtype, devices: int = 1) -> dict:
    """:func:`train` with its checkpoint in ``work/checkpoint`` (``out`` itself unless ``replacing``)."""
    train_idx, val_idx = corpus.indices("train"), corpus.indices("val")
    ckpt = work / modeldir.CHECKPOINT
    ckpt.mkdir(parents=True, exist_ok=True)

    from manne.model import callbacks as cb  # loads Keras (quietly)
    from manne.model.devices import blas_limited, strategy
    from manne.model.network import build, keras

    keras.utils.set_random_seed(train_cfg.seed)
    with strategy(devices).scope():  # the variables live on every device trained on
        if state["start"] == "last":
            autoencoder = _load_keras(ckpt / "last.keras", lambda path: keras.models.load_model(path))
        else:
            autoencoder, _, _ = build(model_cfg, seed=train_cfg.seed)
            autoencoder.compile(optimizer=keras.optimizers.Adam(train_cfg.lr), loss="mse", metrics=["mse"])
            if state["start"] == "best":
                _restore_best(autoencoder, ckpt, optimizer=True)
    steps = math.ceil(len(train_idx) / train_cfg.batch)
    if use_xla(train_cfg, steps * max(0, train_cfg.epochs - state["epoch"]), devices):
        # the training step only: Keras makes each step function once, with the flag as it stands then;
        # an XLA validation step would hold another ~300 MB of compiled buffers for little time saved
        autoencoder.jit_compile = True
        autoencoder.make_train_function()
        autoencoder.jit_compile = False
    info = _info(corpus, corpus_path, model_cfg, train_cfg)
    modeldir.write_config(ckpt / "config.json", info)

    monitor = "val_mse" if len(val_idx) else "mse"
    best = {"best_val": state["best_val"], "best_epoch": state["best_epoch"]}
    schedule = cb.callbacks(train_cfg, monitor=monitor, epoch=state["epoch"], steps_per_epoch=steps,
                            seconds=state["seconds"], **best)
    history_log = cb.HistoryLog(ckpt / "history.csv", history, frames=len(train_idx), seconds=state["seconds"])
    plan = next((c for c in schedule if hasattr(c, "planned")), None)
    watch = cb.Monitor(ckpt, train_cfg, history_log, monitor=monitor, progress=progress, plan=plan, **best)
    interrupted = False
    try:
        if state["epoch"] < train_cfg.epochs:
            data = training_data(corpus, model_cfg, train_idx, batch=train_cfg.batch, shuffle=True,
                                 seed=train_cfg.seed + state["epoch"])
            val_data = training_data(corpus, model_cfg, val_idx, batch=VAL_BATCH, shuffle=False, seed=0) if len(val_idx) else None
            with blas_limited(1):
                autoencoder.fit(data, validation_data=val_data, epochs=train_cfg.epochs, initial_epoch=state["epoch"],
                                shuffle=False, verbose=0, callbacks=[*schedule, history_log, watch,
                                                                             interrupt.stop_on_ctrl_c()])
    except KeyboardInterrupt:
        if watch.best_epoch is None:  # Ctrl-C before the first epoch ended: there is no model worth writing
            log(f"\ninterrupted before the first epoch ended; nothing written{f' ({out} is as it was)' if replacing else ''}")
            raise
        if replacing:  # an interrupted --force run never replaces the model: its own stays resumable in .next/
            log(_kept(out, corpus_path, len(history), watch.best_epoch, train_cfg.epochs))
            raise
        interrupted = True
        log(f"\ninterrupted at epoch {len(history) + 1}; saving the best model so far (epoch {watch.best_epoch})")
    finally:
        watch.set_model(autoencoder)
        watch.close()
    if watch.diverged_at is not None:
        if watch.best_epoch is None:
            raise ModelError(f"training diverged at epoch {watch.diverged_at} (NaN or Inf in its {monitor}, weights or "
                             f"optimizer state), so there is no model to write{f' ({out} is as it was)' if replacing else ''}; "
                             "try a lower --lr")
        log(f"\ntraining diverged at epoch {watch.diverged_at} (NaN or Inf in its {monitor}, weights or optimizer state); "
            f"saving the best model (epoch {watch.best_epoch}); a lower --lr may train further")
    early = any(isinstance(c, cb.EarlyStop) and c.stopped_epoch for c in schedule)
    planned = plan.stopped if plan is not None else None
    stopped = "interrupted" if interrupted else watch.stopped or ("patience" if early else planned or "epochs")
    _restore_best(autoencoder, ckpt)
    info["training_seconds"] = history_log.seconds
    stage = temporary_beside(out, folder=True)
    try:
        metrics = _finish(autoencoder, corpus, stage, info, history, model_cfg, weights_dtype,
                          {"best_epoch": watch.best_epoch, "interrupted": interrupted, "stopped": stopped})
        if replacing and interrupt.pressed():  # Ctrl-C while the model was written: it replaces nothing
            log(_kept(out, corpus_path, len(history), watch.best_epoch, train_cfg.epochs))
            raise interrupt.Interrupted
        if replacing:  # the new run's checkpoint replaces the old one
            os.replace(ckpt, stage / modeldir.CHECKPOINT)
        modeldir.commit(stage, out)
        if replacing:
            shutil.rmtree(work, ignore_errors=True)
    except BaseException as exc:
        moved = stage / modeldir.CHECKPOINT
        if replacing and moved.is_dir() and not ckpt.exists():  # not committed: the new run stays resumable
            os.replace(moved, ckpt)
        if isinstance(exc, OSError):
            raise renamed(exc, stage, out) from exc
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return metrics


def _kept(out: Path, corpus_path: str, done: int, best_epoch: int, epochs: int) -> str:
    """What an interrupted ``--force`` run says: the old model stays, and how to continue or take the new one."""
    return (f"\ninterrupted after {done} epoch{'s' * (done != 1)}; {out} is as it was. This run (best epoch {best_epoch}) "
            f"is kept in {out / modeldir.NEXT}: `manne train {corpus_path} -o {out} --resume --epochs {epochs}` "
            f"continues it, `--resume --epochs {done}` takes it as it is")


def _restore_best(autoencoder, ckpt: Path, *, optimizer: bool = False) -> None:
    """Set ``autoencoder`` to the checkpoint's best weights (and its optimizer to their state).

    Raises
    ------
    ModelError
        Naming the file, if it is missing, damaged or of another model.
    """
    path = ckpt / modeldir.BEST_WEIGHTS
    if not path.is_file() and (ckpt / "best.weights.h5").is_file():  # a checkpoint of manne 0.1
        _load_keras(ckpt / "best.weights.h5", autoencoder.load_weights)
        return
    weights, opt = checkpoint.read_best_weights(ckpt)
    try:
        autoencoder.set_weights(weights)
        if optimizer:
            autoencoder.optimizer.build(autoencoder.trainable_variables)
            variables = autoencoder.optimizer.variables
            if len(variables) != len(opt):
                raise ValueError(f"{len(opt)} optimizer variables, the optimizer has {len(variables)}")
            for v, a in zip(variables, opt):
                v.assign(a)
    except ValueError as exc:
        raise ModelError(f"{path}: does not fit the model of checkpoint/config.json ({str(exc)[:120]}); "
                         "train again without --resume") from exc


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
            # the pitches the model learned: the synth decodes a note outside them in an octave inside
            "pitch_range": [round(float(np.percentile(corpus.pitch[corpus.indices("train")], q)), 2) for q in (0.5, 99.5)],
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
    codes = ae.encode(corpus.S, corpus.pitch, corpus.clip, batch=FINISH_BATCH)  # once, for the sliders' range, the examples and the landmarks
    info["latent_range"] = latent_range(ae, corpus, corpus.indices("train"), codes=codes)
    ae.latent_range = np.asarray(info["latent_range"], dtype=np.float32)
    write_weights(out / "weights.npz", encoder, decoder, dtype=weights_dtype)
    modeldir.write_config(out / "config.json", info)
    from manne.model.callbacks import save_keras

    save_keras(autoencoder, out / "model.keras")
    Examples.from_corpus(ae, corpus, codes=codes).save(out / "examples.npz")
    from manne.timbre import landmarks  # where each recording sits: the map, morphs and the XY pad

    landmarks.write(out, landmarks.compute(ae, corpus, codes=codes), latent=ae.latent)
    metrics = evaluate(ae, corpus, batch=FINISH_BATCH)
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
