"""The capture: ``parec`` on the null sink's monitor, every chunk stamped; saved and reloaded for ``--from-raw``."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np

from tools.keypress import SR
from tools.procs import SetupError, spawn, stop

__all__ = ["Capture", "chunk_lateness", "save_raw", "load_raw", "write_wav"]


class Capture:
    """``parec`` on a monitor source, read in a thread; every chunk stamped with ``time.monotonic()``.

    ``samples()`` returns ``y`` (n,) float32 and ``t`` (n,) float64: sample ``i``'s time is its
    chunk's arrival time minus the samples after it in that chunk over ``sr`` (an upper bound on when
    the sink played it: parec's capture latency is in it).
    """

    def __init__(self, env: dict, source: str, *, sr: int = SR, latency_ms: float = 5.0, log: Path | None = None):
        self.sr = sr
        self.proc = spawn(["parec", "-d", source, "--format=float32le", f"--rate={sr}", "--channels=1",
                           f"--latency-msec={latency_ms:g}", "--raw"], env=env, log=log, stdout=subprocess.PIPE)
        self._data = bytearray()
        self._marks: list[tuple[float, int]] = []  # (arrival time, samples complete after this chunk)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fd = self.proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                return
            t = time.monotonic()
            if not chunk:
                return
            self._data += chunk
            self._marks.append((t, len(self._data) // 4))

    @property
    def n(self) -> int:
        return len(self._data) // 4

    def wait_for_data(self, seconds: float = 5.0) -> None:
        deadline = time.monotonic() + seconds
        while self.n < self.sr // 20:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SetupError(f"parec delivered {self.n} samples in {seconds:g} s (exit status {self.proc.poll()})")
            time.sleep(0.02)

    def close(self) -> None:
        stop(self.proc, wait_s=2)
        self._thread.join(timeout=2)
        self.proc.stdout.close()

    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        marks = list(self._marks)
        n = marks[-1][1] if marks else 0
        y = np.frombuffer(bytes(self._data[: 4 * n]), dtype="<f4").astype(np.float32)
        t = np.empty(n, dtype=np.float64)
        start = 0
        for arrival, end in marks:
            t[start:end] = arrival - (end - 1 - np.arange(start, end)) / self.sr
            start = end
        return y, t



def chunk_lateness(t: np.ndarray, *, sr: int = SR) -> dict:
    """How late parec's chunks arrive, relative to each other: every chunk's ``arrival - samples/sr``
    above a straight line drawn under them (fitted to each second's earliest chunk, so a clock-rate
    difference is not counted). A constant capture delay does not show here; delivery jitter does."""
    if len(t) < 3 * sr:
        return {}
    r = t - np.arange(len(t)) / sr  # constant within a chunk
    ends = np.r_[np.flatnonzero(np.abs(np.diff(r)) > 1e-9), len(t) - 1]
    rr, sec = r[ends], ends // sr
    secs = np.unique(sec)
    slope, icept = np.polyfit(secs + 0.5, [rr[sec == k].min() for k in secs], 1)
    late = rr - (icept + slope * ends / sr)
    late = 1e3 * (late - late.min())
    return {"median_ms": float(np.median(late)), "p90_ms": float(np.percentile(late, 90)),
            "max_ms": float(late.max()), "clock_rate_ppm": -1e6 * float(slope)}



def save_raw(path: Path, raw: dict) -> None:
    """The capture, its sample times and the press stamps, for ``--from-raw``."""
    tmp = path.with_name(path.name + ".part.npz")
    np.savez_compressed(tmp, y=raw["y"], t=raw["t"], keys=np.array([p[0] for p in raw["presses"]]),
                        stamps=np.array([p[1:] for p in raw["presses"]], dtype=np.float64).reshape(-1, 4),
                        meta=json.dumps(raw["meta"]))
    os.replace(tmp, path)



def load_raw(path: Path) -> dict:
    with np.load(path) as f:
        presses = [(str(k), *map(float, st)) for k, st in zip(f["keys"], f["stamps"])]
        return {"y": f["y"], "t": f["t"], "presses": presses, "meta": json.loads(str(f["meta"]))}



def write_wav(path: Path, y: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".part")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.clip(y, -1, 1) * 32767).astype("<i2").tobytes())
    os.replace(tmp, path)
