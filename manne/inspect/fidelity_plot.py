"""The figure of ``manne bench fidelity --plot``: each note's harmonic error against its MIDI note.

matplotlib is imported inside the functions (see :mod:`manne.inspect.figures`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from manne.inspect.figures import new_figure, save_figure

__all__ = ["plot_fidelity", "save_fidelity_plot"]

# (what, how it is read from a note's row, style)
SERIES = (("own code", lambda r: r["own"]["rendered_error_db"], dict(marker="o", color="#2f7dd1")),
          ("keyboard (one code)", lambda r: r["keyboard"]["rendered_error_db"], dict(marker="s", color="#d1702f")),
          ("sawtooth", lambda r: r["sawtooth_error_db"], dict(marker="x", color="0.45")))


def plot_fidelity(rows: Sequence[dict], *, ax=None, title: str | None = None) -> list:
    """Rendered notes' harmonic error (own code, keyboard code) and a sawtooth's, in dB, against MIDI.

    Parameters
    ----------
    rows : the notes of ``manne bench fidelity`` (each with ``midi``, ``file``, ``sawtooth_error_db``
        and ``own`` / ``keyboard`` holding ``rendered_error_db``)
    ax : matplotlib Axes, optional (default a new figure's)

    Returns
    -------
    lines : list of Line2D, one per series and recording (labelled once per series)
    """
    from manne.synth.pitch import note_name

    if ax is None:
        ax = new_figure(None, (7.5, 4.2)).subplots()
    files = list(dict.fromkeys(r["file"] for r in rows))
    dashes = ["-", "--", ":", "-."]
    lines = []
    for label, read, style in SERIES:
        for j, name in enumerate(files):
            mine = sorted((r for r in rows if r["file"] == name), key=lambda r: r["midi"])
            x = [r["midi"] for r in mine]
            y = [read(r) for r in mine]
            lines += ax.plot(x, y, ls=dashes[j % len(dashes)], ms=4, lw=1, label=label if j == 0 else None, **style)
    midis = sorted({r["midi"] for r in rows})
    if midis:
        ticks = [m for m in range(midis[0], midis[-1] + 1) if m % 12 in (0, 4, 7)] or midis
        ax.set_xticks(ticks, [note_name(m) for m in ticks])
    ax.set_xlabel("note" + (f" ({', '.join(files)}: {', '.join(dashes[:len(files)])})" if len(files) > 1 else ""))
    ax.set_ylabel("harmonic level error (dB)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return lines


def save_fidelity_plot(rows: Sequence[dict], path: str | os.PathLike, *, title: str | None = None,
                       force: bool = False) -> Path:
    """Draw :func:`plot_fidelity` into a new figure and write it to ``path`` atomically."""
    from manne.io.files import check_new

    check_new([Path(path)], force=force)
    fig = new_figure(None, (7.5, 4.2))
    plot_fidelity(rows, ax=fig.subplots(), title=title)
    return save_figure(fig, path)
