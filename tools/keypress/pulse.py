"""A private PulseAudio daemon with a null sink (or a check of an existing one), and PulseAudio's own latency figures."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.procs import SetupError, spawn, stop, tail
from tools.pulse import null_sink, private_env, set_default_sink, wait_for_server

__all__ = ["start_pulse", "check_sink", "pulse_latencies"]


def start_pulse(stack: contextlib.ExitStack, env: dict, sink: str, logdir: Path) -> dict:
    """Start a private PulseAudio daemon with null sink ``sink`` as its default; return its environment."""
    runtime = Path(tempfile.mkdtemp(prefix="keypress-pulse-"))  # mode 0700
    stack.callback(shutil.rmtree, runtime, ignore_errors=True)
    penv = private_env(runtime, env)
    # in the foreground (--daemonize=no): it stays this script's child, so it dies with it
    proc = spawn(["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "--log-target=stderr", *null_sink(sink)],
                 env=penv, log=logdir / "pulseaudio.log")

    def kill_pulse():
        if proc.poll() is None:
            subprocess.run(["pulseaudio", "-k"], env=penv, capture_output=True, timeout=10)
        stop(proc)

    stack.callback(kill_pulse)
    if not wait_for_server(penv, alive=lambda: proc.poll() is None):
        raise SetupError(f"pulseaudio did not start ({tail(logdir / 'pulseaudio.log') or 'no output'})")
    set_default_sink(penv, sink)
    return penv



def check_sink(env: dict, sink: str) -> None:
    res = subprocess.run(["pactl", "list", "short", "sinks"], env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise SetupError(f"pactl cannot reach the PulseAudio server {env.get('PULSE_SERVER')!r}: "
                         f"{res.stderr.strip()}")
    names = [line.split("\t")[1] for line in res.stdout.splitlines() if "\t" in line]
    if sink not in names:
        raise SetupError(f"the PulseAudio server has no sink {sink!r}; --sink names one of: {', '.join(names)}")
    default = subprocess.run(["pactl", "get-default-sink"], env=env, capture_output=True, text=True).stdout.strip()
    if default and default != sink:
        print(f"warning: the default sink is {default!r}, not {sink!r}: the synth may play elsewhere", file=sys.stderr)



def pulse_latencies(env: dict) -> dict:
    """PulseAudio's own estimates, ms: each playback stream's buffer and sink latency, each recording's."""
    out = {}
    for kind, key in (("sink-inputs", "playback"), ("source-outputs", "recording")):
        text = subprocess.run(["pactl", "list", kind], env=env, capture_output=True, text=True).stdout
        for block in text.split("\n\n"):
            fields = re.findall(r"^\s*(Buffer Latency|Sink Latency|Source Latency): (\d+) usec", block, re.M)
            if fields:
                out.setdefault(key, []).append({k.lower().replace(" ", "_") + "_ms": int(v) / 1e3 for k, v in fields})
    return out
