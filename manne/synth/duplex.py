"""Audio input and output through PortAudio: the live timbre transfer's (``manne synth --input``).

:class:`AudioInOut` opens an input stream and an output stream at the engine's rate (or, on request,
one full-duplex stream). PyAudio is imported only when a function here runs; without it, or without
a matching device, the functions raise :class:`~manne.errors.AudioDeviceError`.

Thread contract: PortAudio calls the engine's callbacks on its own audio threads, the input's and
the output's (:class:`manne.synth.transfer.LiveTransfer` states its rules); the methods of
:class:`AudioInOut` are for the control thread.
"""

from __future__ import annotations

from manne.errors import AudioDeviceError
from manne.io.files import mute_stderr
from manne.synth.limits import BUFFER_DEFAULT, check_buffer
from manne.synth.stream import PortAudioHolder, _devices, _open_portaudio, list_devices, resolve_device

__all__ = ["AudioInOut", "list_input_devices", "resolve_input_device"]


def list_input_devices() -> list[dict]:
    """The input devices PortAudio knows (:func:`manne.synth.stream.list_devices`)."""
    return list_devices("input")


def resolve_input_device(devices: list[dict], device: int | str | None) -> dict:
    """Pick one of ``devices`` (from :func:`list_input_devices`) as :func:`manne.synth.stream.resolve_device` picks an output."""
    return resolve_device(devices, device, "input")


class AudioInOut(PortAudioHolder):
    """PortAudio input and output for an engine that transforms its input, mono float32 at the engine's rate.

    By default two streams: the input stream's callback hands each buffer to the engine
    (``engine.input_callback``, where the work is done) and the output stream's callback plays what
    is finished (``engine.output_callback``). ``duplex=True`` opens one full-duplex stream instead
    (``engine.callback``: input and output on one clock, one buffer less latency); PortAudio's ALSA
    host through PulseAudio stalls such a stream after a few callbacks, so it is not the default.

    Parameters
    ----------
    engine : LiveTransfer
    input, output : int or str, optional
        Device index or (part of) a name; default the system's default input and output.
    buffer : int
        Frames per buffer, 256..2048.
    duplex : bool
        One full-duplex stream instead of two.

    Raises
    ------
    ParameterError
        If ``buffer`` is out of range.
    AudioDeviceError
        If PyAudio is missing or a device matches none.
    """

    def __init__(self, engine, *, input: int | str | None = None, output: int | str | None = None,
                 buffer: int = BUFFER_DEFAULT, duplex: bool = False):
        self.buffer = check_buffer(buffer)
        self.engine = engine
        self.duplex = bool(duplex)
        self._pyaudio, self._pa = _open_portaudio()
        try:
            self.input = resolve_input_device(_devices(self._pa, "input"), input)
            self.output = resolve_device(_devices(self._pa), output)
        except Exception:
            self._pa.terminate()
            self._pa = None
            raise
        self._streams: list = []

    @property
    def active(self) -> bool:
        """Whether every stream runs."""
        return bool(self._streams) and all(s.is_active() for s in self._streams)

    @property
    def latency(self) -> tuple[float, float] | None:
        """PortAudio's reported (input, output) latency in seconds (None before :meth:`start`)."""
        if not self._streams:
            return None
        return float(self._streams[0].get_input_latency()), float(self._streams[-1].get_output_latency())

    def _open(self, **kw):
        pyaudio = self._pyaudio
        return self._pa.open(format=pyaudio.paFloat32, channels=1, rate=int(self.engine.sr),
                             frames_per_buffer=self.buffer, start=False, **kw)

    def start(self) -> "AudioInOut":
        """Open the streams (once) and start them, the output first."""
        if self._pa is None:
            raise AudioDeviceError("this audio stream was closed; create a new AudioInOut")
        if not self._streams:
            i, o = self.input["index"], self.output["index"]
            try:
                with mute_stderr():
                    if self.duplex:
                        self._streams = [self._open(input=True, output=True, input_device_index=i,
                                                    output_device_index=o, stream_callback=self.engine.callback)]
                    else:
                        self._streams = [self._open(input=True, input_device_index=i,
                                                    stream_callback=self.engine.input_callback)]
                        self._streams.append(self._open(output=True, output_device_index=o,
                                                        stream_callback=self.engine.output_callback))
            except Exception as exc:  # OSError: invalid sample rate, device busy, ...
                self.close_streams()
                raise AudioDeviceError(
                    f"cannot open audio input {self.input['name']!r} with output {self.output['name']!r} at "
                    f"{self.engine.sr} Hz ({exc}); pick others with --input and --device (see `manne devices`)") from exc
        for s in reversed(self._streams):
            if not s.is_active():
                s.start_stream()
        return self

    def close_streams(self) -> None:
        """Stop and close the streams (the input first)."""
        streams, self._streams = self._streams, []
        for s in streams:
            try:
                if s.is_active():
                    s.stop_stream()
            finally:
                s.close()

    def close(self) -> None:
        """Stop, close the streams and release PortAudio. Safe to call twice."""
        try:
            self.close_streams()
        finally:
            pa, self._pa = self._pa, None
            if pa is not None:
                pa.terminate()
