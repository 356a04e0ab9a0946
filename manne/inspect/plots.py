"""Figures that look inside a model: latent embedding, training curves, reconstructions, mesh maps.

matplotlib is imported inside the functions, never at module import. Figures are built as
``matplotlib.figure.Figure`` objects (no pyplot state, no GUI), so every function runs under the
Agg backend and a long experiment does not accumulate open figures; pass your own ``fig`` / ``ax``
(e.g. from pyplot) to draw into a notebook. Call :func:`use_agg` first when no display is wanted.

Each function returns what it drew: single-panel functions the artists, multi-panel functions a
:class:`Drawn` (figure, panels, one main artist per panel), so tests can count panels and points.
Notes are coloured with :func:`note_colors` everywhere: 12 colours sampled from a perceptually
uniform colormap, "viridis" by default. (The cyclic "twilight" was tried: its two near-white ends
make C and B, both in every C-major corpus, look alike, and its dark middle merges E, F and F#;
viridis gives every pitch class its own lightness and reads in grey and with colour blindness.)
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from manne.io.files import atomic_path
from manne.dsp import NOTE_NAMES
from manne.errors import ParameterError

NOTE_CMAP = "viridis"


@dataclass
class Drawn:
    """A multi-panel figure: the figure, its panels (data axes only, no colorbars) and, per
    panel, the main artist (a ``PathCollection`` for scatters, an ``AxesImage`` for maps, a list
    of ``Line2D`` for curves)."""

    fig: Any
    axes: list = field(default_factory=list)
    artists: list = field(default_factory=list)


def use_agg() -> None:
    """Select matplotlib's non-interactive Agg backend (for writing files without a display)."""
    import matplotlib

    matplotlib.use("Agg")


def _figure(fig, figsize):
    if fig is not None:
        return fig
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def note_colors(cmap: str = NOTE_CMAP) -> np.ndarray:
    """RGBA colour of each pitch class, shape (12, 4), C first.

    Sampled at ``(note + 0.5) / 12``, the centres of 12 equal bands of the colormap.
    """
    import matplotlib

    return matplotlib.colormaps[cmap]((np.arange(12) + 0.5) / 12)


def note_cmap(cmap: str = NOTE_CMAP):
    """A 12-colour ``ListedColormap`` of :func:`note_colors`, for images of note indices 0-11."""
    from matplotlib.colors import ListedColormap

    return ListedColormap(note_colors(cmap), name=f"notes_{cmap}")


def _note_legend(ax, notes_shown: Sequence[int], colors: np.ndarray, **kwargs):
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker="o", color=colors[n], label=NOTE_NAMES[n]) for n in notes_shown]
    return ax.legend(handles=handles, title="note", fontsize="small", **kwargs)


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix), atomically."""
    path = Path(path)
    with atomic_path(path, force=True) as tmp:
        fig.savefig(tmp, dpi=dpi)
    return path


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
        fig = _figure(fig, (13, 4.4))
    else:
        pairs = [(0, 1)]
        fig = _figure(fig, (6.4, 5.4))
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
    _note_legend(axes[-1], shown, colors, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
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


def read_history(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Columns of a model directory's ``history.csv`` as float arrays (``epoch``, ``loss``, ``mse``, ``val_mse``, ...).

    Raises
    ------
    ParameterError
        If the file lacks an ``epoch`` column, or both ``loss`` and ``mse``.
    """
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    cols = {k: np.array([float(r[k]) if r[k] not in ("", None) else np.nan for r in rows]) for k in (rows[0] if rows else {})}
    if "epoch" not in cols or not ({"loss", "mse"} & set(cols)):
        raise ParameterError(f"{path}: not a training history (needs epoch and loss or mse columns)")
    return cols


def plot_training(history: Mapping[str, np.ndarray] | str | os.PathLike, *, ax=None, title: str | None = None) -> list:
    """Training and validation error per epoch on a log scale, the best validation epoch marked.

    Reads either history format: ``mse``/``val_mse`` (reconstruction error; ``loss`` then also holds
    the weight and KL penalties and is drawn dashed when it differs) or the older ``loss``/``val_loss``.

    Parameters
    ----------
    history : mapping of column name to array, shape (n_epochs,), with ``epoch`` and ``loss`` or
        ``mse``; or the path of a ``history.csv``

    Returns
    -------
    lines : list of Line2D, labelled "train", optionally "train loss (with penalties)", then
        "validation" and "best (epoch N)" when there is a validation column
    """
    h = read_history(history) if isinstance(history, (str, os.PathLike)) else history
    if ax is None:
        ax = _figure(None, (6.4, 4.2)).subplots()
    epoch = np.asarray(h["epoch"])
    nan = np.full(len(epoch), np.nan)
    style = dict(marker="o", ms=3) if len(epoch) < 30 else {}
    train = np.asarray(h["mse"] if "mse" in h else h["loss"], dtype=float)
    val = np.asarray(h["val_mse"] if "val_mse" in h else h.get("val_loss", nan), dtype=float)
    lines = ax.plot(epoch, train, "-", color="0.2", label="train", **style)
    if "mse" in h and "loss" in h:
        loss = np.asarray(h["loss"], dtype=float)
        if np.isfinite(loss).any() and not np.allclose(loss, train, rtol=1e-3, equal_nan=True):
            lines += ax.plot(epoch, loss, "--", color="0.55", lw=0.9, label="train loss (with penalties)")
    if np.isfinite(val).any():
        lines += ax.plot(epoch, val, "-", color="tab:orange", label="validation", **style)
        best = int(np.nanargmin(val))
        lines += ax.plot(epoch[best], val[best], "o", ms=8, mfc="none", color="tab:red", label=f"best (epoch {int(epoch[best])})")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title(title or "training")
    return lines


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
    fig = _figure(fig, (6.0 * cols, 3.2 * rows))
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


