"""The ``manne`` command line: one subcommand per module in :mod:`manne.commands`.

Each command module defines ``add_parser(subparsers)`` and ``run(args) -> int`` and imports its
heavy dependencies (TensorFlow, Tk, PyAudio, matplotlib) inside ``run`` only, so ``manne --help``
and argument errors answer at once. A :class:`~manne.errors.ManneError` prints one line to stderr
and exits with status 2; ``--debug`` shows the traceback instead; an ``OSError`` (a full disk, a
folder that cannot be written: every ``-o`` is checked before the command starts) prints the
system's words naming the path and exits with status 1. Ctrl-C exits with status 130.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import re
import sys
import traceback

from manne import __version__
from manne.errors import ManneError
from manne.io.files import check_writable

# module names in manne.commands, in help order (a module may name its subcommand otherwise: midi_ports -> midi-ports)
COMMANDS = ("corpus", "train", "evaluate", "synth", "render", "devices", "midi_ports", "plot", "mesh", "experiments",
            "landmarks", "map", "morph", "transfer", "descriptors", "follow", "encode", "bench")


# what to do about the system errors a user meets most (the output itself is never left half written)
_HINTS = {errno.ENOSPC: "; free some space and run it again",
          errno.EDQUOT: "; free some space and run it again",
          errno.EFBIG: "; the file is larger than this system allows (see `ulimit -f`)"}


def _modules():
    for name in COMMANDS:
        try:
            yield importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.commands.{name}":
                raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="manne", description="Train and play neural timbre models of your own recordings.")
    parser.add_argument("--version", action="version", version=f"manne {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in _modules():
        p = module.add_parser(sub)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show full tracebacks on errors")
        p.set_defaults(run=module.run)
    return parser


# a comma-separated list whose first value is negative ("-0.3,0,1"): argparse would take it for an option
_NEGATIVE_LIST = re.compile(r"^-(\d|\.\d|inf|nan)[^,]*,", re.IGNORECASE)


def negative_lists(argv: list[str]) -> list[str]:
    """``--offset -0.3,0`` as ``--offset=-0.3,0``, so a list of numbers may start with a negative one
    (argparse reads a value that starts with ``-`` as an option unless it is one plain number)."""
    out, i = [], 0
    while i < len(argv):
        if argv[i].startswith("--") and "=" not in argv[i] and i + 1 < len(argv) and _NEGATIVE_LIST.match(argv[i + 1]):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    try:  # (Ctrl-C while the command modules load: no traceback either)
        parser = build_parser()
    except KeyboardInterrupt:
        print("manne: interrupted", file=sys.stderr)
        return 130
    args = parser.parse_args(negative_lists(list(sys.argv[1:] if argv is None else argv)))
    try:
        if getattr(args, "output", None):  # every -o: a folder that cannot take it fails now, not after the work
            check_writable(args.output, folder=os.path.isdir(args.output))
        return int(args.run(args) or 0)
    except ManneError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"manne {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"manne {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # permissions, a full disk, a path that is a file: the system's words, one line
        if args.debug:
            traceback.print_exc()
        where = f"{exc.filename}: " if exc.filename else ""
        hint = _HINTS.get(exc.errno, "")
        print(f"manne {args.command}: error: {where}{exc.strerror or exc}{hint}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
