"""Descriptor maps: how bright, wide, noisy and high each point of the timbre space sounds, per note.

One figure per descriptor: a small map per note over a plane of the timbre space (the synth
window's XY-pad plane, :meth:`manne.timbre.plane.Plane.of_model`, or two chosen neurons), on one
colour scale with its unit (frequencies on a log scale, flatness in dB), the model's recordings
marked where it has landmarks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from manne.dsp import NOTE_NAMES
from manne.inspect.figures import Drawn, new_figure, save_figure
from manne.timbre.descriptors import UNITS

__all__ = ["plot_descriptor_map", "write_descriptor_maps"]

TITLES = {"centroid": "Brightness (spectral centroid)", "bandwidth": "Spread (spectral bandwidth)",
          "flatness": "Noisiness (spectral flatness)", "rolloff": "Highs (85 % rolloff)"}


def plot_descriptor_map(values: np.ndarray, notes: Sequence[int], name: str, *, axes_labels=("z1", "z2"),
                        ticks: tuple[tuple[float, float], tuple[float, float]] | None = None,
                        marks: np.ndarray | None = None, present: Sequence[int] | None = None, fig=None) -> Drawn:
    """Maps of one descriptor, one panel per note on one colour scale (Hz on a log scale; flatness in dB).

    Parameters
    ----------
    values : np.ndarray, shape (n_notes, n, n): row ``j`` of each map at ``v = j / (n - 1)``
    notes : the pitch classes, one per map
    name : one of :data:`manne.timbre.descriptors.NAMES`
    axes_labels : the horizontal and vertical axis' names
    ticks : the values at the two ends of each axis (the neurons' range), labelled on the outer panels
    marks : np.ndarray, shape (m, 2), optional: pad coordinates of the recordings, drawn as dots
    present : the pitch classes of the training corpus; the others' titles say so, in grey
    """
    from matplotlib.colors import LogNorm, Normalize
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    n_notes = len(notes)
    cols = min(4, n_notes)
    rows = -(-n_notes // cols)
    fig = new_figure(fig, (2.6 * cols + 1.3, 2.5 * rows + 0.9))
    v = np.asarray(values, dtype=np.float64)
    if name == "flatness":  # 1e-7 to 1: decibels read better than a linear scale
        v = 10 * np.log10(np.maximum(v, 1e-10))
    lo, hi = np.nanpercentile(v, 1), np.nanpercentile(v, 99)
    log = UNITS[name] == "Hz"
    norm = LogNorm(max(lo, 1.0), max(hi, lo * 1.01, 2.0)) if log else Normalize(lo, max(hi, lo + 1e-9))
    axes, images = [], []
    for k, note in enumerate(notes):
        ax = fig.add_subplot(rows, cols, k + 1)
        im = ax.imshow(v[k], origin="lower", extent=(0, 1, 0, 1), cmap="magma", norm=norm, interpolation="nearest")
        if marks is not None and len(marks):
            ax.scatter(marks[:, 0], marks[:, 1], s=5, c="#5ec8ff", linewidths=0)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        heard = present is None or int(note) in present
        ax.set_title(NOTE_NAMES[int(note)] + ("" if heard else " (not in the corpus)"), fontsize=9,
                     color="black" if heard else "0.5")
        left, bottom = k % cols == 0, k >= n_notes - cols
        for axis, show, label, ends in ((ax.xaxis, bottom, axes_labels[0], ticks and ticks[0]),
                                        (ax.yaxis, left, axes_labels[1], ticks and ticks[1])):
            axis.set_ticks([0, 1] if ends and show else [])
            if ends and show:  # the end labels kept inside their panel, clear of the neighbour's
                lo_t, hi_t = axis.set_ticklabels([f"{ends[0]:.2g}", f"{ends[1]:.2g}"], fontsize=7)
                if axis is ax.xaxis:
                    lo_t.set_horizontalalignment("left")
                    hi_t.set_horizontalalignment("right")
                else:
                    lo_t.set_verticalalignment("bottom")
                    hi_t.set_verticalalignment("top")
            if show:
                axis.set_label_text(label, fontsize=8)
                axis.labelpad = -6 if ends else 2
        axes.append(ax)
        images.append(im)
    unit = "dB" if name == "flatness" else UNITS[name]
    bar = fig.colorbar(images[0], ax=axes, shrink=0.85, pad=0.02)
    if log:  # round numbers of Hz (500, 1000, 2000), not powers of ten
        nice = [n * 10.0**e for e in range(1, 5) for n in (1, 1.5, 2, 3, 4, 5, 6, 8)]
        shown = [x for x in nice if norm.vmin <= x <= norm.vmax]
        bar.set_ticks(shown[:: -(-len(shown) // 8)] if shown else [norm.vmin, norm.vmax])
        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:.0f}"))
        bar.ax.yaxis.set_minor_formatter(FuncFormatter(lambda x, _: ""))
        bar.ax.tick_params(which="both", labelsize=8)
    bar.set_label(f"{name} ({unit})")
    fig.suptitle(f"{TITLES[name]} over the timbre plane, per note", fontsize=11)
    if marks is not None and len(marks):
        fig.legend(handles=[Line2D([], [], ls="", marker="o", ms=3, color="#5ec8ff", label="training recordings")],
                   loc="outside lower right", fontsize=8, frameon=False)
    return Drawn(fig, axes, images)


def write_descriptor_maps(values: dict[str, np.ndarray], notes: Sequence[int], out: str | os.PathLike, *,
                          axes_labels=("z1", "z2"), ticks=None, marks: np.ndarray | None = None,
                          present: Sequence[int] | None = None, dpi: int = 110) -> list[Path]:
    """One PNG per descriptor (``centroid.png`` ...) into ``out``; ``values[name]`` has shape (n_notes, n, n)."""
    out = Path(out)
    return [save_figure(plot_descriptor_map(v, notes, name, axes_labels=axes_labels, ticks=ticks, marks=marks,
                                            present=present).fig,
                        out / f"{name}.png", dpi=dpi) for name, v in values.items()]
