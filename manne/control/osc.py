"""OSC in: another program (Max, Pd, SuperCollider, TouchOSC, a script) plays the session over UDP.

``manne synth --osc [PORT]`` listens on 127.0.0.1 (``--osc-host 0.0.0.0`` to take messages from the
network: anyone who can reach the port can then play the synth). The address space:

=========================  ===========================  ==========================================================
address                    arguments                    what it does
=========================  ===========================  ==========================================================
``/manne/note_on``         note [velocity]              MIDI note 21-108 starts, velocity 1-127 (default 100; 0 = off)
``/manne/note_off``        note                         the note is released
``/manne/z``               index value                  slider ``index`` (1-based: z1 is 1) to ``value``
``/manne/z``               v1 .. vd                     every slider at once (d = the model's neurons)
``/manne/z/INDEX``         value                        slider INDEX (1-based) to ``value``
``/manne/volume``          v                            master volume, 0..1
``/manne/bend``            v                            pitch bend -1..1 (±2 semitones)
``/manne/pedal``           0 | 1                        sustain pedal up / down
``/manne/hold``            0 | 1                        hold (drone) mode off / on
``/manne/method``          name                         harmonic, noise, coherent or rtpghi
``/manne/preset``          path                         load a preset file saved by the synth (its z must fit the model)
``/manne/all_off``         (none)                       release every note
=========================  ===========================  ==========================================================

Numbers may be OSC ints or floats (a note or index given as a float must be whole). Slider values
are in the model's latent range (0..1 for the bundled model) and, like the volume and the bend,
are clipped into their range. With a two-neuron model, ``/manne/z`` with two arguments is read
as ``index value`` when the first is an OSC int, and as ``v1 v2`` when it is a float. Bundles are
played at once, whatever their time tag.

Anything else (an unknown address, a wrong number or type of arguments, a note outside A0..C8, a
datagram that is not OSC, an empty one, a bundle element python-osc cannot identify) is ignored and
counted in ``session.counts.osc_malformed``, with the last reason in ``session.counts.last_problem``;
nothing a sender does can stop the server or the audio. What python-osc logs while it parses a
datagram (``WARNING:root:Could not identify content type …`` on stderr) is counted the same way
instead of printed.

Thread contract: one server thread receives the datagrams in order (no thread per message, so a
note-off never overtakes its note-on) and calls the session's methods, which never wait for the
audio thread.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from typing import TYPE_CHECKING, Any

from manne.errors import ManneError, ParameterError
from manne.synth.limits import METHODS

if TYPE_CHECKING:
    from manne.control.session import Session

__all__ = ["OscIn", "INSTALL", "DEFAULT_PORT", "DEFAULT_HOST", "ADDRESSES", "require"]

INSTALL = "OSC needs python-osc: .venv/bin/pip install 'python-osc>=1.8'  (or pip install -e '.[control]')"
DEFAULT_PORT = 9000
DEFAULT_HOST = "127.0.0.1"
PREFIX = "/manne/"
ADDRESSES = ("note_on", "note_off", "z", "volume", "bend", "pedal", "hold", "method", "preset", "all_off")


class Malformed(ValueError):
    """An OSC message manne cannot play; its text says why."""


def require():
    """Import and return ``pythonosc``; a one-line :class:`ManneError` with the pip command without it."""
    try:
        import pythonosc.osc_packet
        import pythonosc.osc_server  # noqa: F401
    except ImportError as exc:
        raise ManneError(f"{INSTALL} ({exc.name} is missing)") from exc
    return pythonosc


def _number(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise Malformed(f"{what}={v!r} must be a finite number")
    return float(v)


def _whole(v: Any, what: str) -> int:
    x = _number(v, what)
    if x != int(x):
        raise Malformed(f"{what}={v!r} must be a whole number")
    return int(x)


def _switch(v: Any, what: str) -> bool:
    if isinstance(v, bool):
        return v
    return _number(v, what) >= 0.5


def _clip(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))


def _args(args: list, n: int | tuple[int, ...], address: str) -> None:
    counts = (n,) if isinstance(n, int) else n
    if len(args) not in counts:
        want = " or ".join(str(c) for c in counts)
        raise Malformed(f"{address} takes {want} argument{'s' if counts != (1,) else ''}, got {len(args)}")


class _ParseLog(logging.Filter):
    """Takes what python-osc logs (through the root logger) while this thread parses a datagram for
    :meth:`OscIn.handle_datagram`: kept in ``parsing.problems`` instead of printed."""

    def __init__(self, parsing: threading.local, package: str):
        super().__init__()
        self.parsing, self.package = parsing, package

    def filter(self, record: logging.LogRecord) -> bool:
        problems = getattr(self.parsing, "problems", None)
        if problems is None or not record.pathname.startswith(self.package):
            return True  # not ours: logged as usual
        problems.append(record.getMessage())
        return False


class OscIn:
    """An OSC server playing ``session`` from its own thread until :meth:`close`.

    Parameters
    ----------
    session : Session
    host : str, the address to listen on (127.0.0.1: this computer only)
    port : int, the UDP port (0 picks a free one: see :attr:`port`)

    Raises
    ------
    ManneError
        Without python-osc (the pip command), or when the port cannot be bound (in use, not allowed).
    """

    def __init__(self, session: Session, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT):
        pythonosc = require()
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ParameterError(f"OSC port {port!r} must be from 0 to 65535")
        self.session = session
        self._parse = pythonosc.osc_packet
        self._parsing = threading.local()
        self._log_filter = _ParseLog(self._parsing, os.path.dirname(pythonosc.__file__))
        osc = self

        class Server(pythonosc.osc_server.BlockingOSCUDPServer):
            def verify_request(self, request, client_address) -> bool:
                osc.handle_datagram(request[0])  # every datagram is counted here, OSC or not
                return False  # so the library's own dispatch never runs

        try:
            self._server = Server((host, port), dispatcher=None)
        except (OSError, OverflowError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            raise ManneError(f"cannot listen for OSC on {host}:{port}: {why} (choose another with --osc PORT)") from exc
        logging.getLogger().addFilter(self._log_filter)  # (removed by close)
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="manne-osc", daemon=True)
        self._thread.start()

    def describe(self) -> str:
        """``"OSC in: udp 127.0.0.1:9000 (/manne/...)"``."""
        return f"OSC in: udp {self.host}:{self.port} ({PREFIX}...)"

    def handle_datagram(self, data: bytes) -> int:
        """Parse one UDP datagram and play its messages; returns how many were played. Never raises."""
        if not data:
            self.session.count("osc_malformed", "OSC: an empty datagram")
            return 0
        self._parsing.problems = []
        try:
            messages = [m.message for m in self._parse.OscPacket(data).messages]
        except Exception as exc:  # noqa: BLE001 - ParseError, and anything a broken datagram provokes
            self.session.count("osc_malformed", f"OSC: not an OSC packet ({type(exc).__name__})")
            return 0
        finally:
            problems, self._parsing.problems = self._parsing.problems, None
        for problem in problems:  # (a bundle element skipped: the rest still plays)
            self.session.count("osc_malformed", f"OSC: {problem[:80]}")
        played = 0
        for msg in messages:
            played += self.handle(msg.address, list(msg.params))
        return played

    def handle(self, address: str, args: list) -> int:
        """Play one OSC message; 1 if played, 0 if counted as malformed. Never raises."""
        try:
            self._dispatch(address, args)
        except (Malformed, ParameterError) as exc:
            self.session.count("osc_malformed", f"OSC {address}: {exc}")
            return 0
        except Exception as exc:  # noqa: BLE001 - whatever a sender does, the server goes on
            self.session.count("osc_malformed", f"OSC {address}: {type(exc).__name__}: {exc}")
            return 0
        self.session.count("osc")
        return 1

    def _dispatch(self, address: str, args: list) -> None:
        s = self.session
        if not isinstance(address, str) or not address.startswith(PREFIX):
            raise Malformed(f"unknown address (manne's start with {PREFIX})")
        name = address[len(PREFIX):]
        if name.startswith("z/"):
            _args(args, 1, address)
            if not name[2:].isdigit():
                raise Malformed(f"slider index {name[2:]!r} must be a number from 1 to {self.session.latent}")
            return self._z_at(int(name[2:]), args[0])
        if name == "note_on":
            _args(args, (1, 2), address)
            velocity = _whole(args[1], "velocity") if len(args) == 2 else 100
            return s.note_on(_whole(args[0], "note"), velocity)
        if name == "note_off":
            _args(args, 1, address)
            return s.note_off(_whole(args[0], "note"))
        if name == "z":
            return self._z(args, address)
        if name == "volume":
            _args(args, 1, address)
            return s.set_volume(_clip(_number(args[0], "volume"), 0.0, 1.0))
        if name == "bend":
            _args(args, 1, address)
            return s.pitch_bend(_clip(_number(args[0], "bend"), -1.0, 1.0))
        if name == "pedal":
            _args(args, 1, address)
            return s.sustain(_switch(args[0], "pedal"))
        if name == "hold":
            _args(args, 1, address)
            return s.set_hold(_switch(args[0], "hold"))
        if name == "method":
            _args(args, 1, address)
            if args[0] not in METHODS:
                raise Malformed(f"method {args[0]!r} must be one of {', '.join(METHODS)}")
            return s.set_method(args[0])
        if name == "preset":
            _args(args, 1, address)
            if not isinstance(args[0], str) or not args[0]:
                raise Malformed(f"preset path {args[0]!r} must be a string")
            s.load_preset(args[0])
            return None
        if name == "all_off":
            _args(args, 0, address)
            return s.all_off()
        raise Malformed(f"unknown address; manne's are {', '.join(PREFIX + a for a in ADDRESSES)}")

    def _z(self, args: list, address: str) -> None:
        d = self.session.latent
        if len(args) == 2 and (d != 2 or (isinstance(args[0], int) and not isinstance(args[0], bool))):
            return self._z_at(_whole(args[0], "index"), args[1])
        if len(args) != d:
            raise Malformed(f"{address} takes index value, or {d} values (one per neuron); got {len(args)} arguments")
        self.session.move_sliders([_number(v, f"z{i + 1}") for i, v in enumerate(args)])  # clipped to the range

    def _z_at(self, index: int, value: Any) -> None:
        d = self.session.latent
        if not 1 <= index <= d:
            raise Malformed(f"slider index {index} must be from 1 to {d} (z1 is 1)")
        self.session.move_slider(index - 1, _number(value, f"z{index}"))  # clipped to the range

    def close(self) -> None:
        """Stop the server and free the port. Safe to call twice."""
        logging.getLogger().removeFilter(self._log_filter)
        server, self._server = getattr(self, "_server", None), None
        if server is not None:
            server.shutdown()
            server.server_close()
            self._thread.join(timeout=2)

    def __enter__(self) -> "OscIn":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
