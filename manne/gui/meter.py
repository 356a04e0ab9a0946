"""An output level meter on a Tk canvas: RMS bar, peak line with a hold, dBFS scale."""

from __future__ import annotations

import time
import tkinter as tk

__all__ = ["LevelMeter"]


class LevelMeter:
    """A horizontal meter from ``db_min`` to 0 dBFS; green, amber from -12 dBFS, red from -3 dBFS.

    :meth:`update` takes the peak and RMS in dBFS (``manne.synth.tap.OutputTap.levels``); the peak
    mark holds for ``hold_s`` then falls.
    """

    BG, TRACK, GREEN, AMBER, RED, PEAK, TEXT = "#15181d", "#262a31", "#3fbf6f", "#e0b040", "#e0504a", "#f4f4f2", "#8a93a0"

    def __init__(self, parent: tk.Widget, *, db_min: float = -60.0, hold_s: float = 1.5, width: int = 180, height: int = 22):
        self.db_min, self.hold_s = float(db_min), float(hold_s)
        self.canvas = tk.Canvas(parent, width=width, height=height, background=self.BG, highlightthickness=0, borderwidth=0)
        self.peak_db, self.rms_db, self.held_db = -120.0, -120.0, -120.0
        self._held_at = 0.0
        self.canvas.bind("<Configure>", lambda e: self._draw())
        self._draw()

    def _x(self, db: float) -> float:
        c = self.canvas
        w = c.winfo_width() if c.winfo_width() > 1 else int(c.cget("width"))
        span = w - 44  # room for the figure at the right
        return 2 + span * (min(max(db, self.db_min), 0.0) - self.db_min) / -self.db_min

    def update(self, peak_db: float, rms_db: float) -> None:
        now = time.monotonic()
        self.peak_db, self.rms_db = float(peak_db), float(rms_db)
        if self.peak_db >= self.held_db or now - self._held_at > self.hold_s:
            self.held_db, self._held_at = self.peak_db, now
        self._draw()

    @property
    def text(self) -> str:
        """The figure shown beside the bar: the held peak, or "-inf" below the scale."""
        return "-inf" if self.held_db <= self.db_min else f"{self.held_db:.0f} dB"

    def _draw(self) -> None:
        c = self.canvas
        c.delete("all")
        h = c.winfo_height() if c.winfo_height() > 1 else int(c.cget("height"))
        x0, x_end = self._x(self.db_min), self._x(0.0)
        c.create_rectangle(x0, 3, x_end, h - 3, fill=self.TRACK, outline="")
        x = self._x(self.rms_db)
        for lo, hi, colour in ((self.db_min, -12.0, self.GREEN), (-12.0, -3.0, self.AMBER), (-3.0, 0.0, self.RED)):
            a, b = self._x(lo), min(x, self._x(hi))
            if b > a:
                c.create_rectangle(a, 3, b, h - 3, fill=colour, outline="")
        if self.held_db > self.db_min:
            xp = self._x(self.held_db)
            c.create_line(xp, 2, xp, h - 2, fill=self.RED if self.held_db > -0.5 else self.PEAK, width=2)
        c.create_text(x_end + 4, h / 2, text=self.text, anchor="w", fill=self.TEXT, font=("TkSmallCaptionFont",))
