"""``manne devices``: list the audio output devices, then the input devices (defaults marked with ``*``)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    return sub.add_parser("devices", help="list audio output devices",
                          description="List the output devices PortAudio finds; `*` marks the default. "
                          "Pass an index or part of a name to --device of `manne synth` (inputs: to --input, live timbre transfer).")


def run(args) -> int:
    from manne.synth.stream import list_devices, no_device_error

    devices = list_devices("output")
    if not devices:
        raise no_device_error()
    _print("output devices (* = default):", devices)
    inputs = list_devices("input")
    if inputs:
        _print("input devices (* = default; for `manne synth --input`):", inputs)
    return 0


def _print(title: str, devices: list[dict]) -> None:
    width = max(len(d["name"]) for d in devices)
    print(title)
    for d in devices:
        mark = "*" if d["default"] else " "
        print(f"  {mark} {d['index']:3d}  {d['name']:<{width}}  {d['host_api']:<8} "
              f"{d['channels']:3d} ch  {d['default_rate']:.0f} Hz")
