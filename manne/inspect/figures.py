"""What every figure of :mod:`manne.inspect` shares: the figure and its result, note colours, saving.

matplotlib is imported inside the functions, never at module import. Figures are built as
``matplotlib.figure.Figure`` objects (no pyplot state, no GUI), so every plot runs under the Agg
backend and a long experiment does not accumulate open figures; pass your own ``fig`` / ``ax``
(e.g. from pyplot) to draw into a notebook. Call :func:`use_agg` first when no display is wanted.

Multi-panel plots return a :class:`Drawn` (figure, panels, one main artist per panel), so tests
can count panels and points. Notes are coloured with :func:`note_colors` everywhere: 12 colours
sampled from a perceptually uniform colormap, "viridis" by default. (The cyclic "twilight" was
tried: its two near-white ends make C and B, both in every C-major corpus, look alike, and its
dark middle merges E, F and F#; viridis gives every pitch class its own lightness and reads in
grey and with colour blindness.)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from manne.dsp import NOTE_NAMES
from manne.io.files import atomic_path

__all__ = ["Drawn", "NOTE_CMAP", "DPI_MIN", "DPI_MAX", "check_dpi", "use_agg", "new_figure", "note_colors", "note_cmap", "note_legend", "save_figure"]

NOTE_CMAP = "viridis"
DPI_MIN, DPI_MAX = 20, 600  # a PNG's resolution: below, unreadable; above, hundreds of megapixels


def check_dpi(dpi: int, *, name: str = "dpi") -> int:
    """``dpi`` if it is an integer from :data:`DPI_MIN` to :data:`DPI_MAX`.

    Raises
    ------
    ParameterError
        Naming the value and the range.
    """
    from manne.errors import ParameterError

    if isinstance(dpi, bool) or not isinstance(dpi, (int, np.integer)) or not DPI_MIN <= dpi <= DPI_MAX:
        shown = f"{name} {dpi}" if name.startswith("-") else f"{name}={dpi}"
        raise ParameterError(f"{shown} must be from {DPI_MIN} to {DPI_MAX} (an integer)")
    return int(dpi)


@dataclass
class Drawn:
    """A multi-panel figure: the figure, its panels (data axes only, no colorbars) and, per
    panel, the main artist (a ``PathCollection`` for scatters, an ``AxesImage`` for maps, a list
    of ``Line2D`` for curves)."""

    fig: Any
    axes: list = field(default_factory=list)
    artists: list = field(default_factory=list)
    info: dict = field(default_factory=dict)  # what a plot chose to show (e.g. the labelled names)


def use_agg() -> None:
    """Select matplotlib's non-interactive Agg backend (for writing files without a display)."""
    import matplotlib

    matplotlib.use("Agg")


def new_figure(fig, figsize: tuple[float, float]):
    """``fig`` if given, else a new constrained-layout ``matplotlib.figure.Figure`` of ``figsize`` inches."""
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


def note_legend(ax, notes_shown: Sequence[int], colors: np.ndarray, **kwargs):
    """A legend on ``ax`` with one coloured dot per note of ``notes_shown`` (0-11); returns it."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker="o", color=colors[n], label=NOTE_NAMES[n]) for n in notes_shown]
    return ax.legend(handles=handles, title="note", fontsize="small", **kwargs)


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix), atomically."""
    path = Path(path)
    with atomic_path(path, force=True) as tmp:
        fig.savefig(tmp, dpi=dpi)
    return path
