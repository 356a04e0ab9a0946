"""Audio output: device selection, clear errors, and a real stream through PulseAudio's null sink.

The real-stream tests use the session fixtures ``pulse_null_sink`` and ``pulse_device`` of
``conftest.py``: a private PulseAudio daemon (its own ``XDG_RUNTIME_DIR``) with a null sink. They
play the tiny model through PortAudio's ALSA ``pulse`` device and record the sink's monitor with
``parec``. They need the ``pulseaudio`` and ``pulseaudio-utils`` packages (``bash
scripts/setup.sh test`` installs them) and fail, rather than skip, without them.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from manne.cli import main
from manne.errors import AudioDeviceError, ParameterError
from manne.model.forward import Autoencoder
from manne.synth.instrument import Synth
from manne.synth.stream import AudioOut, list_output_devices, resolve_device

SR = 44100
DEVICES = [
    {"index": 0, "name": "HDA Intel PCH: ALC3246 Analog (hw:0,0)", "host_api": "ALSA", "channels": 2, "default_rate": 44100.0, "default": False},
    {"index": 3, "name": "pulse", "host_api": "ALSA", "channels": 32, "default_rate": 44100.0, "default": False},
    {"index": 4, "name": "default", "host_api": "ALSA", "channels": 32, "default_rate": 44100.0, "default": True},
]


@pytest.fixture(scope="module")
def engine_factory(tiny_model):
    ae = Autoencoder.load(tiny_model)

    def make(**kw):
        e = Synth(ae, hold=True, **kw)  # a drone: one note held for the whole test
        e.set_z([0.3, 0.6])
        e.note_on(64, 100)
        return e

    return make


# ---- without a sound server ---------------------------------------------------------------------

def test_resolve_device_by_default_index_and_name():
    assert resolve_device(DEVICES, None)["index"] == 4
    assert resolve_device(DEVICES, 3)["name"] == "pulse"
    assert resolve_device(DEVICES, "3")["name"] == "pulse"
    assert resolve_device(DEVICES, "PULSE")["index"] == 3  # exact, case-insensitive
    assert resolve_device(DEVICES, "alc3246")["index"] == 0  # substring
    with pytest.raises(AudioDeviceError, match="device 7 is not an output device; the output devices are 0: HDA"):
        resolve_device(DEVICES, 7)
    with pytest.raises(AudioDeviceError, match="no output device matches 'usb'"):
        resolve_device(DEVICES, "usb")
    with pytest.raises(AudioDeviceError, match="no audio output: PortAudio finds no output device"):
        resolve_device([], None)


def test_buffer_size_is_checked_first(engine_factory):
    for bad in (128, 4096, 512.0, True):
        with pytest.raises(ParameterError, match=rf"buffer={bad} must be from 256 to 2048 frames \(an integer\)"):
            AudioOut(engine_factory(), buffer=bad)


def test_missing_pyaudio_says_how_to_install_it(engine_factory, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyaudio", None)  # makes `import pyaudio` raise ImportError
    with pytest.raises(AudioDeviceError) as info:
        AudioOut(engine_factory())
    msg = str(info.value)
    assert msg.startswith("no audio output: PyAudio is not installed")
    assert "sudo apt-get install portaudio19-dev && .venv/bin/pip install pyaudio" in msg
    assert "brew install portaudio" in msg
    assert main(["devices"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("manne devices: error: no audio output: PyAudio is not installed")


def test_audio_device_error_default_message():
    assert str(AudioDeviceError()).startswith("no audio output: install PortAudio and PyAudio")


# ---- a real stream ----------------------------------------------------------------------------

def test_devices_command_lists_pulse(pulse_null_sink, capsys):
    devices = list_output_devices()
    assert any(d["name"] in ("pulse", "default") for d in devices)
    assert sum(d["default"] for d in devices) == 1
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "output devices (* = default)" in out
    assert any(line.lstrip().startswith("*") for line in out.splitlines()[1:])


def test_real_stream_on_pulseaudio(pulse_null_sink, pulse_device, engine_factory, tmp_path):
    device = pulse_device
    capture = tmp_path / "capture.f32"
    rec = subprocess.Popen(["parec", "-d", "null.monitor", "--format=float32le", f"--rate={SR}", "--channels=1",
                            "--latency-msec=20", str(capture)], env=pulse_null_sink, stderr=subprocess.PIPE)
    engine = engine_factory(volume=0.8)
    try:
        time.sleep(0.5)  # parec is connected before the first sample plays
        # 2048 frames (46 ms per buffer): a 2-core machine shared with other jobs needs the margin
        with AudioOut(engine, device=device, buffer=2048) as out:
            assert out.active and out.device["name"] == device
            time.sleep(5.0)
        assert not out.active
        time.sleep(0.3)
    finally:
        rec.terminate()
        _, err = rec.communicate(timeout=10)
    assert engine.underruns == 0, f"{engine.underruns} underruns (last error: {engine.last_error})"
    assert engine.last_error is None
    assert engine.cpu_load < 0.5

    y = np.fromfile(capture, dtype=np.float32)
    loud = np.flatnonzero(np.abs(y) > 1e-4)
    assert len(loud), f"the capture is silent ({len(y) / SR:.1f} s recorded; parec said: {err.decode().strip()})"
    y = y[loud[0] : loud[-1]]
    assert len(y) > 3 * SR, f"only {len(y) / SR:.2f} s of sound in the capture"
    body = y[int(0.2 * SR) : -int(0.2 * SR)]  # away from the start and stop
    silent_ms = 1e3 * np.sum(np.abs(body) < 1e-6) / SR
    assert silent_ms < 50, f"{silent_ms:.0f} ms of dropouts in the capture"

    ref = engine_factory(volume=0.8).render(5.0)[4096:]

    def db(v):
        return 20 * np.log10(np.sqrt(np.mean(np.asarray(v, np.float64) ** 2)))

    assert abs(db(body) - db(ref)) < 3.0, f"captured {db(body):.1f} dBFS, engine.render {db(ref):.1f} dBFS"


def test_stop_start_close(pulse_device, engine_factory):
    engine = engine_factory()
    out = AudioOut(engine, device=pulse_device, buffer=2048)
    assert not out.active and out.latency is None
    out.start()
    time.sleep(0.3)
    assert out.active and out.latency > 0
    out.stop()
    assert not out.active
    out.start()
    assert out.active
    out.close()
    out.close()  # twice is fine
    assert not out.active
    with pytest.raises(AudioDeviceError, match="closed"):
        out.start()
    with pytest.raises(AudioDeviceError, match="no output device matches 'no-such-card'"):
        AudioOut(engine, device="no-such-card")
