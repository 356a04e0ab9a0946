"""A trained model measured on a corpus: reconstruction MSE per split and the latent codes' range.

NumPy only (the forward pass of :mod:`manne.model.forward`), so ``manne evaluate`` never loads
TensorFlow.
"""

from __future__ import annotations

import numpy as np

from manne.corpus import Corpus
from manne.model.config import default_latent_range
from manne.model.forward import Autoencoder

__all__ = ["evaluate", "latent_range"]


def evaluate(ae: Autoencoder, corpus: Corpus, *, batch: int = 4096) -> dict:
    """Validation and test MSE of a loaded model on a corpus with the same analysis, ``batch`` frames a pass.

    Returns
    -------
    res : dict with ``val_mse``, ``test_mse`` (None for an empty split), ``val_frames``, ``test_frames``

    Raises
    ------
    CorpusError
        If the corpus's analysis parameters differ from the model's.
    """
    ae.check_analysis(corpus.analysis)
    res = {}
    for name in ("val", "test"):
        idx = corpus.indices(name)
        res[f"{name}_mse"] = ae.mse(corpus.frames(idx), corpus.pitch[idx], corpus.clip[idx], batch=batch) if len(idx) else None
        res[f"{name}_frames"] = int(len(idx))
    return res


def latent_range(ae: Autoencoder, corpus: Corpus, idx: np.ndarray, *, codes: np.ndarray | None = None) -> list[list[float]]:
    """Slider bounds, shape (2, latent): ``[0, 1]`` for a sigmoid bottleneck, else the range of the
    codes of frames ``idx``.

    ``codes`` are ``ae.encode`` of every frame of ``corpus``, shape (n_frames, latent), where the
    caller has them already (training encodes its corpus once for this, the examples and the landmarks).
    """
    if ae.config.bottleneck == "sigmoid" and not ae.config.vae:
        return default_latent_range(ae.latent)
    z = ae.encode(corpus.frames(idx), corpus.pitch[idx], corpus.clip[idx]) if codes is None else codes[idx]
    return [z.min(axis=0).tolist(), z.max(axis=0).tolist()]
