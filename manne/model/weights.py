"""A model directory's ``weights.npz``: each Dense layer as ``encoder/<i>/W`` (n_in, n_out),
``encoder/<i>/b`` (n_out,), ``decoder/<i>/W``, ``decoder/<i>/b``, float32 or float16 (for a VAE the
encoder's last layer is the mean of ``q(z|x)``). The reader is the file's error boundary: a damaged
file, a missing or extra layer, a shape that does not match ``config.json``, or a non-finite or
absurd weight raises :class:`~manne.errors.ModelError` naming the file and the array. NumPy only.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import numpy as np

from manne.errors import ModelError
from manne.io.files import atomic_path
from manne.model.config import ModelConfig

__all__ = ["Layers", "WEIGHT_MAX", "read_weights", "write_weights"]

# No trained layer comes near this (the bundled model's largest weight is 0.58); beyond it a model is damaged
# and would play full-scale noise or NaN
WEIGHT_MAX = 1e4

Layers = list[tuple[np.ndarray, np.ndarray]]  # Dense layers' (W, b), input side first


def read_weights(model_dir: str | os.PathLike, config: ModelConfig, *, dtype=np.float32) -> tuple[Layers, Layers]:
    """Dense layers of ``weights.npz``, checked against ``config``.

    Returns
    -------
    encoder, decoder : lists of ``(W, b)``, ``W`` shape (n_in, n_out), ``b`` shape (n_out,), as ``dtype``

    Raises
    ------
    ModelError
        If the file cannot be read, lacks a layer, or a shape does not match ``config``.
    """
    path = Path(model_dir) / "weights.npz"
    if path.exists() and not path.is_file():  # a pipe would block the read forever
        raise ModelError(f"{path}: a pipe, folder or device, not a weights file (reading a pipe would wait for ever)")
    if path.is_file() and not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not a .npz archive (damaged, or another kind of file)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError as exc:
        raise ModelError(f"{path}: no such file") from exc
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError, AttributeError) as exc:
        raise ModelError(f"{path}: cannot be read ({type(exc).__name__}: {str(exc)[:120]})") from exc
    n = len(config.hidden) + 1
    names = [f"{part}/{i}/{k}" for part in ("encoder", "decoder") for i in range(n) for k in ("W", "b")]
    extra = sorted(set(arrays) - set(names))
    if extra:
        raise ModelError(f"{path}: array {extra[0]} is not a layer of this model ({n} per side); it does not match config.json")
    for name in names:
        if name not in arrays:
            raise ModelError(f"{path}: no array {name}; it does not match config.json")
        arrays[name] = _checked_weights(path, name, arrays[name], dtype)
    layers = {part: [(arrays[f"{part}/{i}/W"], arrays[f"{part}/{i}/b"]) for i in range(n)] for part in ("encoder", "decoder")}
    aug = {"chroma": config.n_note, "diff": config.n_bins, "none": 0}[config.augment]
    _check_chain(path, "encoder", layers["encoder"], config.n_bins + aug, config.latent)
    _check_chain(path, "decoder", layers["decoder"], config.latent + (config.n_note if config.skip else 0), config.n_bins)
    return layers["encoder"], layers["decoder"]


def _checked_weights(path: Path, name: str, a: np.ndarray, dtype) -> np.ndarray:
    """``a`` as ``dtype`` if it holds real, finite numbers no larger than :data:`WEIGHT_MAX`."""
    if a.dtype.kind not in "fiu":
        raise ModelError(f"{path}: {name} holds {a.dtype} values, not real numbers; the file is damaged")
    a = a.astype(dtype)
    if not np.isfinite(a).all():
        raise ModelError(f"{path}: {name} holds {int((~np.isfinite(a)).sum())} NaN or Inf values; the model is damaged "
                         "(retrain it)")
    peak = float(np.abs(a).max()) if a.size else 0.0
    if peak > WEIGHT_MAX:
        raise ModelError(f"{path}: {name} holds a weight of {peak:.3g}, beyond any trained model's (at most "
                         f"{WEIGHT_MAX:g}); the model is damaged (retrain it)")
    return a


def _check_chain(path: Path, part: str, layers: Layers, n_in: int, n_out: int) -> None:
    width = n_in
    for i, (W, b) in enumerate(layers):
        if W.ndim != 2 or W.shape[0] != width or b.shape != (W.shape[1],):
            raise ModelError(f"{path}: {part} layer {i} has W {W.shape} and b {b.shape}, expected W ({width}, n) "
                             "and b (n,); it does not match config.json")
        width = W.shape[1]
    if width != n_out:
        raise ModelError(f"{path}: the {part} outputs {width} values; config.json says {n_out}")


def write_weights(path: str | os.PathLike, encoder: Layers, decoder: Layers, *, dtype=np.float32) -> None:
    """Write Dense layers' ``(W, b)`` pairs to ``weights.npz`` at ``path``, atomically, as ``dtype``."""
    arrays = {}
    for name, layers in (("encoder", encoder), ("decoder", decoder)):
        for i, (W, b) in enumerate(layers):
            arrays[f"{name}/{i}/W"] = np.asarray(W, dtype=dtype)
            arrays[f"{name}/{i}/b"] = np.asarray(b, dtype=dtype)
    with atomic_path(path, force=True) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
