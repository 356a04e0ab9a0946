"""Recording what is played: the audio thread appends blocks, the control thread writes the take.

The audio thread only appends each block it outputs to a list (``list.append`` is atomic in
CPython; no lock, no I/O). :meth:`Recorder.stop` runs on the control thread: it takes the list,
fades the take's first and last ``fade_s`` seconds (a take that starts or ends mid-waveform would
click; 5 ms by default) and writes it as a WAV file atomically. If the write fails, the take is
kept and the recording goes on, so the musician can retry or choose another place.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from manne.errors import OutputExistsError
from manne.io.audio import write_wav

__all__ = ["Recorder", "EDGE_FADE_S"]

EDGE_FADE_S = 0.005  # the take fades in and out over this long


class Recorder:
    """Blocks collected from the audio thread and written as a WAV on :meth:`stop`.

    Parameters
    ----------
    sr : int
    fade_s : float
        The take fades in and out over this long (0: written as played).
    """

    def __init__(self, sr: int, *, fade_s: float = EDGE_FADE_S):
        self.sr = int(sr)
        self.fade_s = float(fade_s)
        self._blocks: list[np.ndarray] | None = None
        self._path: Path | None = None

    # control thread
    def start(self, path: str | os.PathLike, *, force: bool = False) -> None:
        """Start collecting; :meth:`stop` writes to ``path``.

        Raises
        ------
        OutputExistsError
            If ``path`` exists and ``force`` is false (checked now, not at the end).
        """
        p = Path(path)
        if p.exists() and not force:
            raise OutputExistsError(f"{p} exists; choose another name or overwrite it")
        self._path = p
        self._blocks = []

    @property
    def active(self) -> bool:
        return self._blocks is not None

    @property
    def seconds(self) -> float:
        blocks = self._blocks
        return 0.0 if blocks is None else sum(len(b) for b in list(blocks)) / self.sr

    def stop(self) -> Path | None:
        """Stop and write the take (faded at both ends over ``fade_s``), atomically; an existing file is replaced
        (:meth:`start` checked it).

        Returns
        -------
        path : Path or None
            The file written, or None if no recording was running.
        """
        blocks, self._blocks = self._blocks, None
        if blocks is None:
            return None
        taken = list(blocks)
        y = np.concatenate(taken) if taken else np.zeros(0, dtype=np.float32)
        n = min(len(y) // 2, int(self.fade_s * self.sr))
        if n:
            ramp = (np.arange(1, n + 1, dtype=np.float32) / n)
            y[:n] *= ramp
            y[-n:] *= ramp[::-1]
        try:
            return write_wav(self._path, y, sr=self.sr, force=True)
        except Exception:
            self._blocks = blocks  # keep the take (recording goes on) so the user can retry or save elsewhere
            raise

    # audio thread
    def add(self, y: np.ndarray) -> None:
        """Keep a copy of an output block (called from the audio thread; never blocks)."""
        blocks = self._blocks
        if blocks is not None:
            blocks.append(y.copy())
