"""What the soak runs beside the synth: a private PulseAudio null sink and JACK server, the engine as
PortAudio sees it (every callback timed) and the CPU seconds of a process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np

from tools.procs import SetupError
from tools.pulse import null_sink, private_env, set_default_sink, start_daemon

__all__ = ["start_pulse", "start_jack", "cpu_seconds", "TimedEngine"]


def start_pulse(tmp: Path) -> dict:
    """A private PulseAudio daemon whose default sink is a null sink; returns its environment."""
    for tool in ("pulseaudio", "pactl"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: install pulseaudio pulseaudio-utils libasound2-plugins, or pass --device")
    runtime = tmp / "pulse-rt"
    runtime.mkdir(mode=0o700)
    env = private_env(runtime)
    try:
        start_daemon(env, null_sink())
    except SetupError as exc:
        sys.exit(str(exc))
    set_default_sink(env, "null")
    os.environ.update({k: env[k] for k in ("XDG_RUNTIME_DIR", "PULSE_SERVER")})
    return env



def start_jack():
    """A private JACK server with the dummy driver, or None without jackd."""
    exe = shutil.which("jackd")
    if exe is None:
        return None
    name = f"manne-soak-{uuid.uuid4().hex[:6]}"
    proc = subprocess.Popen([exe, "--no-realtime", "-n", name, "-d", "dummy", "-r", "44100", "-p", "1024"],
                            env={**os.environ, "JACK_NO_AUDIO_RESERVATION": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["JACK_DEFAULT_SERVER"] = name
    os.environ["JACK_NO_START_SERVER"] = "1"
    import rtmidi

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            rtmidi.MidiIn(rtmidi.API_UNIX_JACK).delete()
            return proc
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.1)
    proc.kill()
    return None



def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")



class TimedEngine:
    """The engine as PortAudio sees it, timing every callback into preallocated arrays."""

    def __init__(self, engine, n_max: int, *, rt: bool = False):
        self.engine, self.sr = engine, engine.sr
        self.rt, self.rt_result = rt, "off"
        self.took = np.zeros(n_max)
        self.start = np.zeros(n_max)
        self.n = 0

    def callback(self, in_data, frame_count, time_info, status):
        if self.rt:  # once, on PortAudio's callback thread: real-time FIFO scheduling (root or CAP_SYS_NICE)
            self.rt = False
            try:
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(70))
                self.rt_result = "SCHED_FIFO 70"
            except OSError as exc:
                self.rt_result = f"refused: {exc}"
        t0 = time.perf_counter()
        out = self.engine.callback(in_data, frame_count, time_info, status)
        if self.n < len(self.took):
            self.start[self.n], self.took[self.n] = t0, time.perf_counter() - t0
            self.n += 1
        return out
