"""A piano keyboard on a Tk canvas: click or drag to play, held notes lit, octave shifts.

The widget knows notes, not the synth: it calls ``on_press(note)`` and ``on_release(note)`` and
draws what :meth:`PianoKeyboard.show_held` tells it is held (by the mouse, the computer keys, MIDI
or OSC alike).
"""

from __future__ import annotations

import tkinter as tk
from typing import Callable, Iterable

__all__ = ["PianoKeyboard", "WHITE_CLASSES", "BLACK_CLASSES"]

WHITE_CLASSES = (0, 2, 4, 5, 7, 9, 11)
BLACK_CLASSES = (1, 3, 6, 8, 10)
# a black key sits on the line after this white key (index within the octave's 7)
_BLACK_AFTER = {1: 0, 3: 1, 6: 3, 8: 4, 10: 5}


class PianoKeyboard:
    """Keys from MIDI note ``low`` for ``octaves`` octaves (plus the top C).

    Parameters
    ----------
    parent : the containing widget
    on_press, on_release : callables taking a MIDI note number
    low : lowest note, a C (MIDI number, C4 = 60)
    octaves : octaves shown (at least 2)
    absent : pitch classes the model never heard (drawn dimmed)
    """

    WHITE, WHITE_HELD, BLACK, BLACK_HELD = "#f4f4f2", "#5ec8ff", "#23262c", "#2f8fd0"
    WHITE_ABSENT, BLACK_ABSENT = "#c4c8cf", "#50565f"  # dimmed: a pitch class the model never heard
    OUTLINE, LABEL, BG = "#8a8f98", "#6b717c", "#15181d"

    def __init__(self, parent: tk.Widget, *, on_press: Callable[[int], None], on_release: Callable[[int], None],
                 low: int = 48, octaves: int = 2, absent: Iterable[int] = (), width: int = 560, height: int = 110):
        self.on_press, self.on_release = on_press, on_release
        self.octaves = max(2, int(octaves))
        self.low = int(low) - int(low) % 12
        self.absent = set(int(c) % 12 for c in absent)
        self.held: set[int] = set()
        self._mouse_note: int | None = None
        self.canvas = tk.Canvas(parent, width=width, height=height, background=self.BG, highlightthickness=0,
                                borderwidth=0, cursor="hand2")
        self.canvas.bind("<Configure>", lambda e: self.draw())
        self.canvas.bind("<ButtonPress-1>", self._down)
        self.canvas.bind("<B1-Motion>", self._drag)
        self.canvas.bind("<ButtonRelease-1>", self._up)
        self.draw()

    @property
    def notes(self) -> range:
        """The MIDI notes shown, lowest first."""
        return range(self.low, self.low + 12 * self.octaves + 1)

    def set_low(self, low: int) -> None:
        """Show the keyboard from C ``low`` (an octave shift)."""
        self.low = int(low) - int(low) % 12
        self.draw()

    def set_absent(self, classes: Iterable[int]) -> None:
        self.absent = set(int(c) % 12 for c in classes)
        self.draw()

    def key_box(self, note: int) -> tuple[float, float, float, float]:
        """Canvas rectangle (x0, y0, x1, y1) of ``note``'s key."""
        w, h = self._size()
        n_white = 7 * self.octaves + 1
        kw = w / n_white
        octave, pc = divmod(note - self.low, 12)
        if pc in WHITE_CLASSES:
            x0 = (7 * octave + WHITE_CLASSES.index(pc)) * kw
            return x0, 0.0, x0 + kw, h - 1.0
        x = (7 * octave + _BLACK_AFTER[pc] + 1) * kw
        return x - 0.3 * kw, 0.0, x + 0.3 * kw, 0.62 * h

    def note_at(self, x: float, y: float) -> int | None:
        """The note under canvas point (x, y): black keys first, as they lie on top."""
        for note in self.notes:
            if note % 12 in BLACK_CLASSES:
                x0, y0, x1, y1 = self.key_box(note)
                if x0 <= x <= x1 and y0 <= y <= y1:
                    return note
        for note in self.notes:
            if note % 12 in WHITE_CLASSES:
                x0, y0, x1, y1 = self.key_box(note)
                if x0 <= x < x1 and y0 <= y <= y1:
                    return note
        return None

    def _size(self) -> tuple[int, int]:
        c = self.canvas
        w, h = c.winfo_width(), c.winfo_height()
        if w <= 1:
            w, h = int(c.cget("width")), int(c.cget("height"))
        return w, h

    def draw(self) -> None:
        c = self.canvas
        c.delete("all")
        _, h = self._size()
        for black in (False, True):
            for note in self.notes:
                pc = note % 12
                if (pc in BLACK_CLASSES) != black:
                    continue
                x0, y0, x1, y1 = self.key_box(note)
                c.create_rectangle(x0, y0, x1, y1, fill=self.fill(note), outline=self.OUTLINE, tags=(f"k{note}", "key"))
                if pc == 0:
                    c.create_text((x0 + x1) / 2, h - 14, text=f"C{note // 12 - 1}", fill=self.LABEL,
                                  font=("TkSmallCaptionFont",), tags=(f"l{note}",))

    def show_held(self, notes: Iterable[int]) -> None:
        """Light exactly ``notes`` (cheap when nothing changed)."""
        notes = set(int(n) for n in notes)
        if notes == self.held:
            return
        changed = notes ^ self.held
        self.held = notes
        for note in changed:
            if note in self.notes:
                self.canvas.itemconfigure(f"k{note}", fill=self.fill(note))

    def fill(self, note: int) -> str:
        """The colour of ``note``'s key: lit when held, dimmed when the model never heard its class."""
        black = note % 12 in BLACK_CLASSES
        if note in self.held:
            return self.BLACK_HELD if black else self.WHITE_HELD
        if note % 12 in self.absent:
            return self.BLACK_ABSENT if black else self.WHITE_ABSENT
        return self.BLACK if black else self.WHITE

    # ---- mouse ------------------------------------------------------------------------------
    def _down(self, event) -> None:
        note = self.note_at(event.x, event.y)
        if note is not None:
            self._mouse_note = note
            self.on_press(note)

    def _drag(self, event) -> None:
        note = self.note_at(event.x, event.y)
        if note != self._mouse_note:  # a glissando: release the old key, press the new one
            if self._mouse_note is not None:
                self.on_release(self._mouse_note)
            self._mouse_note = note
            if note is not None:
                self.on_press(note)

    def _up(self, _event) -> None:
        if self._mouse_note is not None:
            self.on_release(self._mouse_note)
            self._mouse_note = None

