"""A private PulseAudio daemon for the tests and the measuring tools: its environment, its null sink,
starting it and waiting until it answers. One implementation for ``tests/conftest.py``, the soak,
the key-press and the transfer-latency tools.

Standard library only.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Callable

from tools.procs import SetupError

__all__ = ["PROTOCOL", "private_env", "null_sink", "start_daemon", "wait_for_server", "set_default_sink"]

PROTOCOL = "--load=module-native-protocol-unix auth-anonymous=1"  # clients of any user may connect
ANSWER_S = 10.0  # how long a started daemon may take to answer `pactl info`


def private_env(runtime: str | os.PathLike, base: dict | None = None) -> dict:
    """``base`` (default ``os.environ``) with a daemon's own ``XDG_RUNTIME_DIR`` and ``PULSE_SERVER``."""
    return {**(os.environ if base is None else base), "XDG_RUNTIME_DIR": str(runtime),
            "PULSE_SERVER": f"unix:{Path(runtime)}/pulse/native"}


def null_sink(sink: str = "null") -> list[str]:
    """The daemon arguments of a null sink named ``sink`` and the client protocol."""
    return [f"--load=module-null-sink sink_name={sink}", PROTOCOL]


def wait_for_server(env: dict, *, timeout: float = ANSWER_S, alive: Callable[[], bool] | None = None) -> bool:
    """Whether the daemon of ``env`` answers ``pactl info`` within ``timeout`` s (False at once when
    ``alive`` says its process has ended)."""
    deadline = time.monotonic() + timeout
    while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
        if (alive is not None and not alive()) or time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def start_daemon(env: dict, modules: list[str]) -> None:
    """Start a daemon in the background (``--daemonize=yes``) with ``modules`` and wait until it answers.

    Raises
    ------
    SetupError
        If it does not start (its error output in the message) or does not answer within ``ANSWER_S``.
    """
    res = subprocess.run(["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n", *modules],
                         env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise SetupError(f"pulseaudio did not start: {res.stderr.strip()}")
    if not wait_for_server(env):
        raise SetupError(f"pulseaudio started but does not answer `pactl info` within {ANSWER_S:g} s")


def set_default_sink(env: dict, sink: str) -> None:
    """Make ``sink`` the default sink of the daemon of ``env``."""
    subprocess.run(["pactl", "set-default-sink", sink], env=env, check=True, capture_output=True)
