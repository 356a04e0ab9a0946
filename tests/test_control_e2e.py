"""``manne synth --osc --midi`` in its own process, heard: an OSC note and a MIDI note through a JACK virtual
port, played on the bundled model into a PulseAudio null sink and captured with ``parec``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest

mido = pytest.importorskip("mido", reason="the test extra installs mido: pip install -e '.[test]'")
pytest.importorskip("pythonosc", reason="the test extra installs python-osc: pip install -e '.[test]'")
from pythonosc.udp_client import SimpleUDPClient  # noqa: E402

SR = 44100


def pitch_near(y: np.ndarray, hz: float) -> float:
    """The spectral peak within 3 % of ``hz``, in cents from it; asserts the partial is present."""
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    f = np.fft.rfftfreq(len(y), 1 / SR)
    near = np.abs(f - hz) < 0.03 * hz
    assert spec[near].max() > 0.05 * spec.max(), f"{hz} Hz missing"
    return 1200 * np.log2(f[near][np.argmax(spec[near])] / hz)


def test_osc_and_midi_play_the_synth_command(xvfb, pulse_null_sink, pulse_device, jack_server, tmp_path):
    env = {**os.environ, "DISPLAY": xvfb}
    capture = tmp_path / "capture.f32"
    rec = subprocess.Popen(["parec", "-d", "null.monitor", "--format=float32le", f"--rate={SR}", "--channels=1",
                            "--latency-msec=20", str(capture)], env=pulse_null_sink, stderr=subprocess.PIPE)
    proc = subprocess.Popen([sys.executable, "-m", "manne.cli", "synth", "--device", pulse_device, "--buffer", "1024",
                             "--osc", "0", "--midi", "virtual", "--midi-api", "jack"],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(2)]
        assert lines[0].startswith("manne synth: MIDI in: virtual port 'manne' (JACK)"), (lines, proc.stderr.read())
        port = int(re.search(r"OSC in: udp 127\.0\.0\.1:(\d+)", lines[1]).group(1))
        found = subprocess.run(["xdotool", "search", "--sync", "--name", "^manne .+ default$"],
                               capture_output=True, text=True, timeout=60)
        assert found.returncode == 0, found.stderr
        time.sleep(1.0)
        osc = SimpleUDPClient("127.0.0.1", port)
        osc.send_message("/manne/note_on", [69, 110])  # A4
        time.sleep(1.0)
        osc.send_message("/manne/note_off", [69])
        time.sleep(0.8)
        backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK")
        with backend.open_output(next(n for n in backend.get_output_names() if n.endswith(":manne"))) as out:
            out.send(mido.Message("note_on", note=76, velocity=110))  # E5
            time.sleep(1.0)
            out.send(mido.Message("note_off", note=76))
            time.sleep(0.8)
        subprocess.run(["xdotool", "windowfocus", "--sync", found.stdout.split()[0], "key", "ctrl+q"],
                       timeout=20, check=True)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        rec.terminate()
        rec.communicate(timeout=10)
    assert proc.returncode == 0, err
    y = np.fromfile(capture, dtype=np.float32)
    frame = 2205  # 50 ms
    rms = np.sqrt(np.mean(y[: len(y) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    on = rms > 1e-3
    starts = np.flatnonzero(on[1:] & ~on[:-1]) + 1
    later = starts[starts > starts[0] + 24]  # the MIDI note starts 1.8 s after the OSC one (1.2 s: margin)
    assert len(starts) and len(later), f"expected two notes, heard onsets at {starts * 0.05} s"
    a4 = y[starts[0] * frame + SR // 4 : starts[0] * frame + 3 * SR // 4]
    e5 = y[later[0] * frame + SR // 4 : later[0] * frame + 3 * SR // 4]
    assert abs(pitch_near(a4, 440.0)) < 10
    assert abs(pitch_near(e5, 659.26)) < 10
