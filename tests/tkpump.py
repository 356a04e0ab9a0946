"""Helpers for the window tests: run the Tk loop, and read the notes the audio side holds."""

from __future__ import annotations

import time


def pump(win, seconds: float = 0.2) -> None:
    """Run the Tk loop for ``seconds`` (events, idle tasks and after() callbacks)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        win.root.update()
        time.sleep(0.01)


def held(engine) -> list[int]:
    """The MIDI notes held after the audio side has taken the queued events (one block)."""
    engine.process(engine.block)
    return sorted(v.note for v in engine.bank.held())