def plot_mesh(result, *, fig=None, cmap: str = NOTE_CMAP, title: str | None = None) -> Drawn:
    """Maps of the predicted note over the latent grid, one panel per conditioning note (3 x 4).

    For 2 neurons each panel is the whole grid. For 3 or more, each panel is the z1-z2 slice with
    the other neurons fixed at the grid value nearest the middle of their range (said in the
    title); the percentages are over the full grid. Notes absent from the training corpus are
    marked "(unseen)"; notes not computed leave their panel empty. A red line outlines the region
    where the predicted note is the conditioning note.

    Parameters
    ----------
    result : manne.inspect.mesh.MeshResult

    Returns
    -------
    Drawn
        Twelve panels (C .. B); each computed note's artist is its ``AxesImage``, others ``None``.
    """
    r = result
    d = r.latent
    if d == 1:
        raise ParameterError("a 1-neuron mesh has no 2-D map; use the CSV or the table")
    cm = note_cmap(cmap)
    fig = _figure(fig, (13, 9.2))
    axes = fig.subplots(3, 4, sharex=True, sharey=True).ravel().tolist()
    lo, hi = np.asarray(r.ranges[0], float), np.asarray(r.ranges[1], float)
    mid = r.points // 2
    # pixel centres on the grid values; a neuron whose range is a single value gets a unit-wide strip
    step = [(hi[k] - lo[k]) / (r.points - 1) if hi[k] > lo[k] else 1.0 for k in (0, 1)]
    centres = [np.linspace(lo[k], hi[k], r.points) if hi[k] > lo[k] else lo[k] + np.zeros(r.points) for k in (0, 1)]
    extent = [lo[0] - step[0] / 2, max(hi[0], lo[0]) + step[0] / 2, lo[1] - step[1] / 2, max(hi[1], lo[1]) + step[1] / 2]
    drawn = Drawn(fig, axes)
    image = None
    for n, ax in enumerate(axes):
        if n not in r.notes:
            ax.set_title(f"{NOTE_NAMES[n]}: not computed", fontsize="medium", color="0.5")
            drawn.artists.append(None)
            continue
        m = r.map(n)
        if d > 2:
            m = m[(slice(None), slice(None)) + (mid,) * (d - 2)]
        image = ax.imshow(m.T, origin="lower", extent=extent, cmap=cm, vmin=-0.5, vmax=11.5,
                          interpolation="nearest", aspect="auto")
        acc = r.accuracy_of(n)
        if 0 < acc < 1:  # outline where the note comes out, readable whatever the colours
            ax.contour(centres[0], centres[1], (m == n).T.astype(float), levels=[0.5], colors="tab:red", linewidths=1.2)
        seen = n in r.present
        ax.set_title(f"{NOTE_NAMES[n]}: {100 * r.accuracy_of(n):.0f}%" + ("" if seen else " (unseen)"),
                     fontsize="medium", color="black" if seen else "0.45")
        drawn.artists.append(image)
    for ax in axes[8:]:
        ax.set_xlabel("z1")
    for ax in axes[::4]:
        ax.set_ylabel("z2")
    if image is not None:
        cb = fig.colorbar(image, ax=axes, ticks=np.arange(12), shrink=0.8, label="predicted note")
        cb.ax.set_yticklabels(NOTE_NAMES)
    if title is None:
        title = f"predicted note over a {r.points}^{d} grid, decoder conditioned on each note (red: edge of the region that plays it)"
    if d > 2:
        vals = [np.linspace(lo[k], hi[k], r.points)[mid] for k in range(2, d)]
        fixed = ", ".join(f"z{k + 3} = {v:.3g}" for k, v in enumerate(vals))
        title += f"\nmaps: the z1-z2 slice at {fixed} (grid value nearest the middle); percentages: the full grid"
    fig.suptitle(title)
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
    R = ae.reconstruct(S, notes)
    seen = set(ae.notes_present)
    labels = [f"{NOTE_NAMES[notes[k]]}{'' if notes[k] in seen else ' (not in training set)'}, "
              f"{examples.S_label[i]}: MSE {np.mean((S[k] - R[k]) ** 2):.1e}"
              for k, i in enumerate(pick)]
    d = plot_reconstruction(S, R, sr=ae.analysis.sr, n_fft=ae.analysis.n_fft, labels=labels)
    d.fig.suptitle(f"reconstruction of {len(pick)} {examples.split} frames")
    written.append(save_figure(d.fig, out / "reconstruction.png", dpi=dpi))
    return written


__all__ = ["Drawn", "NOTE_CMAP", "use_agg", "note_colors", "note_cmap", "save_figure", "pca_2d", "plot_embedding",
           "read_history", "plot_training", "plot_reconstruction", "plot_mesh", "write_model_plots"]
