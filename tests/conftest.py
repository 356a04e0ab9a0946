"""Shared fixtures: synthetic tones of known pitch, a tiny corpus and a tiny trained model.

The model is real (Keras, trained for a few epochs on the tones) but small (widest layer 64), so it
trains in seconds; session scope lets every test module reuse it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SR = 44100


def tone(midi: int, seconds: float = 1.0, *, sr: int = SR, harmonics: int = 4, decay: float = 0.5) -> np.ndarray:
    """A harmonic tone of MIDI pitch ``midi``; shape (n_samples,), float32, peak about 0.5."""
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, harmonics + 1) if k * f0 < sr / 2)
    y = y * np.exp(-decay * t)
    return (0.5 * y / np.abs(y).max()).astype(np.float32)


def write_tones(folder: Path, pitches, *, seconds: float = 1.0, sr: int = SR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, midi in enumerate(pitches):
        p = folder / f"tone_{i:02d}_{midi}.wav"
        sf.write(p, tone(midi, seconds, sr=sr), sr)
        paths.append(p)
    return paths


# C major scale over two octaves: notes C D E F G A B (pitch classes 0 2 4 5 7 9 11)
SCALE = [48, 50, 52, 53, 55, 57, 59, 60, 62, 64, 65, 67, 69, 71, 72]


@pytest.fixture(scope="session", autouse=True)
def user_settings(tmp_path_factory):
    """The musician's settings file and output folder live in a temporary folder for the session."""
    import json

    folder = tmp_path_factory.mktemp("user")
    path = folder / "settings.json"
    path.write_text(json.dumps({"output_folder": str(folder / "out")}), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MANNE_CONFIG", str(path))
        yield path


@pytest.fixture(scope="session")
def default_ae():
    """The bundled default model (trained/default), as the synth loads it."""
    from manne.io.settings import default_model_dir
    from manne.model.forward import Autoencoder

    return Autoencoder.load(default_model_dir())


@pytest.fixture()
def session(default_ae):
    """A control session (the window's, MIDI's and OSC's state) on the bundled model; no audio device."""
    from manne.io.settings import default_model_dir
    from manne.control.session import Session
    from manne.synth.instrument import Synth

    return Session(Synth(default_ae), model_dir=default_model_dir())


@pytest.fixture(scope="session")
def tone_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tones")
    write_tones(d, SCALE)
    return d


@pytest.fixture(scope="session")
def tiny_corpus(tone_dir, tmp_path_factory) -> Path:
    from manne.corpus import build, save

    out = tmp_path_factory.mktemp("corpus") / "tones.npz"
    save(build([tone_dir], val=0.15, test=0.15, progress=False), out)
    return out


@pytest.fixture(scope="session")
def tiny_model(tiny_corpus, tmp_path_factory) -> Path:
    """A 2-neuron sigmoid model with chroma augmentation and skip, widest layer 64."""
    from manne.model.config import ModelConfig, TrainConfig
    from manne.corpus import load_corpus
    from manne.model.train import train

    out = tmp_path_factory.mktemp("models") / "tiny"
    train(load_corpus(tiny_corpus), str(tiny_corpus), out,
          model_cfg=ModelConfig(latent=2, max_width=64),
          train_cfg=TrainConfig(epochs=30, batch=64, lr=2e-3, schedule="plateau", min_gain=0.0), progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_paper_model(tiny_corpus, tmp_path_factory) -> Path:
    """:func:`tiny_model` as the paper's model (linear magnitudes, ReLU output, no register)."""
    from manne.corpus import load_corpus
    from manne.model.config import PAPER, ModelConfig, TrainConfig
    from manne.model.train import train

    out = tmp_path_factory.mktemp("models") / "tiny-paper"
    train(load_corpus(tiny_corpus), str(tiny_corpus), out, model_cfg=ModelConfig(latent=2, max_width=64, **PAPER),
          train_cfg=TrainConfig(epochs=30, batch=64, lr=2e-3, schedule="plateau", min_gain=0.0), progress=False)
    return out


@pytest.fixture(scope="session")
def bright_dir(tmp_path_factory) -> Path:
    """Tones of known brightness in two folders: ``dark/`` (a sine) and ``bright/`` (12 harmonics)."""
    d = tmp_path_factory.mktemp("brightness")
    for name, harmonics in (("dark", 1), ("bright", 12)):
        (d / name).mkdir()
        for midi in (48, 52, 55, 60, 64, 67):
            sf.write(d / name / f"{name}_{midi}.wav", tone(midi, 1.0, harmonics=harmonics, decay=0.2), SR)
    return d


@pytest.fixture(scope="session")
def bright_model(bright_dir, tmp_path_factory) -> Path:
    """A 2-neuron model of :func:`bright_dir` (its corpus is ``corpus.npz`` beside the model folder)."""
    from manne.corpus import build, load_corpus, save
    from manne.model.config import PAPER, ModelConfig, TrainConfig
    from manne.model.train import train

    root = tmp_path_factory.mktemp("bright")
    corpus = root / "corpus.npz"
    save(build([bright_dir], val=0.15, test=0.1, split_mode="segment", progress=False), corpus)
    out = root / "model"
    # the paper's model: the timbre tools' arithmetic is checked on codes that place each file apart
    # (a register-aware model gives files of one timbre at other pitches one code)
    train(load_corpus(corpus), str(corpus), out, model_cfg=ModelConfig(latent=2, max_width=64, **PAPER),
          train_cfg=TrainConfig(epochs=40, batch=64, lr=2e-3, schedule="plateau", min_gain=0.0), progress=False)
    return out


# ---- a private PulseAudio server (audio output tests) ------------------------------------------

@pytest.fixture(scope="session")
def pulse_null_sink(tmp_path_factory):
    """A private PulseAudio daemon with a null sink ``null`` as the default sink; yields its environment.

    The daemon gets its own ``XDG_RUNTIME_DIR``, exported (with ``PULSE_SERVER``) into this process
    for the session, so PortAudio's ALSA ``pulse`` device plays into the null sink and ``parec -d
    null.monitor`` records it. Without PulseAudio the test fails with the install command: a
    missing package must not pass as a skip.
    """
    missing = [tool for tool in ("pulseaudio", "pactl", "parec") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: the audio output tests need PulseAudio; install it with "
                    "`sudo apt-get install pulseaudio pulseaudio-utils libasound2-plugins` (or `bash scripts/setup.sh test`)")
    runtime = tmp_path_factory.mktemp("pulse-rt")
    runtime.chmod(0o700)
    from tools.procs import SetupError
    from tools.pulse import null_sink, private_env, set_default_sink, start_daemon

    env = private_env(runtime)
    started = False
    if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
        try:
            start_daemon(env, null_sink())
        except SetupError as exc:
            pytest.fail(str(exc))
        started = True
    set_default_sink(env, "null")
    saved = {k: os.environ.get(k) for k in ("XDG_RUNTIME_DIR", "PULSE_SERVER")}
    os.environ.update({k: env[k] for k in saved})  # for the ALSA pulse plugin inside this process
    try:
        yield env
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if started:
            subprocess.run(["pulseaudio", "-k"], env=env, capture_output=True)


@pytest.fixture(scope="session")
def pulse_device(pulse_null_sink) -> str:
    """The PortAudio output device that plays into :func:`pulse_null_sink`: ``"pulse"`` or ``"default"``."""
    from manne.synth.stream import list_output_devices

    names = [d["name"] for d in list_output_devices()]
    for name in ("pulse", "default"):
        if name in names:
            return name
    pytest.fail(f"PortAudio shows no 'pulse' or 'default' device (install libasound2-plugins); it shows {names}")


@pytest.fixture(scope="session")
def xvfb():
    """A private X display (``Xvfb -displayfd``), exported as DISPLAY for the session's tests."""
    exe = shutil.which("Xvfb")
    if exe is None:
        pytest.fail("Xvfb is missing: the GUI tests need it (install with `bash scripts/setup.sh test`, apt package xvfb)")
    for tool in ("xdotool", "import"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install with `bash scripts/setup.sh test` (apt packages xdotool, imagemagick)")
    r, w = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(w), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    number = b""
    deadline = time.monotonic() + 20
    with os.fdopen(r, "rb") as fh:
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = fh.read(1)
            if not chunk:
                break
            number += chunk
    if not number.strip():
        proc.kill()
        pytest.fail(f"Xvfb did not start (exit status {proc.poll()})")
    display = f":{int(number)}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISPLAY", display)
        mp.delenv("WAYLAND_DISPLAY", raising=False)
        yield display
    proc.terminate()
    proc.wait(timeout=10)


# ---- a private JACK server (MIDI port tests) ----------------------------------------------------

@pytest.fixture(scope="session")
def jack_server(tmp_path_factory):
    """A private JACK server (``jackd -d dummy``: no sound card needed), exported as ``JACK_DEFAULT_SERVER``
    for the session. JACK gives the MIDI tests virtual ports where the kernel has no ALSA sequencer.
    Without jackd the test fails with the install command: a missing package must not pass as a skip."""
    import uuid

    exe = shutil.which("jackd")
    if exe is None:
        pytest.fail("jackd is missing: the MIDI port tests need JACK; install with `bash scripts/setup.sh test` "
                    "(apt package jackd2)")
    pytest.importorskip("rtmidi", reason="the test extra installs python-rtmidi: pip install -e '.[test]'")
    import rtmidi

    name = f"manne-test-{uuid.uuid4().hex[:8]}"
    log = tmp_path_factory.mktemp("jack") / "jackd.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([exe, "--no-realtime", "-n", name, "-d", "dummy", "-r", "44100", "-p", "256"],
                                env={**os.environ, "JACK_NO_AUDIO_RESERVATION": "1"}, stdout=fh, stderr=fh)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JACK_DEFAULT_SERVER", name)
        mp.setenv("JACK_NO_START_SERVER", "1")
        deadline = time.monotonic() + 15
        while proc.poll() is None:
            try:
                rtmidi.MidiIn(rtmidi.API_UNIX_JACK).delete()
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline:
                    proc.kill()
                    break
                time.sleep(0.1)
        if proc.poll() is not None:
            pytest.fail(f"jackd did not start: {log.read_text(errors='replace')[-500:]}")
        yield name
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
