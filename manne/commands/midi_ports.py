"""``manne midi-ports``: list the MIDI inputs that ``manne synth --midi PORT`` can play from."""

from __future__ import annotations

import argparse

from manne.control.midi import APIS


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("midi-ports", help="list MIDI inputs",
                       description="List the MIDI inputs (keyboards, controllers, other programs' outputs) of every MIDI "
                       "system that starts (ALSA, JACK, CoreMIDI, WinMM). Pass an index or part of a name to "
                       "`manne synth --midi`. Needs the control extra: pip install -e '.[control]'.")
    p.add_argument("--api", choices=sorted(APIS), help="list one MIDI system only")
    return p


def run(args) -> int:
    from manne.control.midi import input_ports

    ports, problems = input_ports(args.api)
    names = {v: k.upper() for k, v in APIS.items()}
    if ports:
        print("MIDI inputs (for `manne synth --midi INDEX|NAME`):")
        for i, (api, name) in enumerate(ports):
            print(f"  {i:3d}  {name}  ({names.get(api, api)})")
    else:
        print("no MIDI inputs; `manne synth --midi` opens a virtual input named 'manne' that other programs can connect to")
    for problem in problems:
        print(f"  (not available: {problem})")
    return 0
