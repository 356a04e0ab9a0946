"""Small Tk widgets of the synth window: a hover tooltip and a live magnitude-spectrum plot.

Both are plain Tk (no ttk styling of their own) and need NumPy only besides; the window in
:mod:`manne.gui.window` builds and drives them from the Tk main thread.
"""

from __future__ import annotations

import tkinter as tk
from typing import Callable

import numpy as np

__all__ = ["SpectrumPlot", "Tooltip"]


class Tooltip:
    """A small yellow label that appears under a widget while the pointer is over it.

    ``text`` is a string, or a function called each time the tip shows.
    """

    def __init__(self, widget: tk.Widget, text: str | Callable[[], str], *, delay_ms: int = 400):
        self.widget, self.text, self.delay_ms = widget, text, delay_ms
        self._after: str | None = None
        self._tip: tk.Toplevel | None = None
        widget.bind("<Enter>", self._schedule, add="+")
        widget.bind("<Leave>", self._hide, add="+")
        widget.bind("<ButtonPress>", self._hide, add="+")

    def _schedule(self, _event=None) -> None:
        self._hide()
        self._after = self.widget.after(self.delay_ms, self._show)

    def _show(self) -> None:
        self._after = None
        x = self.widget.winfo_rootx() + 4
        y = self.widget.winfo_rooty() + self.widget.winfo_height() + 4
        self._tip = tip = tk.Toplevel(self.widget)
        tip.wm_overrideredirect(True)
        tip.wm_geometry(f"+{x}+{y}")
        text = self.text() if callable(self.text) else self.text
        tk.Label(tip, text=text, wraplength=600, justify="left", background="#ffffe0", relief="solid", borderwidth=1, padx=4, pady=2).pack()

    def _hide(self, _event=None) -> None:
        if self._after is not None:
            self.widget.after_cancel(self._after)
            self._after = None
        if self._tip is not None:
            self._tip.destroy()
            self._tip = None


class SpectrumPlot:
    """A magnitude spectrum drawn on a Tk canvas: log-frequency axis, dB axis, one polyline.

    The bin-to-pixel map is built once per canvas size; each update is a log, one
    ``np.maximum.reduceat`` and a ``coords`` call, light enough for 20 updates a second.

    Parameters
    ----------
    parent : the containing widget
    sr, n_fft : the analysis that defines the bins' frequencies
    fmin : lowest frequency shown (Hz); the highest is ``sr / 2``
    db_min, db_max : the dB range shown (magnitude 1.0 is 0 dB)
    """

    MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 44, 8, 8, 18
    BG, GRID, TEXT, LINE, FILL = "#15181d", "#343a44", "#8a93a0", "#5ec8ff", "#1c3f58"

    def __init__(self, parent: tk.Widget, *, sr: int, n_fft: int, fmin: float = 20.0,
                 db_min: float = -80.0, db_max: float = 0.0, width: int = 460, height: int = 220):
        self.canvas = tk.Canvas(parent, width=width, height=height, background=self.BG,
                                highlightthickness=0, borderwidth=0)
        self.db_min, self.db_max, self.fmin = db_min, db_max, fmin
        self.set_analysis(sr=sr, n_fft=n_fft)
        self._fill = self.canvas.create_polygon(0, 0, 0, 0, fill=self.FILL, outline="")
        self._line = self.canvas.create_line(0, 0, 0, 0, fill=self.LINE, width=1.5)
        self.points = np.zeros((0, 2))
        self._last: np.ndarray | None = None
        self.canvas.bind("<Configure>", self._resize)

    def set_analysis(self, *, sr: int, n_fft: int) -> None:
        self.sr, self.n_fft = sr, n_fft
        self.freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
        self._layout(int(self.canvas.cget("width")), int(self.canvas.cget("height")))

    def _resize(self, event) -> None:
        self._layout(event.width, event.height)
        if self._last is not None:
            self.update(self._last)

    def _x(self, f: np.ndarray | float) -> np.ndarray | float:
        lo, hi = np.log10(self.fmin), np.log10(self.sr / 2)
        w = self.width - self.MARGIN_L - self.MARGIN_R
        return self.MARGIN_L + (np.log10(f) - lo) / (hi - lo) * w

    def _y(self, db: np.ndarray | float) -> np.ndarray | float:
        h = self.height - self.MARGIN_T - self.MARGIN_B
        return self.MARGIN_T + (self.db_max - db) / (self.db_max - self.db_min) * h

    def _layout(self, width: int, height: int) -> None:
        """Build the bin-to-pixel map and redraw the grid for a canvas of this size."""
        self.width, self.height = max(width, 80), max(height, 60)
        band = np.flatnonzero((self.freqs >= self.fmin) & (self.freqs <= self.sr / 2))
        px = np.floor(self._x(self.freqs[band])).astype(np.int64)
        starts = np.flatnonzero(np.diff(px, prepend=-1))  # first bin of each pixel column
        self._bins, self._starts = band, starts
        self._xs = self._x(self.freqs[band])[starts]
        c = self.canvas
        c.delete("grid")
        x0, x1 = self.MARGIN_L, self.width - self.MARGIN_R
        y0, y1 = self.MARGIN_T, self.height - self.MARGIN_B
        for f in (50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000):
            if self.fmin < f < self.sr / 2:
                x = float(self._x(f))
                c.create_line(x, y0, x, y1, fill=self.GRID, tags="grid")
                label = f"{f // 1000}k" if f >= 1000 else str(f)
                c.create_text(x, y1 + 2, text=label, anchor="n", fill=self.TEXT, font=("TkSmallCaptionFont",), tags="grid")
        for db in range(int(self.db_max), int(self.db_min) - 1, -20):
            y = float(self._y(db))
            c.create_line(x0, y, x1, y, fill=self.GRID, tags="grid")
            label = f"{db} dB" if db == int(self.db_max) else f"{db}"
            c.create_text(x0 - 4, y, text=label, anchor="e", fill=self.TEXT, font=("TkSmallCaptionFont",), tags="grid")
        c.tag_lower("grid")

    def update(self, S: np.ndarray | None) -> np.ndarray:
        """Draw one magnitude spectrum.

        Parameters
        ----------
        S : np.ndarray, shape (n_fft // 2 + 1,), linear magnitudes; None clears the plot

        Returns
        -------
        points : np.ndarray, shape (n_points, 2), the polyline's canvas coordinates
        """
        if S is None or len(S) != len(self.freqs):
            self._last = None
            self.canvas.coords(self._line, 0, 0, 0, 0)
            self.canvas.coords(self._fill, 0, 0, 0, 0)
            self.points = np.zeros((0, 2))
            return self.points
        self._last = S
        peak = np.maximum.reduceat(np.asarray(S, dtype=np.float64)[self._bins], self._starts)
        db = np.clip(20.0 * np.log10(np.maximum(peak, 1e-12)), self.db_min, self.db_max)
        pts = np.column_stack([self._xs, self._y(db)])
        self.points = pts
        flat = pts.ravel().tolist()
        self.canvas.coords(self._line, *flat)
        bottom = float(self._y(self.db_min))
        self.canvas.coords(self._fill, pts[0, 0], bottom, *flat, pts[-1, 0], bottom)
        return pts
