"""Training: a corpus in, a model directory out.

The model directory is written so that nothing is ever half-saved: every file goes to a temporary
name and is renamed into place. While training, ``checkpoint/`` holds the best weights so far
(``best.weights.h5``, on every improvement) and, every 30 s and when training stops, the model
with its optimizer state (``last.keras``) and the history (``state.json``); ``--resume``
continues from there. Ctrl-C stops after the current batch
and writes the model directory from the best weights so far.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np

from manne import dsp
from manne.io.files import atomic_path
from manne.model.config import ModelConfig, TrainConfig, from_dict
from manne.corpus import Corpus
from manne.errors import ModelError, OutputExistsError, ParameterError
from manne.inspect.examples import Examples
from manne.model.forward import FORMAT_VERSION, REQUIRED_FILES, Autoencoder, save_weights


def check_output(out: Path, *, resume: bool, force: bool) -> None:
    """Refuse to overwrite a model directory without ``force``, or resume one without a checkpoint."""
    if resume:
        if not (out / "checkpoint" / "state.json").is_file():
            raise ModelError(f"{out}: nothing to resume (no checkpoint/state.json); train without --resume")
        return
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out} exists and is not a directory")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise OutputExistsError(f"{out} exists; use --force to overwrite it or --resume to continue it")
        if not any((out / f).exists() for f in MODEL_FILES):
            raise OutputExistsError(f"{out} is not a manne model directory; --force only replaces model directories")


MODEL_FILES = ("config.json", "weights.npz", "model.keras", "history.csv", "metrics.json", "examples.npz", "checkpoint")


def _clear_model_dir(out: Path) -> None:
    """Remove the files a model directory holds (and nothing else the user put there)."""
    for name in MODEL_FILES:
        p = out / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def model_inputs(corpus: Corpus, cfg: ModelConfig, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Arrays the autoencoder takes for frames ``idx`` (see :func:`manne.model.network.input_names`)."""
    S = corpus.S[idx]
    x = {"S": S}
    if cfg.uses_note:
        x["note"] = dsp.one_hot(corpus.note[idx])
    if cfg.augment == "diff":
        x["diff"] = dsp.first_order_difference(S, corpus.clip[idx])
    return x


def _dataset(corpus: Corpus, cfg: ModelConfig, idx: np.ndarray, batch: int, *, shuffle: bool, seed: int):
    import keras

    class Frames(keras.utils.PyDataset):
        """Batches gathered from the corpus on the fly, so no second copy of the frames is made."""

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
            if cfg.augment == "diff":
                # the difference needs the previous frame of the same clip, not the previous batch row
                prev = np.maximum(sel - 1, 0)
                D = corpus.S[sel] - corpus.S[prev]
                D[(corpus.clip[prev] != corpus.clip[sel]) | (sel == 0)] = 0.0
                x = {"S": corpus.S[sel], "diff": D}
                if cfg.uses_note:
                    x["note"] = dsp.one_hot(corpus.note[sel])
            else:
                x = model_inputs(corpus, cfg, sel)
            return x, x["S"]

        def on_epoch_end(self):
            if shuffle:
                self.order = self.rng.permutation(self.order)

    return Frames()


