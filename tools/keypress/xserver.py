"""The X side of the key-press measurement: a private Xvfb, the synth's window and its focus, key presses."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from tools.procs import SetupError, spawn, stop, tail

__all__ = ["start_xvfb", "wait_for_window", "focus", "xdotool", "XTest"]


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
