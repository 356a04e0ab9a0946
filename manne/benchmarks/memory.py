"""Peak anonymous memory of a command and the processes it starts, sampled from ``/proc``.

``RssAnon`` (``/proc/PID/status``) is the memory a process owns: its heap, arrays, TensorFlow's
buffers. The file-backed pages of a memory-mapped corpus (``RssFile``) are the page cache's, which
the kernel drops under pressure, so they are not counted. Linux only.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

__all__ = ["rss_anon_mb", "run_measured"]


def rss_anon_mb(pid: int) -> float:
    """``RssAnon`` of process ``pid`` in MB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = [int(c) for t in os.listdir(f"/proc/{p}/task")
                    for c in Path(f"/proc/{p}/task/{t}/children").read_text().split()]
        except (OSError, ValueError):
            kids = []
        out += kids
        todo += kids
    return out


def run_measured(cmd: list[str], *, every: float = 0.05, env: dict | None = None) -> dict:
    """Run ``cmd``; its wall, user and system seconds and the peak ``RssAnon`` of it and its children.

    Returns
    -------
    dict with ``returncode``, ``wall_s``, ``user_s``, ``system_s``, ``peak_anon_mb`` (the largest sum
    over the process and its descendants at one sample), ``stdout``, ``stderr``
    """
    t0, c0 = time.perf_counter(), os.times()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0.0
    import threading

    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, sum(rss_anon_mb(p) for p in [proc.pid, *_children(proc.pid)]))
            done.wait(every)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    done.set()
    th.join()
    wall, c1 = time.perf_counter() - t0, os.times()  # (communicate reaped it: its times are the children's)
    return {"returncode": proc.returncode, "wall_s": wall, "user_s": c1.children_user - c0.children_user,
            "system_s": c1.children_system - c0.children_system, "peak_anon_mb": peak, "stdout": out, "stderr": err}
