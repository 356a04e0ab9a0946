"""Audio output through PortAudio: play the instrument (:class:`~manne.synth.instrument.Synth`) on a sound device.

PyAudio is imported only when a function here runs, so ``import manne.synth.stream`` is cheap and works
without it. Without PyAudio, or without any output device, the functions raise
:class:`~manne.errors.AudioDeviceError`, whose message says how to install it.

Thread contract: PortAudio calls the engine's ``callback`` on its own audio thread; the methods of
:class:`AudioOut` are for the control thread. See :mod:`manne.synth.instrument` for the rules of
each side.
"""

from __future__ import annotations

from manne.errors import AudioDeviceError
from manne.io.files import mute_stderr
from manne.synth.limits import BUFFER_DEFAULT, BUFFER_MAX, BUFFER_MIN, check_buffer

__all__ = ["AudioOut", "list_output_devices", "list_devices", "resolve_device", "no_device_error", "BUFFER_MIN", "BUFFER_MAX"]


def _pyaudio():
    try:
        import pyaudio
    except ImportError as exc:
        raise AudioDeviceError(f"no audio output: PyAudio is not installed; {AudioDeviceError.INSTALL}") from exc
    return pyaudio


def _open_portaudio():
    pyaudio = _pyaudio()
    try:
        with mute_stderr():
            pa = pyaudio.PyAudio()
    except Exception as exc:  # PortAudio raises OSError and others when it cannot start
        raise AudioDeviceError(f"no audio output: PortAudio failed to start ({exc})") from exc
    return pyaudio, pa


def _devices(pa, direction: str = "output") -> list[dict]:
    """PortAudio's devices with ``direction`` (``"output"`` or ``"input"``) channels; ``channels`` counts those."""
    key = "maxOutputChannels" if direction == "output" else "maxInputChannels"
    try:
        info = pa.get_default_output_device_info() if direction == "output" else pa.get_default_input_device_info()
        default = info["index"]
    except (OSError, IOError):
        default = None
    out = []
    for i in range(pa.get_device_count()):
        d = pa.get_device_info_by_index(i)
        if int(d.get(key, 0)) < 1:
            continue
        out.append({
            "index": int(d["index"]),
            "name": str(d["name"]),
            "host_api": str(pa.get_host_api_info_by_index(d["hostApi"])["name"]),
            "channels": int(d[key]),
            "default_rate": float(d["defaultSampleRate"]),
            "default": int(d["index"]) == default,
        })
    return out


def no_device_error() -> AudioDeviceError:
    """The error for a system where PortAudio finds no output device, with what to do about it."""
    return AudioDeviceError(
        "no audio output: PortAudio finds no output device. Connect or enable a sound card, or start a sound "
        "server (PulseAudio/PipeWire: `pulseaudio --start`; in a container also `sudo apt-get install "
        "libasound2-plugins` so ALSA can reach it), then check `manne devices`")


def list_output_devices() -> list[dict]:
    """The output devices PortAudio knows.

    Returns
    -------
    devices : list of dict
        Keys ``index`` (int), ``name`` (str), ``host_api`` (str), ``channels`` (int, output),
        ``default_rate`` (float, Hz) and ``default`` (bool: the default output device).

    Raises
    ------
    AudioDeviceError
        If PyAudio is missing or PortAudio cannot start.
    """
    return list_devices("output")


def list_devices(direction: str = "output") -> list[dict]:
    """The devices PortAudio knows with ``direction`` (``"output"`` or ``"input"``) channels, as
    :func:`list_output_devices` describes them (``channels`` counts that direction's).

    Raises
    ------
    AudioDeviceError
        If PyAudio is missing or PortAudio cannot start.
    """
    _, pa = _open_portaudio()
    try:
        return _devices(pa, direction)
    finally:
        pa.terminate()


