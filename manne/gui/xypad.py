"""An XY pad on a Tk canvas: drag to move two timbre coordinates, over a map of the timbre space.

The pad works in unit coordinates ``(u, v)`` in [0, 1]² (``v`` up); the window maps them to the
latent space (two chosen neurons, or the first two principal axes of the training codes). The
background can show a map (a descriptor or the mesh accuracy, one value per grid cell, drawn with
a viridis-like colour ramp) and the training landmarks by name.
"""

from __future__ import annotations

import tkinter as tk
from typing import Callable, Sequence

import numpy as np

__all__ = ["XYPad", "ramp_colours"]

# viridis at five stops: dark violet, blue, teal, green, yellow
_STOPS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float64)


def ramp_colours(values: np.ndarray, limits: tuple[float, float] | None = None) -> np.ndarray:
    """``#rrggbb`` strings for ``values`` scaled to [0, 1] over ``limits`` (default: their own finite
    range); same shape."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if limits is not None:
        lo, hi = limits
    else:
        lo, hi = (v[finite].min(), v[finite].max()) if finite.any() else (0.0, 1.0)
    t = np.where(finite, (v - lo) / (hi - lo if hi > lo else 1.0), 0.0) * (len(_STOPS) - 1)
    i = np.clip(np.floor(t).astype(int), 0, len(_STOPS) - 2)
    f = (t - i)[..., None]
    rgb = np.rint(_STOPS[i] * (1 - f) + _STOPS[i + 1] * f).astype(int)
    flat = [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rgb.reshape(-1, 3)]
    return np.array(flat, dtype=object).reshape(v.shape)


class XYPad:
    """Parameters
    ----------
    parent : the containing widget
    on_move : callable(u, v) called on click and drag, ``u, v`` in [0, 1]
    size : side of the square pad in pixels
    """

    BG, GRID, CURSOR, TEXT, HALO, DOT = "#1b1f26", "#2c323c", "#ffffff", "#f4f4f2", "#15181d", "#ffb347"
    PAD = 6  # pixels between the canvas edge and the unit square

    def __init__(self, parent: tk.Widget, *, on_move: Callable[[float, float], None], size: int = 260):
        self.on_move = on_move
        self.canvas = tk.Canvas(parent, width=size, height=size, background=self.BG, highlightthickness=0,
                                borderwidth=0, cursor="crosshair")
        self.u, self.v = 0.5, 0.5
        self.values: np.ndarray | None = None
        self.limits: tuple[float, float] | None = None
        self.landmarks: list[tuple[str, float, float]] = []
        self.axes = ("", "")
        self.caption = ""
        self.canvas.bind("<Configure>", lambda e: self.draw())
        self.canvas.bind("<ButtonPress-1>", self._drag)
        self.canvas.bind("<B1-Motion>", self._drag)
        self.draw()

    # ---- geometry ---------------------------------------------------------------------------
    def _side(self) -> float:
        c = self.canvas
        w = c.winfo_width() if c.winfo_width() > 1 else int(c.cget("width"))
        h = c.winfo_height() if c.winfo_height() > 1 else int(c.cget("height"))
        return float(min(w, h) - 2 * self.PAD)

    def to_canvas(self, u: float, v: float) -> tuple[float, float]:
        s = self._side()
        return self.PAD + u * s, self.PAD + (1.0 - v) * s

    def from_canvas(self, x: float, y: float) -> tuple[float, float]:
        s = self._side()
        return float(np.clip((x - self.PAD) / s, 0, 1)), float(np.clip(1.0 - (y - self.PAD) / s, 0, 1))

    # ---- content ----------------------------------------------------------------------------
    def set_background(self, values: np.ndarray | None, caption: str = "", *,
                       limits: tuple[float, float] | None = None) -> None:
        """A map over the pad: ``values`` (n_v, n_u), row 0 at ``v = 0`` (bottom); None for none.
        ``limits`` are the values at the ends of the colour ramp (default: the values' own range)."""
        self.values = None if values is None else np.asarray(values, dtype=np.float64)
        self.limits = limits
        self.caption = caption
        self.draw()

    def set_landmarks(self, landmarks: Sequence[tuple[str, float, float]], *, draw: bool = True) -> None:
        """Named points ``(name, u, v)`` (those outside [0, 1]² are left out); every point gets a dot,
        names are drawn in the order given where they do not cover one already drawn. ``draw=False``
        leaves the drawing to the next call that draws (a :meth:`set_background` that follows)."""
        self.landmarks = [(n, float(u), float(v)) for n, u, v in landmarks if 0 <= u <= 1 and 0 <= v <= 1]
        if draw:
            self.draw()

    def set_axes(self, x_label: str, y_label: str, *, draw: bool = True) -> None:
        self.axes = (x_label, y_label)
        if draw:
            self.draw()

    def set_position(self, u: float, v: float) -> None:
        """Move the cursor (no callback)."""
        self.u, self.v = float(np.clip(u, 0, 1)), float(np.clip(v, 0, 1))
        self._draw_cursor()

    # ---- drawing ----------------------------------------------------------------------------
    def draw(self) -> None:
        c = self.canvas
        c.delete("all")
        s = self._side()
        x0, y0 = self.to_canvas(0, 1)
        if self.values is not None:
            colours = ramp_colours(self.values, self.limits)
            n_v, n_u = colours.shape
            cw, ch = s / n_u, s / n_v
            for j in range(n_v):
                for i in range(n_u):
                    xa, ya = x0 + i * cw, y0 + (n_v - 1 - j) * ch
                    c.create_rectangle(xa, ya, xa + cw + 1, ya + ch + 1, fill=colours[j, i], outline="", tags="bg")
        else:
            for k in range(1, 4):
                c.create_line(x0 + k * s / 4, y0, x0 + k * s / 4, y0 + s, fill=self.GRID, tags="bg")
                c.create_line(x0, y0 + k * s / 4, x0 + s, y0 + k * s / 4, fill=self.GRID, tags="bg")
        c.create_rectangle(x0, y0, x0 + s, y0 + s, outline=self.GRID, tags="bg")
        font = ("TkSmallCaptionFont",)
        xl, yl = self.axes
        if xl:
            c.create_text(x0 + s - 2, y0 + s - 2, text=f"{xl} →", anchor="se", fill=self.TEXT, font=font, tags="axis")
        if yl:
            c.create_text(x0 + 3, y0 + 2, text=f"↑ {yl}", anchor="nw", fill=self.TEXT, font=font, tags="axis")
        if self.caption:
            c.create_text(x0 + 3, y0 + s - 2, text=self.caption, anchor="sw", fill=self.TEXT, font=font, tags="axis")
        # boxes a name may not cover: the axis labels, the caption, and the names drawn so far
        taken = [tuple(c.bbox(i)) for i in c.find_withtag("axis")]
        width = float(c.winfo_width() if c.winfo_width() > 1 else int(c.cget("width")))
        for _, u, v in self.landmarks:  # every dot first, so that no dot covers a name
            x, y = self.to_canvas(u, v)
            c.create_oval(x - 3, y - 3, x + 3, y + 3, fill=self.DOT, outline=self.HALO, tags="landmark")
        for name, u, v in self.landmarks:
            if not name:
                continue
            x, y = self.to_canvas(u, v)
            anchor = "w" if u < 0.5 else "e"
            dx = 6 if anchor == "w" else -6
            item = c.create_text(x + dx, y, text=name, anchor=anchor, fill=self.TEXT, font=font, tags="landmark")
            bx0, by0, bx1, by1 = c.bbox(item)
            if bx0 < 0 or bx1 > width or any(bx0 < b[2] and b[0] < bx1 and by0 < b[3] and b[1] < by1 for b in taken):
                c.delete(item)  # it would cover another name: the dot alone marks this recording
                continue
            taken.append((bx0 - 2, by0, bx1 + 2, by1))
            for ox, oy in ((-1, 0), (1, 0), (0, -1), (0, 1)):  # a dark halo keeps names readable on any colour
                halo = c.create_text(x + dx + ox, y + oy, text=name, anchor=anchor, fill=self.HALO, font=font,
                                     tags="landmark")
                c.tag_lower(halo, item)
        self._draw_cursor()

    def _draw_cursor(self) -> None:
        c = self.canvas
        c.delete("cursor")
        x, y = self.to_canvas(self.u, self.v)
        c.create_oval(x - 8, y - 8, x + 8, y + 8, outline=self.CURSOR, width=2, tags="cursor")
        c.create_line(x - 12, y, x - 4, y, fill=self.CURSOR, tags="cursor")
        c.create_line(x + 4, y, x + 12, y, fill=self.CURSOR, tags="cursor")
        c.create_line(x, y - 12, x, y - 4, fill=self.CURSOR, tags="cursor")
        c.create_line(x, y + 4, x, y + 12, fill=self.CURSOR, tags="cursor")

    def _drag(self, event) -> None:
        self.u, self.v = self.from_canvas(event.x, event.y)
        self._draw_cursor()
        self.on_move(self.u, self.v)
