"""Control of the instrument from outside: a Tk-free session holding the synth's state, MIDI and OSC in.

- :mod:`manne.control.session`: :class:`~manne.control.session.Session`, the state the window, MIDI and OSC share;
- :mod:`manne.control.midi`: MIDI in (``mido`` + ``python-rtmidi``), port listing, MIDI learn;
- :mod:`manne.control.osc`: OSC in (``python-osc``), the ``/manne/...`` address space.

This module adds the command line's ``--midi``/``--osc`` options and opens what they ask for; it
imports neither mido nor python-osc until an input is opened.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from manne.control.session import Session

__all__ = ["add_options", "check_options", "open_inputs"]

OSC_DEFAULT_PORT = 9000  # manne.control.osc.DEFAULT_PORT, without importing it at parse time
OSC_DEFAULT_HOST = "127.0.0.1"


def add_options(p: argparse.ArgumentParser) -> None:
    """Add ``--midi [PORT]``, ``--midi-api``, ``--osc [PORT]`` and ``--osc-host`` to a command."""
    g = p.add_argument_group("MIDI and OSC in (pip install -e '.[control]')")
    g.add_argument("--midi", nargs="?", const="", metavar="PORT",
                   help="play from MIDI: a port's index or part of its name (see `manne midi-ports`); without PORT the "
                   "first input, or a virtual input 'manne' when there is none; 'virtual' always opens the virtual input")
    g.add_argument("--midi-api", choices=("alsa", "jack", "coremidi", "winmm"),
                   help="MIDI system to use (default: each in turn, ALSA before JACK)")
    g.add_argument("--osc", nargs="?", type=int, const=OSC_DEFAULT_PORT, metavar="PORT",
                   help=f"listen for OSC /manne/... messages on UDP PORT (default {OSC_DEFAULT_PORT}); see the README")
    g.add_argument("--osc-host", default=OSC_DEFAULT_HOST, metavar="HOST",
                   help=f"address to listen on (default {OSC_DEFAULT_HOST}, this computer only; 0.0.0.0 lets anyone on "
                   "the network play the synth)")


def check_options(args) -> None:
    """Before anything heavy loads: the packages the options need (one line with the pip command) and the port's range."""
    from manne.errors import ParameterError

    if getattr(args, "midi", None) is not None:
        from manne.control.midi import require

        require()
    if getattr(args, "osc", None) is not None:
        from manne.control.osc import require

        require()
        if not 0 <= args.osc <= 65535:
            raise ParameterError(f"--osc {args.osc} must be a UDP port from 0 to 65535")


def open_inputs(session: Session, args) -> list:
    """Open the MIDI input and OSC server ``args`` ask for, playing ``session``; each has ``describe()`` and ``close()``.

    Raises
    ------
    ManneError
        If one cannot open (what was opened before it is closed again).
    """
    opened = []
    try:
        if getattr(args, "midi", None) is not None:
            from manne.control.midi import MidiIn

            port = args.midi.strip() or None
            virtual = port is not None and port.lower() == "virtual"
            opened.append(MidiIn(session, None if virtual else port, virtual=virtual, api=args.midi_api))
        if getattr(args, "osc", None) is not None:
            from manne.control.osc import OscIn

            opened.append(OscIn(session, host=args.osc_host, port=args.osc))
    except BaseException:
        for x in opened:
            x.close()
        raise
    return opened