def resolve_device(devices: list[dict], device: int | str | None, direction: str = "output") -> dict:
    """Pick one of ``devices`` (from :func:`list_devices` for ``direction``).

    ``None`` is the default device (else the first); an int, or a string of digits, is a device
    index; any other string matches a name, exactly (case-insensitive) or as a substring (the
    first device in index order).

    Raises
    ------
    AudioDeviceError
        If there are no devices or none matches.
    """
    if not devices:
        raise no_device_error() if direction == "output" else AudioDeviceError(
            "no audio input: PortAudio finds no input device (connect a microphone or an audio interface, or "
            "start a sound server); see `manne devices`")
    if device is None:
        return next((d for d in devices if d["default"]), devices[0])
    names = ", ".join(f"{d['index']}: {d['name']}" for d in devices)
    if isinstance(device, int) or (isinstance(device, str) and device.strip().isdigit()):
        idx = int(device)
        for d in devices:
            if d["index"] == idx:
                return d
        raise AudioDeviceError(f"device {idx} is not an {direction} device; the {direction} devices are {names}")
    key = str(device).strip().lower()
    exact = [d for d in devices if d["name"].lower() == key]
    if exact:
        return exact[0]
    partial = [d for d in devices if key in d["name"].lower()]
    if partial:
        return partial[0]
    raise AudioDeviceError(f"no {direction} device matches {device!r}; the {direction} devices are {names}")


class PortAudioHolder:
    """What :class:`AudioOut` and :class:`manne.synth.duplex.AudioInOut` share: ``with`` starts the
    streams and closes them (and PortAudio) at the end, as does garbage collection."""

    def start(self):
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class AudioOut(PortAudioHolder):
    """A PortAudio output stream that plays an engine, mono float32 at the engine's rate.

    Parameters
    ----------
    engine : Synth
        Its ``callback`` (:meth:`manne.synth.instrument.Synth.callback`) fills the buffers; its ``sr`` is the rate.
    device : int or str, optional
        Device index or a (substring of a) name; default the system's default output.
    buffer : int
        Frames per buffer, ``BUFFER_MIN``..``BUFFER_MAX`` (256..2048; the default, 256, is 5.8 ms at 44.1 kHz).

    Raises
    ------
    ParameterError
        If ``buffer`` is out of range.
    AudioDeviceError
        If PyAudio is missing, there is no output device, or ``device`` matches none.

    Examples
    --------
    >>> with AudioOut(engine, device="pulse") as out:   # doctest: +SKIP
    ...     time.sleep(5)
    """

    def __init__(self, engine, *, device: int | str | None = None, buffer: int = BUFFER_DEFAULT):
        self.buffer = check_buffer(buffer)
        self.engine = engine
        self._pyaudio, self._pa = _open_portaudio()
        try:
            self.device = resolve_device(_devices(self._pa), device)
        except Exception:
            self._pa.terminate()
            self._pa = None
            raise
        self._stream = None

    @property
    def active(self) -> bool:
        """Whether the stream is playing."""
        return self._stream is not None and self._stream.is_active()

    @property
    def latency(self) -> float | None:
        """PortAudio's output latency of the open stream in seconds (None before :meth:`start`)."""
        return None if self._stream is None else float(self._stream.get_output_latency())

    def start(self) -> "AudioOut":
        """Open the stream (once) and start playing."""
        if self._pa is None:
            raise AudioDeviceError("this audio output was closed; create a new AudioOut")
        if self._stream is None:
            pyaudio = self._pyaudio
            try:
                with mute_stderr():
                    self._stream = self._pa.open(
                        format=pyaudio.paFloat32, channels=1, rate=int(self.engine.sr), output=True,
                        output_device_index=self.device["index"], frames_per_buffer=self.buffer,
                        stream_callback=self.engine.callback, start=False)
            except Exception as exc:  # OSError: invalid sample rate, device busy, ...
                raise AudioDeviceError(
                    f"cannot open audio output {self.device['name']!r} at {self.engine.sr} Hz ({exc}); "
                    "pick another with --device (see `manne devices`)") from exc
        if not self._stream.is_active():
            self._stream.start_stream()
        return self

    def stop(self) -> None:
        """Stop playing; :meth:`start` resumes."""
        if self._stream is not None and self._stream.is_active():
            self._stream.stop_stream()

    def close(self) -> None:
        """Stop, close the stream and release PortAudio. Safe to call twice."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                if stream.is_active():
                    stream.stop_stream()
            finally:
                stream.close()
        pa, self._pa = self._pa, None
        if pa is not None:
            pa.terminate()
