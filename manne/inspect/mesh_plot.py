"""The mesh map: which note the decoder plays over the latent grid, one panel per conditioning note.

Draws a :class:`manne.inspect.mesh.MeshResult` with the note colours of
:mod:`manne.inspect.figures`; matplotlib is imported lazily, and the figure needs no display.
"""

from __future__ import annotations

import numpy as np

from manne.dsp import NOTE_NAMES
from manne.errors import ParameterError
from manne.inspect.figures import NOTE_CMAP, Drawn, new_figure, note_cmap

__all__ = ["plot_mesh"]


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
    fig = new_figure(fig, (13, 9.2))
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