def latent_range(ae: Autoencoder, corpus: Corpus, idx: np.ndarray) -> list[list[float]]:
    """Slider bounds: ``[0, 1]`` for a sigmoid bottleneck, else the training codes' range."""
    if ae.config.bottleneck == "sigmoid" and not ae.config.vae:
        return [[0.0] * ae.latent, [1.0] * ae.latent]
    z = ae.encode(corpus.S[idx], corpus.note[idx], corpus.clip[idx])
    return [z.min(axis=0).tolist(), z.max(axis=0).tolist()]


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

    Returns
    -------
    metrics : dict, as written to ``metrics.json``
    """
    out = Path(out)
    check_output(out, resume=resume, force=force)
    if model_cfg.n_bins != corpus.analysis.n_bins:
        model_cfg = ModelConfig(**{**asdict(model_cfg), "n_bins": corpus.analysis.n_bins})
    train_idx, val_idx, test_idx = (corpus.indices(s) for s in ("train", "val", "test"))
    if len(train_idx) == 0:
        raise ParameterError("the corpus has no training frames")
    ckpt = out / "checkpoint"
    state = {"epoch": 0, "best_val": None, "best_epoch": None, "history": [], "seconds": 0.0}
    if resume:
        state = json.loads((ckpt / "state.json").read_text())
        if (ckpt / "best.json").is_file():
            state.update(json.loads((ckpt / "best.json").read_text()))
        saved = json.loads((ckpt / "config.json").read_text())
        if saved["corpus"]["hash"] != corpus.hash:
            raise ModelError(f"{out}: the checkpoint was trained on another corpus (hash {saved['corpus']['hash']}, this one {corpus.hash})")
        model_cfg = from_dict(ModelConfig, saved["model"])
        train_cfg = from_dict(TrainConfig, {**saved["training"], "epochs": train_cfg.epochs})
    elif out.exists() and force:
        _clear_model_dir(out)
    ckpt.mkdir(parents=True, exist_ok=True)

    from manne.model import network as kmodel  # sets the backend and quiets TensorFlow before it loads

    import keras

    keras.utils.set_random_seed(train_cfg.seed)
    if resume:
        autoencoder = keras.models.load_model(ckpt / "last.keras")
    else:
        autoencoder, _, _ = kmodel.build(model_cfg, seed=train_cfg.seed)
        autoencoder.compile(optimizer=keras.optimizers.Adam(train_cfg.lr), loss="mse", metrics=["mse"])
    info = _info(corpus, corpus_path, model_cfg, train_cfg)
    _write_json(ckpt / "config.json", info)

    val_monitor = len(val_idx) > 0
    data = _dataset(corpus, model_cfg, train_idx, train_cfg.batch, shuffle=True, seed=train_cfg.seed + state["epoch"])
    val_data = _dataset(corpus, model_cfg, val_idx, 4096, shuffle=False, seed=0) if val_monitor else None
    callback = _Monitor(state, train_cfg, ckpt, progress=progress, monitor="val_mse" if val_monitor else "mse", n_train=len(train_idx))
    interrupted = False
    if state["epoch"] < train_cfg.epochs:
        try:
            autoencoder.fit(
                data,
                validation_data=val_data,
                epochs=train_cfg.epochs,
                initial_epoch=state["epoch"],
                verbose=0,
                callbacks=[callback],
            )
        except KeyboardInterrupt:
            interrupted = True
            log(f"\ninterrupted at epoch {state['epoch'] + 1}; saving the best model so far (epoch {state['best_epoch']})")
        finally:
            callback.set_model(autoencoder)
            callback.close()
    if not (ckpt / "best.weights.h5").is_file():
        raise KeyboardInterrupt  # stopped before the first epoch ended: there is no model worth writing
    autoencoder.load_weights(ckpt / "best.weights.h5")
    info["training_seconds"] = state["seconds"]
    return _finish(autoencoder, corpus, out, info, state, model_cfg, interrupted, weights_dtype, log)


def _info(corpus: Corpus, corpus_path: str, model_cfg: ModelConfig, train_cfg: TrainConfig) -> dict:
    return {
        "format_version": FORMAT_VERSION,
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


def _finish(autoencoder, corpus, out, info, state, model_cfg, interrupted, weights_dtype, log) -> dict:
    from manne.model import network as kmodel

    n = len(model_cfg.hidden) + 1
    with atomic_path(out / "weights.npz", force=True) as tmp:
        save_weights(tmp, kmodel.dense_weights(autoencoder, "enc", n), kmodel.dense_weights(autoencoder.get_layer("decoder"), "dec", n), dtype=weights_dtype)
    with atomic_path(out / "model.keras", force=True) as tmp:
        autoencoder.save(tmp)
    _write_json(out / "config.json", info)
    ae = Autoencoder.load(out)
    Examples.from_corpus(ae, corpus).save(out / "examples.npz")
    info["latent_range"] = latent_range(ae, corpus, corpus.indices("train"))
    ae.info = info
    ae.latent_range = np.asarray(info["latent_range"], dtype=np.float32)
    _write_json(out / "config.json", info)
    metrics = evaluate(ae, corpus)
    seen = sum(h["frames"] for h in state["history"])
    metrics.update(
        {
            "epochs": state["epoch"],
            "best_epoch": state["best_epoch"],
            "training_seconds": round(state["seconds"], 2),
            "frames_per_second": round(seen / state["seconds"], 1) if state["seconds"] else None,
            "interrupted": interrupted,
        }
    )
    _write_json(out / "metrics.json", metrics)
    _write_history(out / "history.csv", state["history"])
    return metrics


def evaluate(ae: Autoencoder, corpus: Corpus) -> dict:
    """Validation and test MSE (and train MSE) of a loaded model on a corpus with the same analysis."""
    ae.check_analysis(corpus.analysis)
    res = {}
    for name in ("val", "test"):
        idx = corpus.indices(name)
        res[f"{name}_mse"] = ae.mse(corpus.S[idx], corpus.note[idx], corpus.clip[idx]) if len(idx) else None
        res[f"{name}_frames"] = int(len(idx))
    return res


class _Monitor:
    """Keras callback: progress bar, best weights, plateau schedule, early stop, checkpoints."""

    def __new__(cls, *args, **kwargs):
        import keras

        class Monitor(keras.callbacks.Callback):
            def __init__(self, state, cfg: TrainConfig, ckpt: Path, *, progress: bool, monitor: str, n_train: int):
                super().__init__()
                self.n_train = n_train
                self.state, self.cfg, self.ckpt, self.monitor = state, cfg, ckpt, monitor
                self.bar = None
                if progress:
                    from tqdm import tqdm

                    self.bar = tqdm(total=cfg.epochs, initial=state["epoch"], unit="epoch", desc="training", dynamic_ncols=True, disable=None)
                self.since_best = 0
                self.since_cut = 0
                self.t_epoch = 0.0
                self.save_every = 30.0  # seconds between resume checkpoints; also saved on stop and Ctrl-C
                self.saved_at = time.perf_counter()

            def on_epoch_begin(self, epoch, logs=None):
                self.t_epoch = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                dt = time.perf_counter() - self.t_epoch
                st = self.state
                lr = float(self.model.optimizer.learning_rate.numpy())
                value = float(logs.get(self.monitor, logs.get("loss")))  # MSE without the L2 penalty
                st["seconds"] += dt
                st["epoch"] = epoch + 1
                st["history"].append(
                    {"epoch": epoch + 1, "loss": float(logs.get("loss", np.nan)), "mse": float(logs.get("mse", np.nan)),
                     "val_mse": float(logs.get("val_mse", np.nan)), "lr": lr, "seconds": round(dt, 3), "frames": self.n_train}
                )
                if st["best_val"] is None or value < st["best_val"]:
                    st["best_val"], st["best_epoch"] = value, epoch + 1
                    self.since_best = self.since_cut = 0
                    with atomic_path(self.ckpt / "best.weights.h5", force=True) as tmp:
                        self.model.save_weights(tmp)
                    # the best score goes with the best weights, so a resume after a hard kill never
                    # overwrites them with a worse model
                    _write_json(self.ckpt / "best.json", {"best_val": value, "best_epoch": epoch + 1})
                else:
                    self.since_best += 1
                    self.since_cut += 1
                if self.cfg.schedule == "plateau" and self.since_cut >= max(1, self.cfg.patience // 2 or 5) and lr > self.cfg.min_lr:
                    self.model.optimizer.learning_rate.assign(max(self.cfg.min_lr, lr / 2))
                    self.since_cut = 0
                if self.cfg.patience and self.since_best >= self.cfg.patience:
                    self.model.stop_training = True
                if self.cfg.target_mse and value <= self.cfg.target_mse:
                    self.model.stop_training = True
                if self.cfg.max_minutes and st["seconds"] >= 60 * self.cfg.max_minutes:
                    self.model.stop_training = True
                if time.perf_counter() - self.saved_at >= self.save_every:
                    self.save_checkpoint()
                if self.bar is not None:
                    self.bar.update(1)
                    self.bar.set_postfix_str(
                        f"mse {logs.get('mse', np.nan):.2e} val {logs.get('val_mse', np.nan):.2e} best {st['best_val']:.2e}@{st['best_epoch']} lr {lr:.1e}"
                    )

            def save_checkpoint(self):
                """Model with optimizer state, and the history, for --resume (written together)."""
                with atomic_path(self.ckpt / "last.keras", force=True) as tmp:
                    self.model.save(tmp)
                _write_json(self.ckpt / "state.json", self.state)
                self.saved_at = time.perf_counter()

            def close(self):
                if self.model is not None and self.state["epoch"] > 0:
                    self.save_checkpoint()
                if self.bar is not None:
                    self.bar.close()

        return Monitor(*args, **kwargs)


def _write_json(path: Path, obj) -> None:
    with atomic_path(path, force=True) as tmp:
        tmp.write_text(json.dumps(obj, indent=2))


def _write_history(path: Path, history: list[dict]) -> None:
    with atomic_path(path, force=True) as tmp:
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["epoch", "loss", "mse", "val_mse", "lr", "seconds", "frames"])
            w.writeheader()
            w.writerows(history)


def is_complete(model_dir: Path) -> bool:
    return all((model_dir / f).is_file() for f in REQUIRED_FILES)
