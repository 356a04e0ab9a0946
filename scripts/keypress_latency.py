#!/usr/bin/env python3
"""Key-press-to-sound latency of the synth window, end to end.

    .venv/bin/python scripts/keypress_latency.py --onset change              # the synth, default command
    .venv/bin/python scripts/keypress_latency.py --onset change -- .venv/bin/manne synth --buffer 512 --device pulse
    .venv/bin/python scripts/keypress_latency.py --control --onset energy    # calibration: a bare Tk+PyAudio window
    .venv/bin/python scripts/keypress_latency.py --trials 40 --keys a,s,d --json out/latency.json
    .venv/bin/python scripts/keypress_latency.py --onset change --raw out/run.npz   # keep the capture, then
    .venv/bin/python scripts/keypress_latency.py --from-raw out/run.npz --onset change --fraction 0.1

What it does
------------
It starts its own X server (Xvfb) and its own PulseAudio daemon with a null sink as the default
sink (``--display`` / ``--pulse-server`` reuse existing ones instead), launches the synth command
given after ``--`` with ``DISPLAY`` and ``PULSE_SERVER`` pointing at them, waits for its window
(title matching ``--window-name``), gives it the X input focus and records the null sink's monitor
with ``parec --latency-msec=5``. A reader thread stamps every chunk that ``parec`` delivers with
``time.monotonic()``, so every captured sample gets a wall-clock time: the arrival time of its chunk
minus the samples after it in that chunk over ``sr``.

Each trial presses a key with ``xdotool keydown`` (stamped right before the call and right after it
returns: the press happened in between), holds it (``--hold``, 300 ms), releases it and waits
(``--gap``, 400 ms). The sound's onset is then found in the capture:

- ``--onset energy``: the first sample after the press whose 1 ms RMS (the window ending at it)
  rises ``--rise-db`` (20 dB) above the RMS of the 100 ms before the press, and above
  ``--floor-db`` (-60 dBFS). For a note that starts from silence.
- ``--onset change``: 512-sample Hann frames every 64 samples, spectra ``|X| ** 0.5``. Each frame
  is placed on the line from the mean spectrum of the 150 ms before the press (0) to the mean
  spectrum of the last 80 ms of the hold, the eventual change (1). The onset is the centre of the
  frame where that curve (smoothed over 3 frames) passes ``--fraction`` (half) of the way: the
  first crossing, fitted as a step so that a lone noisy frame does not count. A trial whose
  eventual change is under 3 standard deviations of the pre-press frames counts as "no onset".
  For a sound that is already playing and changes (the current synth's keys move a drone's pitch
  class), and also for a note from silence.

Latency is reported from the return of ``xdotool keydown --delay 0`` (the press had surely
happened) and, in brackets, from its start (~3 ms earlier); ``--press xtest`` sends the events
through libXtst in this process instead (``XTestFakeKeyEvent`` + ``XSync``), which narrows that
window to ~0.1 ms. Both are measured to the time ``parec`` delivered the onset sample, which
includes parec's own capture latency (a few ms at ``--latency-msec=5``; the output shows the
chunks' delivery jitter and PulseAudio's own estimates): an upper bound on when the sample left
the null sink. A null sink has no hardware buffer, so a real sound card adds its own output
latency on top.

Reading the figures: ``--onset change`` times the *half-way point* of a transition, so a synth
that crossfades (the current one: a 30 ms note crossfade inside 4096-sample overlap-added frames)
is charged for half of its glide; ``--fraction 0.1`` times the first clear departure instead.
``--raw`` keeps the capture and the stamps, and ``--from-raw`` analyses them again without
starting anything.

``--control`` measures, instead of the synth, a minimal window (Tk + PyAudio callback stream on
the same device with the same buffer size, no DSP) that starts a tone (``--onset energy``) or
switches a drone's pitch (``--onset change``) on the very next audio buffer after the key event:
the floor that the window system, PortAudio, PulseAudio and this measurement set together.

Every process it starts (Xvfb, pulseaudio, parec, the synth) is stopped on exit, Ctrl-C or error.
Needs: Xvfb, xdotool, pulseaudio, pactl, parec (``sudo apt-get install xvfb xdotool pulseaudio
pulseaudio-utils libasound2-plugins``) and NumPy; ``--control`` also needs PyAudio and Tk.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
APT_LINE = "sudo apt-get install xvfb xdotool pulseaudio pulseaudio-utils libasound2-plugins"
DEFAULT_COMMAND = [str(ROOT / ".venv" / "bin" / "manne"), "synth", "--buffer", "256", "--device", "pulse"]
SR = 44100
PRE_S = 0.150  # pre-press reference for --onset change (energy uses the last 100 ms of it)
END_S = 0.080  # the end of the hold: the eventual state for --onset change
N_FFT, HOP = 512, 64
CONTROL_KEYS = "awsedftgyhuj"  # the synth's keyboard: C C# D ... B


class SetupError(Exception):
    """A missing tool or a process that did not come up; the message is one line for the user."""


# ---- processes --------------------------------------------------------------------------------

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


def check_tools(names: list[str]) -> None:
    missing = [t for t in names if shutil.which(t) is None]
    if missing:
        raise SetupError(f"{', '.join(missing)} not found; install with: {APT_LINE}")


def start_xvfb(stack: contextlib.ExitStack, env: dict, logdir: Path) -> str:
    """Start Xvfb on a free display (``-displayfd``); return ``":N"``."""
    r, w = os.pipe()
    proc = spawn(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                 env=env, log=logdir / "xvfb.log", pass_fds=(w,))
    os.close(w)
    stack.callback(stop, proc)
    number = b""
    deadline = time.monotonic() + 15
    with os.fdopen(r, "rb", buffering=0) as f:
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = f.read(16)
            if not chunk:
                break
            number += chunk
    if not number.strip().isdigit():
        raise SetupError(f"Xvfb did not start ({tail(logdir / 'xvfb.log') or 'no output'})")
    return f":{int(number)}"


def start_pulse(stack: contextlib.ExitStack, env: dict, sink: str, logdir: Path) -> dict:
    """Start a private PulseAudio daemon with null sink ``sink`` as its default; return its environment."""
    runtime = Path(tempfile.mkdtemp(prefix="keypress-pulse-"))  # mode 0700
    stack.callback(shutil.rmtree, runtime, ignore_errors=True)
    penv = dict(env, XDG_RUNTIME_DIR=str(runtime), PULSE_SERVER=f"unix:{runtime}/pulse/native")
    # in the foreground (--daemonize=no): it stays this script's child, so it dies with it
    proc = spawn(["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "--log-target=stderr",
                  f"--load=module-null-sink sink_name={sink}", "--load=module-native-protocol-unix auth-anonymous=1"],
                 env=penv, log=logdir / "pulseaudio.log")

    def kill_pulse():
        if proc.poll() is None:
            subprocess.run(["pulseaudio", "-k"], env=penv, capture_output=True, timeout=10)
        stop(proc)

    stack.callback(kill_pulse)
    deadline = time.monotonic() + 10
    while subprocess.run(["pactl", "info"], env=penv, capture_output=True).returncode != 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SetupError(f"pulseaudio did not start ({tail(logdir / 'pulseaudio.log') or 'no output'})")
        time.sleep(0.05)
    subprocess.run(["pactl", "set-default-sink", sink], env=penv, check=True, capture_output=True)
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


def wait_for_window(env: dict, name: str, synth: subprocess.Popen, log: Path, timeout_s: float) -> str:
    """The X window id of the synth's visible window; fails if the synth exits first."""
    search = subprocess.Popen(["xdotool", "search", "--sync", "--onlyvisible", "--name", name], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    try:
        while search.poll() is None:
            if synth.poll() is not None:
                raise SetupError(f"the synth exited with status {synth.returncode} before its window appeared: "
                                 f"{tail(log) or 'no output'}")
            if time.monotonic() > deadline:
                raise SetupError(f"no visible window named {name!r} after {timeout_s:g} s "
                                 f"(synth log: {tail(log) or 'empty'})")
            time.sleep(0.05)
        ids = search.stdout.read().split()
    finally:
        stop(search, wait_s=1)
        search.stdout.close()
    if not ids:
        raise SetupError(f"xdotool found no window named {name!r}")
    return ids[0].decode()


def focus(env: dict, wid: str) -> None:
    """Give window ``wid`` the X input focus (no window manager under Xvfb: windowactivate would fail)."""
    subprocess.run(["xdotool", "mousemove", "--window", wid, "20", "20"], env=env, capture_output=True, timeout=10)
    subprocess.run(["xdotool", "windowfocus", "--sync", wid], env=env, capture_output=True, timeout=10)
    got = subprocess.run(["xdotool", "getwindowfocus"], env=env, capture_output=True, text=True,
                         timeout=10).stdout.strip()
    if got != wid:
        print(f"warning: the focus is on window {got}, not the synth's {wid}; key presses may not reach it",
              file=sys.stderr)


# ---- capture ----------------------------------------------------------------------------------

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


# ---- onsets -----------------------------------------------------------------------------------

def onset_energy(y: np.ndarray, *, start: int, stop: int, sr: int = SR, rise_db: float = 20.0,
                 floor_db: float = -60.0) -> int | None:
    """First sample in ``[start, stop)`` whose trailing 1 ms RMS exceeds the threshold, or None.

    The threshold is ``rise_db`` above the RMS of the 100 ms before ``start`` and at least
    ``floor_db`` dBFS.
    """
    w = max(1, sr // 1000)
    pre = y[max(0, start - sr // 10): start].astype(np.float64)
    floor = np.sqrt(np.mean(pre ** 2)) if len(pre) else 0.0
    thr = max(floor * 10 ** (rise_db / 20), 10 ** (floor_db / 20))
    lo = max(0, start - w)
    seg = y[lo:stop].astype(np.float64)
    c = np.concatenate([[0.0], np.cumsum(seg ** 2)])
    rms = np.sqrt(np.maximum(c[w:] - c[:-w], 0) / w)  # rms[k]: window ending at sample lo + k + w - 1
    ends = lo + np.arange(len(rms)) + w - 1
    hit = np.flatnonzero((rms > thr) & (ends >= start))
    return int(ends[hit[0]]) if len(hit) else None


def _spectra(y: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Compressed magnitude spectra ``|X| ** 0.5`` of 512-sample Hann frames starting at ``starts``;
    shape (len(starts), 257). The square root keeps a few strong partials from deciding alone
    (the noise-phase synth's frames scatter least this way; a log would move the half-way point
    towards partials that appear from nothing)."""
    idx = starts[:, None] + np.arange(N_FFT)[None, :]
    return np.sqrt(np.abs(np.fft.rfft(y[idx].astype(np.float64) * np.hanning(N_FFT), axis=1)))


def _step(p: np.ndarray, level: float) -> int | None:
    """The index where a 0/1 step best fits ``p > level``: the fewest frames above ``level`` before it
    plus below it from there on (the earliest such index); None if no frame is above. For a curve
    that crosses once this is the first crossing; a lone noisy frame above the level before the
    change does not count."""
    above = p > level
    if not above.any():
        return None
    cost = np.concatenate([[0], np.cumsum(above)]) + np.concatenate([np.cumsum(~above[::-1])[::-1], [0]])
    return int(np.argmin(cost[:-1]))


def onset_change(y: np.ndarray, *, start: int, stop: int, end: int, sr: int = SR,
                 fraction: float = 0.5) -> tuple[int | None, float]:
    """The frame centre in ``[start, stop)`` where the spectrum has made ``fraction`` of its change.

    Each frame's spectrum is placed on the line from the mean spectrum of the ``PRE_S`` before
    ``start`` (0) to the mean spectrum of the ``END_S`` before ``end``, the key release (1): the
    projection of its difference from the first onto the difference between the two. The curve,
    smoothed over 3 frames, is fitted with a step at ``fraction`` (:func:`_step`). Returns
    ``(sample or None, contrast)``: contrast is the eventual change over the standard deviation of
    the pre-press frames along the same line; below 3 there is no clear change (None).
    """
    pre0, end0 = start - int(PRE_S * sr), end - int(END_S * sr)
    if pre0 < 0 or end0 <= start or stop + N_FFT > len(y):
        return None, 0.0
    pre = _spectra(y, np.arange(pre0, start - N_FFT + 1, HOP))
    ref = pre.mean(axis=0)
    change = _spectra(y, np.arange(end0, end - N_FFT + 1, HOP)).mean(axis=0) - ref
    norm2 = float(change @ change)
    if norm2 == 0.0:
        return None, 0.0
    contrast = 1.0 / max(float(np.std((pre - ref) @ change / norm2)), 1e-12)
    if contrast < 3.0:
        return None, contrast
    starts = np.arange(start - N_FFT // 2, min(stop, end) - N_FFT // 2, HOP)
    p = np.convolve((_spectra(y, starts) - ref) @ change / norm2, np.ones(3) / 3, mode="same")
    k = _step(p, fraction)
    return (None if k is None else int(starts[k] + N_FFT // 2)), contrast


# ---- the measurement --------------------------------------------------------------------------

def xdotool(env: dict, *args: str) -> tuple[float, float]:
    """Run ``xdotool ARGS``; return ``time.monotonic()`` right before the call and right after it returns."""
    t0 = time.monotonic()
    res = subprocess.run(["xdotool", *args], env=env, capture_output=True)
    t1 = time.monotonic()
    if res.returncode != 0:
        raise SetupError(f"xdotool {' '.join(args)} failed: {res.stderr.decode(errors='replace').strip()}")
    return t0, t1


class XTest:
    """Key events through libXtst in this process (``--press xtest``): ``XTestFakeKeyEvent`` then
    ``XSync``, so the server has taken the event when :meth:`key` returns; the bounds are ~0.1 ms
    apart instead of xdotool's process start-up (~3 ms)."""

    def __init__(self, display: str):
        import ctypes
        import ctypes.util

        def lib(name):
            path = ctypes.util.find_library(name)
            if path is None:
                raise SetupError(f"--press xtest needs lib{name} (libx11-6, libxtst6); or use --press xdotool")
            return ctypes.CDLL(path)

        self.x11, self.xtst = lib("X11"), lib("Xtst")
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x11.XStringToKeysym.restype = ctypes.c_ulong
        self.x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
        self.x11.XKeysymToKeycode.restype = ctypes.c_ubyte
        self.x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        self.x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self.x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        self.dpy = self.x11.XOpenDisplay(display.encode())
        if not self.dpy:
            raise SetupError(f"cannot open X display {display} for --press xtest")

    def key(self, key: str, down: bool) -> tuple[float, float]:
        code = self.x11.XKeysymToKeycode(self.dpy, self.x11.XStringToKeysym(key.encode()))
        if not code:
            raise SetupError(f"no key code for {key!r} on this display")
        t0 = time.monotonic()
        self.xtst.XTestFakeKeyEvent(self.dpy, code, int(down), 0)
        self.x11.XSync(self.dpy, 0)
        return t0, time.monotonic()

    def close(self) -> None:
        if self.dpy:
            self.x11.XCloseDisplay(self.dpy)
            self.dpy = None


def buffer_of(cmd: list[str]) -> str:
    for i, a in enumerate(cmd):
        if a == "--buffer" and i + 1 < len(cmd):
            return cmd[i + 1]
        if a.startswith("--buffer="):
            return a.split("=", 1)[1]
    return "the synth's default"


def percentile(v: np.ndarray, q: float) -> float | None:
    return float(np.percentile(v, q)) if len(v) else None


def run_trials(args, cmd: list[str], stack: contextlib.ExitStack) -> dict:
    """Start everything, press the keys, record; return the capture, its sample times and the press stamps."""
    logdir = Path(tempfile.mkdtemp(prefix="keypress-logs-"))
    stack.callback(shutil.rmtree, logdir, ignore_errors=True)  # registered first: removed last
    env = dict(os.environ)
    if args.display:
        display = args.display
    else:
        display = start_xvfb(stack, env, logdir)
    env["DISPLAY"] = display
    if args.pulse_server:
        env["PULSE_SERVER"] = args.pulse_server
        check_sink(env, args.sink)
    else:
        env = start_pulse(stack, env, args.sink, logdir)
        env["DISPLAY"] = display

    synth_log = logdir / "synth.log"
    synth = spawn(cmd, env=env, log=synth_log)
    stack.callback(stop, synth, first=signal.SIGINT)  # the synth's SIGINT handler closes the window properly
    t_launch = time.monotonic()
    wid = wait_for_window(env, args.window_name, synth, synth_log, args.window_timeout)
    t_window = time.monotonic()
    focus(env, wid)

    cap = Capture(env, f"{args.sink}.monitor", latency_ms=args.parec_latency, log=logdir / "parec.log")
    stack.callback(cap.close)
    cap.wait_for_data()
    time.sleep(args.settle)
    pulse = pulse_latencies(env)
    keys = args.keys
    if args.press == "xtest":
        xtest = XTest(display)
        stack.callback(xtest.close)
        keydown, keyup = (lambda k: xtest.key(k, True)), (lambda k: xtest.key(k, False))
    else:
        # --delay 0: xdotool otherwise sleeps ~12 ms after the event, widening the press window
        keydown = lambda k: xdotool(env, "keydown", "--delay", "0", k)  # noqa: E731
        keyup = lambda k: xdotool(env, "keyup", "--delay", "0", k)  # noqa: E731
    if args.onset == "change" and len(keys) > 1:  # the synth may already be on keys[0]: start elsewhere
        keydown(keys[-1])
        time.sleep(args.hold)
        keyup(keys[-1])
        time.sleep(args.gap)

    presses = []
    for i in range(args.trials):
        key = keys[i % len(keys)]
        if synth.poll() is not None:
            raise SetupError(f"the synth exited (status {synth.returncode}) during trial {i + 1}: {tail(synth_log)}")
        down = keydown(key)
        time.sleep(max(0.0, args.hold - (time.monotonic() - down[1])))
        up = keyup(key)
        time.sleep(max(0.0, args.gap - (time.monotonic() - up[1])))
        presses.append((key, *down, *up))
        if not args.quiet:
            print(f"\rtrial {i + 1}/{args.trials}", end="", file=sys.stderr, flush=True)
    if not args.quiet:
        print(file=sys.stderr)
    time.sleep(0.2)
    cap.close()
    y, t = cap.samples()
    gaps = np.diff([m[0] for m in cap._marks])
    meta = {"command": cmd, "buffer": buffer_of(cmd), "keys": keys, "press": args.press, "hold_s": args.hold,
            "gap_s": args.gap, "parec_latency_msec": args.parec_latency,
            "parec_chunk_interval_ms_median": 1e3 * float(np.median(gaps)) if len(gaps) else None,
            "window_after_s": t_window - t_launch, "display": display, "pulse_latencies": pulse,
            "t_launch": t_launch}
    return {"y": y, "t": t, "presses": presses, "meta": meta}


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


def analyze(raw: dict, args) -> dict:
    """Find each press's onset in the capture; per-trial latencies and their summary."""
    y, t, presses, meta = raw["y"], raw["t"], raw["presses"], raw["meta"]
    t_mono = np.maximum.accumulate(t)
    index = lambda when: int(np.searchsorted(t_mono, when))  # noqa: E731  first sample stamped at/after `when`
    trials = []
    for i, (key, down0, down1, up0, up1) in enumerate(presses):
        start = index(down0)  # stamps are upper bounds: nothing before this sample followed the press
        stop_ = index(presses[i + 1][1]) if i + 1 < len(presses) else len(y) - N_FFT
        contrast = None
        if args.onset == "energy":
            k = onset_energy(y, start=start, stop=stop_, rise_db=args.rise_db, floor_db=args.floor_db)
        else:
            k, contrast = onset_change(y, start=start, stop=stop_, end=index(up0), fraction=args.fraction)
        row = {"trial": i + 1, "key": key, "press_start_s": down0 - meta["t_launch"],
               "press_end_s": down1 - meta["t_launch"], "press_window_ms": 1e3 * (down1 - down0),
               "onset_found": k is not None, "latency_ms": None, "latency_from_start_ms": None}
        if contrast is not None:
            row["contrast"] = round(min(contrast, 999.0), 1)  # 999: the pre-press frames are alike (silence)
        if k is not None:
            row["latency_ms"] = 1e3 * (t[k] - down1)
            row["latency_from_start_ms"] = 1e3 * (t[k] - down0)
        trials.append(row)

    lat = np.array([r["latency_ms"] for r in trials if r["onset_found"]])
    lat0 = np.array([r["latency_from_start_ms"] for r in trials if r["onset_found"]])
    summary = {name: {"median_ms": percentile(v, 50), "min_ms": float(v.min()) if len(v) else None,
                      "max_ms": float(v.max()) if len(v) else None, "p90_ms": percentile(v, 90)}
               for name, v in (("from_press_end", lat), ("from_press_start", lat0))}
    return {
        **{k: v for k, v in meta.items() if k != "t_launch"}, "onset": args.onset,
        "fraction": args.fraction if args.onset == "change" else None,
        "trials_run": len(trials), "no_onset": sum(not r["onset_found"] for r in trials),
        "summary": summary, "parec_chunk_lateness": chunk_lateness(t), "trials": trials,
        "note": "onset times are parec arrival times, which include parec's capture latency: each latency is an "
                "upper bound on the time to the null sink; a real sound card adds its output buffer on top",
    }


def write_wav(path: Path, y: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".part")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.clip(y, -1, 1) * 32767).astype("<i2").tobytes())
    os.replace(tmp, path)


def report(res: dict) -> None:
    fmt = lambda v: "   -  " if v is None or v != v else f"{v:6.1f}"  # noqa: E731  (None or NaN: no onset)
    head = "trial  key  press window ms  latency ms  (from press start)"
    print(head + ("  contrast" if res["onset"] == "change" else ""))
    for r in res["trials"]:
        extra = f"  {r['contrast']:8.1f}" if "contrast" in r else ""
        print(f"{r['trial']:5d}  {r['key']:>3}  {r['press_window_ms']:15.1f}  {fmt(r['latency_ms']):>10}"
              f"  ({fmt(r['latency_from_start_ms'])})" + " " * 6 + extra)
    s, s0 = res["summary"]["from_press_end"], res["summary"]["from_press_start"]
    print()
    for label, key in (("median", "median_ms"), ("min", "min_ms"), ("max", "max_ms"), ("p90", "p90_ms")):
        print(f"{label:>6}: {fmt(s[key])} ms   (from press start {fmt(s0[key])} ms)")
    print(f"command: {' '.join(res['command'])}")
    print(f"latency: from the return of the key-down call ({res['press']}) to the onset; from its start in brackets")
    onset = res["onset"] + (f" (fraction {res['fraction']:g})" if res["fraction"] else "")
    print(f"buffer: {res['buffer']}   onset: {onset}   keys: {','.join(res['keys'])}   trials: {res['trials_run']}"
          f"   no onset found: {res['no_onset']}")
    print(f"parec: --latency-msec={res['parec_latency_msec']:g}, chunks every "
          f"{res['parec_chunk_interval_ms_median']:.1f} ms (median); window up {res['window_after_s']:.1f} s "
          "after launch")
    if res["no_onset"] == res["trials_run"]:
        print("no onset in any trial: " + ("if the sound plays before the key press, try --onset change"
                                          if res["onset"] == "energy" else "check that the keys reach the window "
                                          "and change its sound (--capture WAV to listen)"))
    late = res.get("parec_chunk_lateness")
    if late:
        print(f"parec chunk lateness (jitter above the earliest chunks): median {late['median_ms']:.1f} ms, "
              f"p90 {late['p90_ms']:.1f} ms, max {late['max_ms']:.1f} ms; the capture ran "
              f"{late['clock_rate_ppm']:+.0f} ppm against time.monotonic()")
    pulse = res.get("pulse_latencies") or {}
    for key, label in (("playback", "playback stream (the command)"), ("recording", "recording stream (parec)")):
        for d in pulse.get(key, []):
            print(f"PulseAudio's estimate for the {label}: " + ", ".join(
                f"{k[:-3].replace('_', ' ')} {v:.1f} ms" for k, v in d.items()))
    print("note: " + res["note"] + ".")


# ---- the calibration control: a bare Tk + PyAudio window --------------------------------------

def control_window(argv: list[str]) -> int:
    """A minimal key-to-sound window: no DSP, the next audio buffer after a key event changes."""
    p = argparse.ArgumentParser(prog="keypress_latency.py control-window")
    p.add_argument("--buffer", type=int, default=256)
    p.add_argument("--device", default="pulse")
    p.add_argument("--sound", choices=("note", "drone"), default="note")
    a = p.parse_args(argv)
    import tkinter as tk

    import pyaudio

    state = {"freq": 220.0, "gate": a.sound == "drone", "phase": 0.0}
    harmonics = np.arange(1, 5)

    def callback(in_data, n, time_info, status):
        f, gate, ph0 = state["freq"], state["gate"], state["phase"]
        ph = ph0 + 2 * np.pi * f / SR * np.arange(1, n + 1)
        state["phase"] = float(ph[-1] % (2 * np.pi))
        y = (np.sin(ph[:, None] * harmonics) / harmonics).sum(axis=1) * 0.2 if gate else np.zeros(n)
        return y.astype(np.float32).tobytes(), pyaudio.paContinue

    pa = pyaudio.PyAudio()
    names = {pa.get_device_info_by_index(i)["name"]: i for i in range(pa.get_device_count())
             if pa.get_device_info_by_index(i)["maxOutputChannels"] > 0}
    if a.device not in names:
        print(f"control-window: no output device {a.device!r}; there are {sorted(names)}", file=sys.stderr)
        return 2
    stream = pa.open(format=pyaudio.paFloat32, channels=1, rate=SR, output=True,
                     output_device_index=names[a.device], frames_per_buffer=a.buffer, stream_callback=callback)
    root = tk.Tk(className="manne")
    root.title(f"manne control ({a.sound}, buffer {a.buffer})")
    root.geometry("360x120")
    tk.Label(root, text="keys A W S E D F T G Y H U J").pack(expand=True)

    def press(e):
        k = (e.keysym or "").lower()
        if k in CONTROL_KEYS:
            state["freq"] = 220.0 * 2 ** (CONTROL_KEYS.index(k) / 12)
            state["gate"] = True

    def release(e):
        if a.sound == "note" and (e.keysym or "").lower() in CONTROL_KEYS:
            state["gate"] = False

    root.bind("<KeyPress>", press)
    root.bind("<KeyRelease>", release)
    signal.signal(signal.SIGINT, lambda *_: root.after_idle(root.destroy))
    signal.signal(signal.SIGTERM, lambda *_: root.after_idle(root.destroy))

    def tick():  # lets Python run the signal handlers while Tk waits
        root.after(100, tick)

    tick()
    try:
        root.mainloop()
    finally:
        stream.stop_stream()
        stream.close()
        pa.terminate()
    return 0


# ---- command line -----------------------------------------------------------------------------

def parse(argv: list[str]):
    own, cmd = (argv[: argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    p = argparse.ArgumentParser(
        prog="keypress_latency.py", description="Key-press-to-sound latency of the synth window, end to end.",
        epilog="Everything after -- is the synth command (default: .venv/bin/manne synth --buffer 256 --device pulse).")
    p.add_argument("--trials", type=int, default=20, help="key presses to measure (default 20)")
    p.add_argument("--keys", help="comma-separated keys, cycled (default: a for --onset energy, a,d,g for change)")
    p.add_argument("--onset", choices=("energy", "change"), default="energy",
                   help="energy: a note from silence; change: a change of a sound that already plays (default energy)")
    p.add_argument("--press", choices=("xdotool", "xtest"), default="xdotool",
                   help="xdotool: one `xdotool keydown/keyup` process per event (default); xtest: libXtst in this "
                        "process, press time known to ~0.1 ms")
    p.add_argument("--hold", type=float, default=0.3, help="seconds each key is held (default 0.3)")
    p.add_argument("--gap", type=float, default=0.4, help="seconds after each release (default 0.4)")
    p.add_argument("--settle", type=float, default=1.5,
                   help="seconds between the window appearing and trial 1 (default 1.5)")
    p.add_argument("--fraction", type=float, default=0.5,
                   help="--onset change: fraction of the eventual change (default 0.5; 0.1: the first departure)")
    p.add_argument("--rise-db", type=float, default=20.0,
                   help="--onset energy: dB above the pre-press RMS (default 20)")
    p.add_argument("--floor-db", type=float, default=-60.0, help="--onset energy: lowest threshold, dBFS (default -60)")
    p.add_argument("--parec-latency", type=float, default=5.0, help="parec --latency-msec (default 5)")
    p.add_argument("--window-name", default="^manne ", help="xdotool --name regex of the window (default '^manne ')")
    p.add_argument("--window-timeout", type=float, default=60.0, help="seconds to wait for the window (default 60)")
    p.add_argument("--display", help="use this X display (e.g. :99) instead of starting Xvfb")
    p.add_argument("--pulse-server", help="use this PulseAudio server (e.g. unix:/run/user/1000/pulse/native) "
                                          "instead of starting one; --sink must be its default sink")
    p.add_argument("--sink", default="null",
                   help="null sink to create (or, with --pulse-server, to monitor); default null")
    p.add_argument("--control", action="store_true",
                   help="calibration: measure a bare Tk+PyAudio window (tone on key press, or a drone's pitch with "
                        "--onset change) with the --buffer of the command, instead of the synth")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the figures to OUT as JSON")
    p.add_argument("--capture", type=Path, metavar="WAV", help="also write the captured audio (16-bit WAV)")
    p.add_argument("--raw", type=Path, metavar="NPZ", help="also save the capture, its sample times and the press "
                                                          "stamps, for --from-raw")
    p.add_argument("--from-raw", type=Path, metavar="NPZ", help="start nothing: analyse a capture saved with --raw "
                                                               "again (e.g. with another --onset or --fraction)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    args = p.parse_args(own)
    if args.trials < 1:
        p.error(f"--trials={args.trials} must be at least 1")
    if not 0 < args.fraction < 1:
        p.error(f"--fraction={args.fraction} must be between 0 and 1")
    if args.hold < 2 * END_S or args.gap < 0.1:
        p.error(f"--hold={args.hold} must be at least {2 * END_S:g} s and --gap={args.gap} at least 0.1 s")
    if args.hold + args.gap < PRE_S + 0.2:
        p.error(f"--hold + --gap must be at least {PRE_S + 0.2:g} s (the pre-press reference needs quiet time)")
    keys = args.keys.split(",") if args.keys else (["a"] if args.onset == "energy" else ["a", "d", "g"])
    args.keys = [k.strip() for k in keys if k.strip()]
    if not args.keys:
        p.error("--keys names no key")
    if args.onset == "change" and len(set(args.keys)) == 1:
        print("warning: --onset change with one key: if a press only changes pitch, pressing the same key again "
              "changes nothing (give --keys a,d,g)", file=sys.stderr)
    if args.from_raw is not None and not args.from_raw.is_file():
        p.error(f"--from-raw {args.from_raw}: no such file")
    for path in (args.json, args.capture, args.raw):
        if path is not None and not path.parent.is_dir():
            p.error(f"{path}: folder {path.parent} does not exist")
    cmd = cmd or list(DEFAULT_COMMAND)
    if args.control:
        buffer = buffer_of(cmd)
        cmd = [sys.executable, str(Path(__file__).resolve()), "control-window",
               "--buffer", buffer if buffer.isdigit() else "512",
               "--sound", "note" if args.onset == "energy" else "drone"]
    return args, cmd


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["control-window"]:
        return control_window(argv[1:])
    args, cmd = parse(argv)
    exe = cmd[0]
    runnable = shutil.which(exe) is not None or (os.path.isfile(exe) and os.access(exe, os.X_OK))
    if args.from_raw is None and not runnable:
        print(f"keypress_latency: error: the synth command {exe!r} is not an executable file or on PATH",
              file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored (a background job)
    signal.signal(signal.SIGTERM, _interrupt)  # clean up as on Ctrl-C
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        if args.from_raw is not None:
            raw = load_raw(args.from_raw)
        else:
            check_tools(["xdotool", "pactl", "parec"] + ([] if args.display else ["Xvfb"])
                        + ([] if args.pulse_server else ["pulseaudio"]))
            with contextlib.ExitStack() as stack:
                raw = run_trials(args, cmd, stack)
            if args.capture:
                write_wav(args.capture, raw["y"])
            if args.raw:
                save_raw(args.raw, raw)
        res = analyze(raw, args)
    except SetupError as exc:
        print(f"keypress_latency: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nkeypress_latency: interrupted; every process it started is stopped", file=sys.stderr)
        return 130
    report(res)
    if args.json:
        tmp = args.json.with_name(args.json.name + ".part")
        tmp.write_text(json.dumps(res, indent=2) + "\n")
        os.replace(tmp, args.json)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
