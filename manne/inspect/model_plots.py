"""Figures of what a model learnt: its latent embedding and its reconstructions, and the files of ``manne plot``.

:func:`plot_embedding` scatters the training codes coloured by note; :func:`plot_reconstruction`
draws input frames against their decodes; :func:`write_model_plots` writes both, with the
training curves of :mod:`manne.inspect.history`, as PNGs. Conventions (``fig=None``, :class:`Drawn`,
note colours, matplotlib imported lazily) are those of :mod:`manne.inspect.figures`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from manne.dsp import NOTE_NAMES
from manne.errors import ParameterError
from manne.inspect.figures import NOTE_CMAP, Drawn, new_figure, note_colors, note_legend, save_figure
from manne.inspect.history import plot_training

__all__ = ["pca_2d", "plot_embedding", "plot_reconstruction", "write_model_plots"]


def pca_2d(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project codes onto their first two principal components (NumPy SVD).

    Parameters
    ----------
    z : np.ndarray, shape (n, latent), latent >= 2

    Returns
    -------
    p : np.ndarray, shape (n, 2)
    explained : np.ndarray, shape (2,), fraction of the variance each component explains
    """
    z = np.asarray(z, dtype=np.float64)
    zc = z - z.mean(axis=0)
    _, s, vt = np.linalg.svd(zc, full_matrices=False)
    var = s**2
    explained = var[:2] / var.sum() if var.sum() > 0 else np.zeros(2)
    return zc @ vt[:2].T, explained


def plot_embedding(
    z: np.ndarray,
    note: np.ndarray,
    *,
    fig=None,
    ranges: np.ndarray | None = None,
    cmap: str = NOTE_CMAP,
    title: str | None = None,
    seed: int = 0,
) -> Drawn:
    """Scatter of latent codes coloured by note.

    2 neurons: one panel z1-z2. 3 neurons: three panels z1-z2, z1-z3, z2-z3. More: one panel of
    the first two principal components. Points are drawn in a random (seeded) order so no note
    hides the others just by being drawn last.

    Parameters
    ----------
    z : np.ndarray, shape (n_frames, latent)
    note : np.ndarray, shape (n_frames,), 0-11
    ranges : np.ndarray, shape (2, latent), optional
        Axis limits (e.g. the model's ``latent_range``); ignored for the PCA view.

    Returns
    -------
    Drawn
        One ``PathCollection`` per panel, each with ``n_frames`` offsets.
    """
    z = np.asarray(z, dtype=np.float32)
    note = np.asarray(note, dtype=np.int64)
    if z.ndim != 2 or len(z) != len(note):
        raise ParameterError(f"z has shape {z.shape} and note {note.shape}; need (n, latent) and (n,)")
    if len(note) and (note.min() < 0 or note.max() > 11):
        raise ParameterError(f"note values {note.min()}..{note.max()} must be 0-11")
    d = z.shape[1]
    colors = note_colors(cmap)
    order = np.random.default_rng(seed).permutation(len(z))
    zs, cs = z[order], colors[note[order]]
    size = float(np.clip(3e4 / max(1, len(z)), 1.0, 25.0))
    if d == 3:
        pairs = [(0, 1), (0, 2), (1, 2)]
        fig = new_figure(fig, (13, 4.4))
    else:
        pairs = [(0, 1)]
        fig = new_figure(fig, (6.4, 5.4))
    axes = fig.subplots(1, len(pairs), squeeze=False)[0].tolist()
    drawn = Drawn(fig, axes)
    if d == 1:
        xy, labels = np.stack([zs[:, 0], np.zeros(len(zs))], axis=1), ("z1", "")
    elif d > 3:
        p, ex = pca_2d(zs)
        xy, labels = p, (f"PC1 ({100 * ex[0]:.0f}% of variance)", f"PC2 ({100 * ex[1]:.0f}%)")
    for ax, (i, j) in zip(axes, pairs):
        if d in (2, 3):
            xy, labels = zs[:, [i, j]], (f"z{i + 1}", f"z{j + 1}")
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=cs, s=size, linewidths=0, alpha=0.8, rasterized=True)
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        if ranges is not None and d in (2, 3):
            r = np.asarray(ranges)
            ax.set_xlim(*_pad(r[:, i]))
            ax.set_ylim(*_pad(r[:, j]))
        drawn.artists.append(sc)
    shown = sorted(int(n) for n in np.unique(note))
    note_legend(axes[-1], shown, colors, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    what = f"{d} neurons, PCA" if d > 3 else f"{d} neuron{'s' * (d > 1)}"
    title = title or f"training codes ({len(z)} frames, {what})"
    if len(axes) > 1:
        fig.suptitle(title)
    else:
        axes[0].set_title(title)
    return drawn


def _pad(lim: np.ndarray, frac: float = 0.03) -> tuple[float, float]:
    lo, hi = float(lim[0]), float(lim[1])
    span = hi - lo if hi > lo else 1.0
    return lo - frac * span, hi + frac * span


def plot_reconstruction(
    S: np.ndarray,
    R: np.ndarray,
    *,
    sr: int,
    n_fft: int,
    note: np.ndarray | None = None,
    labels: Sequence[str] | None = None,
    fig=None,
    floor_db: float = -80.0,
) -> Drawn:
    """Input frames against their reconstructions, one panel per frame, log-frequency axis, dB.

    Parameters
    ----------
    S, R : np.ndarray, shape (n_frames, n_bins), normalised magnitudes (input, reconstruction)
    sr, n_fft : the analysis parameters (for the frequency axis)
    note : np.ndarray, shape (n_frames,), optional, shown in the titles
    labels : optional panel titles (default: frame number, note and MSE)

    Returns
    -------
    Drawn
        One panel per frame; each panel's artist is ``[input_line, reconstruction_line]``.
    """
    S, R = np.atleast_2d(S), np.atleast_2d(R)
    if S.shape != R.shape:
        raise ParameterError(f"S has shape {S.shape} and R {R.shape}; they must match")
    n = len(S)
    if n == 0:
        raise ParameterError("no frames to plot")
    cols = min(n, 2)
    rows = int(np.ceil(n / cols))
    fig = new_figure(fig, (6.0 * cols, 3.2 * rows))
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True).ravel().tolist()
    freqs = np.arange(S.shape[1]) * sr / n_fft
    keep = freqs > 0

    def db(x):
        return 20 * np.log10(np.maximum(x, 10 ** (floor_db / 20)))

    drawn = Drawn(fig)
    for k, ax in enumerate(axes):
        if k >= n:
            ax.set_visible(False)
            continue
        a = ax.plot(freqs[keep], db(S[k, keep]), color="0.1", lw=1.0, zorder=3, label="input")
        b = ax.plot(freqs[keep], db(R[k, keep]), color="tab:orange", lw=0.8, alpha=0.85, zorder=2, label="reconstruction")
        ax.set_xscale("log")
        ax.set_xlim(20, sr / 2)
        ax.set_ylim(floor_db, 5)
        ax.grid(True, which="both", alpha=0.25)
        mse = float(np.mean((S[k] - R[k]) ** 2))
        if labels is not None:
            ax.set_title(labels[k], fontsize="medium")
        else:
            nm = f" ({NOTE_NAMES[int(note[k])]})" if note is not None else ""
            ax.set_title(f"frame {k + 1}{nm}: MSE {mse:.1e}", fontsize="medium")
        if k % cols == 0:
            ax.set_ylabel("dB re frame max")
        if k >= n - cols:
            ax.set_xlabel("frequency (Hz)")
        drawn.axes.append(ax)
        drawn.artists.append(a + b)
    drawn.axes[0].legend(loc="lower left", fontsize="small")
    return drawn


