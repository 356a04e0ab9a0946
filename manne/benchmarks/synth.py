"""``manne bench train``: placeholder until the training benchmark lands."""

from __future__ import annotations


def add_parser(sub):
    return sub.add_parser("synth", help="real-time synth benchmark")


def run(args) -> int:
    print("not yet")
    return 0
