"""The one guard of every PortAudio callback: on the audio thread nothing may raise, and every buffer is timed.

PortAudio calls an engine's callback on its own thread; an exception there would end the stream.
:meth:`GuardedCallbacks.guarded` runs a callback's work, and on any exception returns silence,
counts an underrun and keeps the exception's words in ``last_error``; it also smooths the work's
time over the buffer's duration into ``cpu_load``. :class:`~manne.synth.instrument.Synth` (the
instrument) and :class:`~manne.synth.transfer.LiveTransfer` (its three callbacks) are guarded by it;
each reads PortAudio's status flags itself, as what they mean differs.
"""

from __future__ import annotations

import time
from typing import Callable

__all__ = ["GuardedCallbacks", "PA_CONTINUE", "PA_INPUT_OVERFLOW", "PA_OUTPUT_UNDERFLOW"]

PA_CONTINUE = 0  # PortAudio's callback return and status flags (pyaudio.paContinue, paInputOverflow, ...)
PA_INPUT_OVERFLOW, PA_OUTPUT_UNDERFLOW = 0x2, 0x4


class GuardedCallbacks:
    """Mixin of the engines PortAudio calls; the engine sets ``sr``, ``underruns = 0``, ``cpu_load = 0.0``
    and ``last_error = None`` in its constructor."""

    sr: int
    underruns: int
    cpu_load: float
    last_error: str | None

    def guarded(self, frame_count: int, work: Callable, *args, silence: bool = True, load: bool = True):
        """``(work(*args), PA_CONTINUE)``, the return of a PyAudio callback; never raises.

        Parameters
        ----------
        frame_count : int, the buffer's samples
        work : the callback's work, returning the output bytes (``None`` for an input stream)
        silence : bool, on an exception return ``frame_count`` float32 zeros (else ``None``: an input stream)
        load : bool, count the work's time over the buffer's duration into ``cpu_load`` (smoothed over ~5 buffers)
        """
        t0 = time.perf_counter()
        try:
            data = work(*args)
        except Exception as exc:  # noqa: BLE001 - the audio thread must survive anything
            self.underruns += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            data = bytes(4 * frame_count) if silence else None
        if load:
            took = (time.perf_counter() - t0) * self.sr / max(1, frame_count)
            self.cpu_load += 0.2 * (took - self.cpu_load)
        return data, PA_CONTINUE