def write_model_plots(ae, examples, model_dir: str | os.PathLike, out: str | os.PathLike, *, frames: int = 4, dpi: int = 120) -> list[Path]:
    """Write ``embedding.png``, ``training.png`` and ``reconstruction.png`` of a model into ``out``.

    Parameters
    ----------
    ae : manne.model.forward.Autoencoder
    examples : manne.inspect.examples.Examples, from the corpus or the model's ``examples.npz``
    model_dir : the model directory (for ``history.csv``; training.png is skipped, with a note on
        stdout, when it has none)
    frames : held-out frames to reconstruct (at most those in ``examples``)

    Returns
    -------
    paths : list of Path, the files written

    Raises
    ------
    ModelError
        If the model's ``history.csv`` is damaged (:func:`manne.inspect.history.read_history`).
    """
    model_dir, out = Path(model_dir), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    d = plot_embedding(examples.z, examples.z_note)  # zoomed on the codes: a sigmoid model often uses a corner of [0, 1]
    written.append(save_figure(d.fig, out / "embedding.png", dpi=dpi))
    history = model_dir / "history.csv"
    if history.is_file():
        lines = plot_training(history, title=f"training: {model_dir.name}")
        written.append(save_figure(lines[0].figure, out / "training.png", dpi=dpi))
    else:
        print(f"no {history}; skipping training.png")
    pick = np.linspace(0, len(examples.S) - 1, min(frames, len(examples.S))).round().astype(int)
    S, notes = examples.S[pick], examples.S_note[pick]
    R = ae.reconstruct(S, examples.S_pitch[pick])
    seen = set(ae.notes_present)
    labels = [f"{NOTE_NAMES[notes[k]]}{'' if notes[k] in seen else ' (not in training set)'}, "
              f"{examples.S_label[i]}: MSE {np.mean((S[k] - R[k]) ** 2):.1e}"
              for k, i in enumerate(pick)]
    d = plot_reconstruction(S, R, sr=ae.analysis.sr, n_fft=ae.analysis.n_fft, labels=labels)
    d.fig.suptitle(f"reconstruction of {len(pick)} {examples.split} frames")
    written.append(save_figure(d.fig, out / "reconstruction.png", dpi=dpi))
    return written
