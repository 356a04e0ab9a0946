"""MIDI in: a keyboard or controller plays the session (``mido`` with ``python-rtmidi``).

What each message does (every channel is heard, "omni"):

==================================  =====================================================================
note on (velocity 1-127)            the note starts at that velocity (notes outside A0..C8 are ignored)
note on velocity 0, note off        the note is released
pitch wheel                         bends every voice, ±2 semitones at the wheel's ends
CC 64 (sustain pedal)               down at 64 and above: note-offs wait until it is lifted
CC 1 (mod wheel)                    the brightness slider: the neuron that changes the spectral centroid most
                                    (the model's ``descriptors.json``; z1 without one), up = brighter
CC 7 (channel volume)               the master volume
CC 120 / 123                        all sound off (quick fade) / all notes off
CC 121 (reset all controllers)      bend to the centre, pedal up
any CC learnt (MIDI learn)          moves its slider or the volume over its whole range; a learnt CC takes
                                    precedence over the defaults above
==================================  =====================================================================

MIDI learn: :meth:`Session.learn` arms a target (the window: right-click a slider); the next control
change moved is bound to it and saved in presets.

Thread contract: rtmidi calls :func:`handle_message` on its own thread for each message; it
calls the session's methods, which never wait for the audio thread, and never raises (a message
that cannot be played is counted in ``session.counts.midi_ignored``).

Ports: ``python-rtmidi`` is compiled with ALSA and JACK on Linux (CoreMIDI on macOS, WinMM on
Windows). :func:`input_ports` lists the inputs of every API that starts; a port is chosen by its
index in that list or by part of its name; :class:`MidiIn` can also open a virtual input named
``manne`` that other programs connect to (ALSA, JACK and CoreMIDI have virtual ports; Windows does not).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from manne.errors import ManneError, ParameterError

if TYPE_CHECKING:
    from manne.control.session import Session

__all__ = ["INSTALL", "APIS", "handle_message", "input_ports", "resolve_port", "MidiIn", "require"]

INSTALL = "MIDI needs mido and python-rtmidi: .venv/bin/pip install 'mido>=1.3' 'python-rtmidi>=1.5'  (or pip install -e '.[control]')"
APIS = {"alsa": "LINUX_ALSA", "jack": "UNIX_JACK", "coremidi": "MACOSX_CORE", "winmm": "WINDOWS_MM"}
"""The ``--midi-api`` names and rtmidi's (mido's) names for them."""
VIRTUAL_NAME = "manne"
# real-time messages a keyboard or a sequencer sends all the time: neither acted on nor counted
_SILENT = {"clock", "active_sensing", "start", "stop", "continue", "songpos", "song_select", "quarter_frame", "sysex",
           "tune_request", "reset"}


def require():
    """Import and return ``mido`` with its rtmidi backend; a one-line :class:`ManneError` with the pip command without them."""
    try:
        import mido
        import rtmidi  # noqa: F401 - mido's default backend
    except ImportError as exc:
        raise ManneError(f"{INSTALL} ({exc.name} is missing)") from exc
    return mido


def handle_message(session: Session, msg: Any) -> str:
    """Play one ``mido.Message`` on ``session``; returns what it did (``""`` when nothing). Never raises."""
    kind = getattr(msg, "type", None)
    if kind in _SILENT:
        return ""
    try:
        if kind == "note_on" and msg.velocity > 0:
            session.note_on(msg.note, msg.velocity)
            done = f"note on {msg.note}"
        elif kind in ("note_on", "note_off"):
            session.note_off(msg.note)
            done = f"note off {msg.note}"
        elif kind == "pitchwheel":  # -8192 .. 8191 -> -1 .. 1, both ends exactly
            session.pitch_bend(msg.pitch / (8192.0 if msg.pitch < 0 else 8191.0))
            done = "bend"
        elif kind == "control_change":
            done = session.control_change(msg.control, msg.value)
            if not done:
                session.count("midi_ignored", f"MIDI CC {msg.control} is not mapped (MIDI learn maps it)")
                return ""
        else:
            session.count("midi_ignored", f"MIDI {kind} is not used")
            return ""
    except ParameterError as exc:  # a note outside the piano's range
        session.count("midi_ignored", f"MIDI {kind}: {exc}")
        return ""
    except Exception as exc:  # noqa: BLE001 - a MIDI thread that dies silences the keyboard
        session.count("midi_ignored", f"MIDI {kind}: {type(exc).__name__}: {exc}")
        return ""
    session.count("midi")
    return done


def _api_order(api: str | None) -> list[str]:
    """rtmidi API names to try, in order: the one asked for, else every compiled one (ALSA before JACK)."""
    mido = require()
    compiled = mido.Backend("mido.backends.rtmidi").module.get_api_names()
    if api is None:
        return list(compiled)
    key = APIS.get(api.lower(), api)
    if key not in compiled:
        names = ", ".join(k for k, v in APIS.items() if v in compiled)
        raise ParameterError(f"MIDI API {api!r} is not available here; python-rtmidi has {names}")
    return [key]


def _why(api: str, exc: BaseException) -> str:
    """Why an rtmidi API did not start, in words a musician can act on."""
    if api == "LINUX_ALSA":
        import os

        if not os.path.exists("/dev/snd/seq"):
            return ("ALSA: no sequencer (/dev/snd/seq is missing: this kernel or container has no ALSA MIDI; "
                    "`sudo modprobe snd-seq` on a desktop)")
        return f"ALSA: {exc}"
    if api == "UNIX_JACK":
        return "JACK: no JACK server is running (start one with `jackd -d alsa` or `jackd -d dummy`)"
    return f"{api}: {exc}"


def input_ports(api: str | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """The MIDI inputs of every API that starts, as ``[(api, port name), ...]``, and why the others did not.

    Raises
    ------
    ManneError
        Without mido/python-rtmidi (the pip command), or when no MIDI API starts (each one's reason).
    """
    mido = require()
    ports, problems, apis = [], [], _api_order(api)
    for name in apis:
        try:
            names = _quiet(lambda: mido.Backend(f"mido.backends.rtmidi/{name}").get_input_names())
        except Exception as exc:  # noqa: BLE001 - rtmidi raises its own SystemError and others
            problems.append(_why(name, exc))
            continue
        ports.extend((name, n) for n in names)
    if len(problems) == len(apis):
        raise ManneError("no MIDI system: " + "; ".join(problems))
    return ports, problems


def resolve_port(ports: list[tuple[str, str]], spec: str | int) -> tuple[str, str]:
    """Pick one of ``ports`` (from :func:`input_ports`) by index or by part of its name (case-insensitive)."""
    listing = ", ".join(f"{i}: {n}" for i, (_, n) in enumerate(ports)) or "none"
    if isinstance(spec, int) or str(spec).strip().isdigit():
        i = int(spec)
        if 0 <= i < len(ports):
            return ports[i]
        raise ParameterError(f"MIDI input {i} does not exist; the inputs are {listing}")
    key = str(spec).strip().lower()
    for match in ([p for p in ports if p[1].lower() == key], [p for p in ports if key in p[1].lower()]):
        if match:
            return match[0]
    raise ParameterError(f"no MIDI input matches {spec!r}; the inputs are {listing} (see `manne midi-ports`)")


def _quiet(fn):
    """Run ``fn`` with the C library's stderr muted (ALSA prints its own failure lines)."""
    from manne.io.files import mute_stderr

    with mute_stderr():
        return fn()


class MidiIn:
    """A MIDI input playing ``session`` until :meth:`close`.

    Parameters
    ----------
    session : Session
    port : int or str, optional
        Index in :func:`input_ports` or part of a port name. None: the first input that is not a
        "Midi Through" port, else a virtual input (``virtual``).
    virtual : bool, open a virtual input named ``name`` for other programs to connect to
    api : ``"alsa"``, ``"jack"``, ``"coremidi"`` or ``"winmm"``; None tries each in turn

    Attributes
    ----------
    name : str, the port listened to; api : str, rtmidi's API; virtual : bool
    """

    def __init__(self, session: Session, port: int | str | None = None, *, virtual: bool = False,
                 name: str = VIRTUAL_NAME, api: str | None = None):
        mido = require()
        self.session = session
        self._port = None
        if not virtual:
            ports, _ = input_ports(api)
            if port is not None:
                api_name, port_name = resolve_port(ports, port)
            else:
                real = [p for p in ports if "through" not in p[1].lower()]
                virtual = not real
                if real:
                    api_name, port_name = real[0]
        if virtual:
            apis = _api_order(api)
            problems = []
            for api_name in apis:
                try:
                    backend = mido.Backend(f"mido.backends.rtmidi/{api_name}")
                    self._port = _quiet(lambda: backend.open_input(name, virtual=True, callback=self._on_message))
                    break
                except Exception as exc:  # noqa: BLE001
                    problems.append(_why(api_name, exc))
            else:
                raise ManneError("cannot open a virtual MIDI input: " + "; ".join(problems))
            port_name = name
        else:
            backend = mido.Backend(f"mido.backends.rtmidi/{api_name}")
            try:
                self._port = backend.open_input(port_name, callback=self._on_message)
            except Exception as exc:  # noqa: BLE001
                raise ManneError(f"cannot open MIDI input {port_name!r}: {exc}") from exc
        self.name, self.api, self.virtual = port_name, api_name, bool(virtual)

    def _on_message(self, msg) -> None:
        handle_message(self.session, msg)

    def describe(self) -> str:
        """``"MIDI in: virtual port 'manne' (JACK)"``."""
        api = next((k for k, v in APIS.items() if v == self.api), self.api).upper()
        return f"MIDI in: {'virtual port ' if self.virtual else ''}{self.name!r} ({api})"

    def close(self) -> None:
        """Stop listening. Safe to call twice."""
        port, self._port = self._port, None
        if port is not None:
            port.close()

    def __enter__(self) -> "MidiIn":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
