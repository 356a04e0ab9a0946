"""The calibration control (``--control``): a bare Tk + PyAudio window, no DSP, whose next audio buffer
after a key event changes: the floor that the window system, PortAudio, PulseAudio and the measurement set."""

from __future__ import annotations

import argparse
import signal
import sys

import numpy as np

from tools.keypress import SR

__all__ = ["control_window", "CONTROL_KEYS"]

CONTROL_KEYS = "awsedftgyhuj"  # the synth's keyboard: C C# D ... B


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
