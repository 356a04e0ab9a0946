"""The processes a measurement tool starts, and the one kind of error it tells its user.

Every process runs in its own session (Ctrl-C in the terminal reaches only the tool, which stops
them in order) and gets SIGTERM if the tool dies, even by SIGKILL (Linux). Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

__all__ = ["SetupError", "spawn", "stop", "tail", "check_tools"]


class SetupError(Exception):
    """A missing tool or a process that did not come up; the message is one line for the user."""


def _die_with_parent() -> None:
    """In the child: get SIGTERM when this script dies, even by SIGKILL (Linux only)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass



def spawn(cmd: list[str], *, env: dict, log: Path | None = None, **kw) -> subprocess.Popen:
    """Start ``cmd`` in its own session (Ctrl-C in the terminal reaches only this script)."""
    out = open(log, "ab") if log is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=kw.pop("stdout", out),
                                stderr=out, start_new_session=True, preexec_fn=_die_with_parent, **kw)
    finally:
        if log is not None:
            out.close()



def stop(proc: subprocess.Popen | None, *, first=signal.SIGTERM, wait_s: float = 3.0) -> None:
    """Stop a process this script started (its own process group): ``first``, then SIGTERM, then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    for sig in dict.fromkeys((first, signal.SIGTERM, signal.SIGKILL)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue



def tail(path: Path, n: int = 6) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(lines[-n:])


def check_tools(names: list[str], *, install: str) -> None:
    """Raise :class:`SetupError` naming the programs of ``names`` not on ``PATH``, and the ``install`` line."""
    missing = [t for t in names if shutil.which(t) is None]
    if missing:
        raise SetupError(f"{', '.join(missing)} not found; install with: {install}")
