"""Live timbre transfer (issue 9, ``manne synth --input``): the frame-by-frame NumPy engine equals the
offline transfer delayed by its stated delay, its two-stream buffering keeps a bounded delay, it
loads no librosa, and it runs end to end through PulseAudio (input to output latency measured)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from manne.cli import main
from manne.errors import AudioDeviceError, ParameterError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bright_ae(bright_model):
    from manne.model.forward import Autoencoder

    return Autoencoder.load(bright_model)


def streamed(engine, x: np.ndarray, sizes) -> np.ndarray:
    """``engine.process`` over ``x`` in chunks of ``sizes`` (cycled), then at least ``delay`` samples of silence."""
    n_total = len(x) + engine.delay + 4096
    if len(sizes) == 1:  # whole requests only
        n_total = -(-n_total // sizes[0]) * sizes[0]
    x = np.concatenate([x, np.zeros(n_total - len(x), dtype=np.float32)])
    out, pos, i = [], 0, 0
    while pos < len(x):
        n = sizes[i % len(sizes)]
        out.append(engine.process(x[pos : pos + n]))
        pos, i = pos + n, i + 1
    return np.concatenate(out)


@pytest.mark.parametrize("block, sizes, delay", [(256, [256], 3840), (1024, [1024], 3072), (None, [300, 77, 1500], 4095)])
def test_live_equals_offline_delayed(bright_ae, bright_dir, block, sizes, delay):
    from manne.synth.transfer import LiveTransfer
    from manne.timbre.transfer import transfer

    y = np.concatenate([sf.read(bright_dir / f, dtype="float32")[0] for f in ("dark/dark_48.wav", "bright/bright_64.wav")])
    gain, offset = np.array([1.0, 0.5]), np.array([0.0, 0.2])
    live = LiveTransfer(bright_ae, gain=gain, offset=offset, block=block)
    assert live.delay == delay
    out = streamed(live, y, sizes)
    off = transfer(bright_ae, y, gain=gain, offset=offset, gate=live.gate)
    H, N = live.hop_length, live.n_fft
    got = out[delay : delay + len(y)]
    # the first hop differs: offline has no frame before its first centred one; the last frames end the file
    d = got[H:-N] - off.y[H:-N]
    peak, rms = np.abs(d).max() / np.abs(off.y).max(), np.sqrt(np.mean(d ** 2) / np.mean(off.y ** 2))
    assert peak < 1e-3 and rms < 1e-4, (peak, rms)  # float32 round-off of one-row against batched products
    assert live.frames > 80
    if block:
        assert live.underruns == 0


def test_live_moves_change_the_sound_and_quiet_frames_pass(bright_ae, bright_dir):
    from manne.synth.transfer import LiveTransfer

    y, _ = sf.read(bright_dir / "dark" / "dark_60.wav", dtype="float32")
    live = LiveTransfer(bright_ae, block=256)
    a = streamed(live, y, [256])
    live.reset()
    live.set_moves([0.0, 1.0], [0.0, 0.0])  # z1 to the bottom of its range
    b = streamed(live, y, [256])
    assert np.sqrt(np.mean((a - b) ** 2)) > 0.1 * np.sqrt(np.mean(a ** 2))
    with pytest.raises(ParameterError, match="need 2 finite values each"):
        live.set_moves([1.0, 1.0, 1.0], [0.0, 0.0])
    # a sine 60 dB below full scale is under the gate (50 dB): it comes out unchanged, delayed
    t = np.arange(44100) / 44100
    quiet = (1e-3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    live.reset()
    out = streamed(live, quiet, [256])
    np.testing.assert_allclose(out[live.delay : live.delay + len(quiet)][4096:-4096], quiet[4096:-4096], atol=1e-6)
    assert live.passed == live.frames


def test_two_streams_keep_a_bounded_delay(bright_ae, bright_dir):
    """Input and output callbacks every buffer, each late by a random part of a buffer, then a 0.3 s stall
    of the output: the output starts once primed, plays the lockstep output shifted by the silence it
    played while priming, never runs short, and after the stall skips back to its delay."""
    from manne.synth.transfer import LiveTransfer

    y = np.tile(sf.read(bright_dir / "bright" / "bright_60.wav", dtype="float32")[0], 3)
    B = 256
    strict = streamed(LiveTransfer(bright_ae, block=B), y, [B])
    e = LiveTransfer(bright_ae, block=B)
    rng = np.random.default_rng(0)
    n_cb = len(y) // B
    stall = n_cb // 2
    events = [(k + rng.uniform(0, 0.8), "in", k) for k in range(n_cb)]
    events += [(k + 0.5 + rng.uniform(0, 0.8) + (52 if k >= stall else 0), "out", k) for k in range(n_cb - 60)]
    out, lags, silent = [], [], 0
    for _, kind, k in sorted(events):
        if kind == "in":
            e.push(y[k * B : (k + 1) * B])
        else:
            primed = e._primed or e.waiting >= B + e.prime
            out.append(e.pull(B, prime=e.prime))
            if primed:
                lags.append(e.lag)
            elif not out[1:] or not lags:
                silent += B
    out = np.concatenate(out)
    assert e.underruns == 0 and e.overflows == 0 and e.skips >= 1
    assert 2 * B <= silent <= e.prime + 4 * B
    # before the stall: the lockstep output, later by the silence played while priming
    n = (stall - 10) * B - silent
    np.testing.assert_allclose(out[silent : silent + n], strict[:n], atol=1e-6)
    assert min(lags) >= e.delay
    assert np.median(lags[-40:]) <= np.median(lags[: len(lags) // 3]) + B  # back to its level after the stall


def test_the_three_callbacks_share_the_synths_guard(bright_ae):
    """Duplex, input and output callbacks: float32 bytes and paContinue; a failure is silence (None for the
    input stream), an underrun and its words, never an exception on the audio thread; the work is timed."""
    from manne.synth.callback import PA_CONTINUE, PA_INPUT_OVERFLOW, PA_OUTPUT_UNDERFLOW
    from manne.synth.transfer import LiveTransfer

    B = 256
    x = (0.3 * np.sin(2 * np.pi * 220 * np.arange(B) / 44100)).astype(np.float32)
    e = LiveTransfer(bright_ae, block=B)
    data, flag = e.callback(x.tobytes(), B, {}, 0)
    assert flag == PA_CONTINUE and len(data) == 4 * B and e.underruns == 0 and e.cpu_load > 0
    assert e.callback(None, B, {}, PA_INPUT_OVERFLOW)[0] == bytes(4 * B)  # no input: silence in, silence out
    assert e.underruns == 1 and e.last_error is None
    assert e.callback(b"\x00", B, {}, 0) == (bytes(4 * B), PA_CONTINUE)  # 1 byte is no float32 buffer
    assert e.underruns == 2 and "ValueError" in e.last_error

    two = LiveTransfer(bright_ae, block=B)
    assert two.input_callback(x.tobytes(), B, {}, 0) == (None, PA_CONTINUE) and two.pushed == B and two.cpu_load > 0
    assert two.input_callback(None, B, {}, 0) == (None, PA_CONTINUE)
    assert two.underruns == 1 and "TypeError" in two.last_error
    load = two.cpu_load
    data, flag = two.output_callback(None, B, {}, PA_OUTPUT_UNDERFLOW)
    assert flag == PA_CONTINUE and data == bytes(4 * B) and two.underruns == 2  # not primed yet: zeros
    assert two.cpu_load == load  # the output's callback only copies: the input's is the one timed

    two.pull = lambda n, prime=0: 1 / 0
    assert two.output_callback(None, B, {}, 0) == (bytes(4 * B), PA_CONTINUE)
    assert two.underruns == 3 and "ZeroDivisionError" in two.last_error


def test_live_path_loads_no_librosa(bright_model):
    code = (f"import sys\nfrom manne.model.forward import Autoencoder\nfrom manne.synth.transfer import LiveTransfer\n"
            f"import manne.synth.duplex, numpy as np\n"
            f"e = LiveTransfer(Autoencoder.load({str(bright_model)!r}), block=256)\n"
            "y = e.process(np.random.default_rng(0).standard_normal(44100).astype(np.float32) * 0.1)\n"
            "assert e.frames > 40\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'librosa', 'scipy', 'tensorflow', 'keras', "
            "'matplotlib', 'pyaudio', 'tkinter'}))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "[]"


def test_input_device_choice_and_errors(monkeypatch, capsys, bright_model):
    from manne.synth.duplex import resolve_input_device

    devices = [{"index": 2, "name": "USB mic", "default": False}, {"index": 5, "name": "pulse", "default": True}]
    assert resolve_input_device(devices, None)["index"] == 5
    assert resolve_input_device(devices, "usb")["index"] == 2
    with pytest.raises(AudioDeviceError, match="device 7 is not an input device; the input devices are 2: USB mic"):
        resolve_input_device(devices, 7)
    with pytest.raises(AudioDeviceError, match="no input device matches 'line'"):
        resolve_input_device(devices, "line")
    with pytest.raises(AudioDeviceError, match="no audio input: PortAudio finds no input device"):
        resolve_input_device([], None)
    # the synth command: a wrong --gain is one line before any audio opens; no PyAudio is one line
    assert main(["synth", str(bright_model), "--input", "pulse", "--gain", "1,1,1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--gain has 3 values; the model has 2 neurons" in err
    assert main(["synth", str(bright_model), "--offset", "0,0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "give --input DEVICE too" in err
    monkeypatch.setitem(sys.modules, "pyaudio", None)
    assert main(["synth", str(bright_model), "--input", "pulse", "--seconds", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "PyAudio is not installed" in err


def test_live_transfer_end_to_end_through_pulseaudio(bright_model, tmp_path):
    """``manne synth --input`` between two channels of a PulseAudio null sink: its output correlates with
    its input at a lag of its delay plus the streams' buffering (scripts/transfer_latency.py)."""
    missing = [t for t in ("pulseaudio", "pactl", "paplay", "parec") if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: install pulseaudio pulseaudio-utils libasound2-plugins "
                    "(`bash scripts/setup.sh test`)")
    out = tmp_path / "latency.json"
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "transfer_latency.py"), "--model", str(bright_model),
                          "--runs", "1", "--seconds", "3", "--json", str(out)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    r = json.loads(out.read_text())
    run = r["runs"][0]
    assert any(line.startswith("live transfer:") for line in run["report"]), run
    delay = 4096 - 256  # the engine's, buffer 256 and hop 1024
    assert delay <= r["median_samples"] <= delay + 0.3 * 44100, r
