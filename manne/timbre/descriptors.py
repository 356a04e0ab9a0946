"""Acoustic descriptors of magnitude spectra, their maps over the timbre space, and what each slider does.

Four descriptors, defined as librosa defines them (``librosa.feature.spectral_*`` on the same
magnitudes gives the same numbers; the tests check it):

- ``centroid`` (Hz): the magnitude-weighted mean frequency: brightness;
- ``bandwidth`` (Hz): the magnitude-weighted standard deviation about it (librosa's ``p=2``);
- ``flatness`` (0-1): geometric over arithmetic mean of the power (floor 1e-10): noisiness;
- ``rolloff`` (Hz): the frequency below which 85 % of the magnitude lies.

A model's ``descriptors.json`` (written by ``manne descriptors``) stores, per neuron, how much each
descriptor changes over the slider's whole travel (relative to its mean, averaged over notes and
points of the latent space) and a word for the largest change, which the window shows under the
slider (``"brighter"``)::

    {"version": 1, "latent": 8, "descriptors": ["centroid", "bandwidth", "flatness", "rolloff"],
     "notes": [0, ..., 11], "sensitivity": [[... 4 per neuron ...], ...], "labels": ["brighter", "noisier", ...]}
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from manne.errors import ModelError
from manne.io.files import read_json, write_json

__all__ = ["NAMES", "UNITS", "FILE", "describe", "grid_descriptors", "sensitivity", "labels", "write", "read",
           "slider_labels"]

NAMES = ("centroid", "bandwidth", "flatness", "rolloff")
UNITS = {"centroid": "Hz", "bandwidth": "Hz", "flatness": "", "rolloff": "Hz"}
FILE = "descriptors.json"
VERSION = 1
ROLL_PERCENT = 0.85
AMIN = 1e-10
# what moving a slider up does, by the descriptor it moves most and the direction
WORDS = {("centroid", 1): "brighter", ("centroid", -1): "darker", ("bandwidth", 1): "wider",
         ("bandwidth", -1): "narrower", ("flatness", 1): "noisier", ("flatness", -1): "purer",
         ("rolloff", 1): "more highs", ("rolloff", -1): "fewer highs"}


def describe(S: np.ndarray, *, sr: int, n_fft: int) -> dict[str, np.ndarray]:
    """The four descriptors of each magnitude spectrum.

    Computed in the precision of ``S``: float64 gives librosa's numbers to ~1e-12, float32 (the
    decoder's output, ~4x faster) to ~1e-5 (the rolloff may land one bin away where the cumulative
    sum crosses 85 % within float32 rounding).

    Parameters
    ----------
    S : np.ndarray, shape (n, n_bins), magnitudes (bin ``k`` at ``k * sr / n_fft`` Hz), not negative

    Returns
    -------
    dict of name -> np.ndarray, shape (n,), float64 (silent rows: centroid, bandwidth and rolloff 0)
    """
    S = np.asarray(S)
    dt = np.float32 if S.dtype == np.float32 else np.float64
    S = S.astype(dt, copy=False)
    freqs = np.arange(S.shape[1], dtype=np.float64) * (sr / n_fft)
    f = freqs.astype(dt)
    total = S.sum(axis=1, dtype=np.float64)
    silent = total <= 0
    safe = np.where(silent, 1.0, total)
    centroid = (S @ f).astype(np.float64) / safe
    # librosa's bandwidth (p=2): sqrt(sum over bins of the normalised magnitude times (f - centroid)^2);
    # summed term by term (all positive), not as E[f^2] - centroid^2, which cancels for narrow spectra
    dev = f[None, :] - centroid.astype(dt)[:, None]
    dev *= dev
    dev *= S
    bandwidth = np.sqrt(dev.sum(axis=1, dtype=np.float64) / safe)
    del dev
    power = S * S
    np.maximum(power, dt(AMIN), out=power)
    mean_power = power.mean(axis=1, dtype=np.float64)
    np.log(power, out=power)
    flatness = np.exp(power.mean(axis=1, dtype=np.float64)) / mean_power
    del power
    cum = np.cumsum(S, axis=1)
    idx = np.argmax(cum >= dt(ROLL_PERCENT) * cum[:, -1:], axis=1)
    rolloff = freqs[idx]
    for a in (centroid, bandwidth, rolloff):
        a[silent] = 0.0
    return {"centroid": centroid, "bandwidth": bandwidth, "flatness": flatness, "rolloff": rolloff}


def grid_descriptors(ae, z: np.ndarray, notes, *, batch: int = 4096, octave: int = 4) -> dict[str, np.ndarray]:
    """Descriptors of the decoded spectra of codes ``z`` (n, latent) for each of ``notes`` (pitch
    classes, decoded in ``octave``: 4 is C4-B4).

    Returns
    -------
    dict of name -> np.ndarray, shape (len(notes), n)
    """
    from manne.model.decoder import Decoder

    a = ae.analysis
    dec = Decoder.of(ae)
    z = np.asarray(z, dtype=np.float32)
    out = {k: np.empty((len(notes), len(z))) for k in NAMES}
    for j, note in enumerate(notes):
        for start, S in dec.batches(z, int(note) % 12 + 12 * (int(octave) + 1), batch=batch):
            d = describe(S, sr=a.sr, n_fft=a.n_fft)
            for k in NAMES:
                out[k][j, start : start + len(S)] = d[k]
    return out


def sensitivity(ae, *, points: int = 256, notes=range(12), seed: int = 0, step: float = 0.05) -> np.ndarray:
    """How much each descriptor moves over each slider's whole travel, relative to its mean.

    Central differences at ``points`` random codes inside the latent range, for every note:
    ``(d(z + h e_i) - d(z - h e_i)) / (2 h) * span_i / mean(d)``, ``h = step * span_i``, averaged.

    Returns
    -------
    np.ndarray, shape (latent, 4): rows are neurons, columns :data:`NAMES`
    """
    lo, hi = (np.asarray(r, dtype=np.float64) for r in ae.latent_range)
    span = np.where(hi > lo, hi - lo, 1.0)
    d = ae.latent
    rng = np.random.default_rng(seed)
    z0 = lo + (0.1 + 0.8 * rng.random((points, d))) * span  # away from the edges: both sides fit
    h = step * span
    rows = [z0]
    for i in range(d):
        for sign in (1, -1):
            z = z0.copy()
            z[:, i] += sign * h[i]
            rows.append(z)
    desc = grid_descriptors(ae, np.concatenate(rows), list(notes))  # name -> (notes, (1 + 2d) * points)
    out = np.zeros((d, len(NAMES)))
    for c, name in enumerate(NAMES):
        v = desc[name].reshape(len(list(notes)), 1 + 2 * d, points)
        mean = np.abs(v[:, 0]).mean()
        for i in range(d):
            deriv = (v[:, 1 + 2 * i] - v[:, 2 + 2 * i]) / (2 * h[i]) * span[i]
            out[i, c] = deriv.mean() / mean if mean > 0 else 0.0
    return out


def labels(sens: np.ndarray, *, min_change: float = 0.05) -> list[str]:
    """A word per neuron for the descriptor it moves most (``""`` if nothing moves ``min_change``)."""
    out = []
    for row in np.asarray(sens):
        c = int(np.argmax(np.abs(row)))
        out.append(WORDS[(NAMES[c], 1 if row[c] > 0 else -1)] if abs(row[c]) >= min_change else "")
    return out


def write(model_dir: str | os.PathLike, sens: np.ndarray, *, notes=range(12)) -> Path:
    """Write ``descriptors.json`` (the sensitivity table, the slider labels and the pitch classes they
    were averaged over) into the model directory, replacing any."""
    sens = np.asarray(sens, dtype=np.float64)
    doc = {"version": VERSION, "latent": int(sens.shape[0]), "descriptors": list(NAMES),
           "notes": [int(n) for n in notes],
           "sensitivity": [[round(float(v), 5) for v in row] for row in sens], "labels": labels(sens)}
    return write_json(Path(model_dir) / FILE, doc, force=True)


def read(model_dir: str | os.PathLike, *, latent: int) -> tuple[np.ndarray, list[str]] | None:
    """The model's sensitivity table (latent, 4) and slider labels; None without ``descriptors.json``.

    Raises
    ------
    ModelError
        If the file is damaged.
    """
    path = Path(model_dir) / FILE
    if not path.exists():
        return None
    doc = read_json(path, error=ModelError, what="descriptors file")
    try:
        if not isinstance(doc, dict) or doc.get("version") != VERSION:
            raise ValueError(f"this manne reads version {VERSION}")
        if doc.get("descriptors", list(NAMES)) != list(NAMES):
            raise ValueError(f"its descriptors must be {', '.join(NAMES)}")
        sens = np.asarray(doc["sensitivity"], dtype=np.float64)
        words = list(doc["labels"])
        if not all(isinstance(w, str) for w in words):
            raise ValueError("its labels must be words")
        if sens.shape != (latent, len(NAMES)) or len(words) != latent or not np.isfinite(sens).all():
            raise ValueError(f"it needs {latent} rows of {len(NAMES)} finite values and {latent} labels")
        return sens, words
    except (KeyError, TypeError, ValueError) as exc:
        reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ModelError(f"{path}: damaged descriptors file ({reason}); rebuild it with "
                         f"`manne descriptors {model_dir} -o DIR --relabel`") from exc


def slider_labels(model_dir: str | os.PathLike, latent: int) -> list[str]:
    """The slider labels of a model, ``""`` each when it has no (readable) ``descriptors.json``."""
    try:
        got = read(model_dir, latent=latent)
    except ModelError:
        return [""] * latent
    return got[1] if got else [""] * latent
