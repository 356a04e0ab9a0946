"""The ``manne`` command line: one subcommand per module in :mod:`manne.commands`.

Each command module defines ``add_parser(subparsers)`` and ``run(args) -> int`` and imports its
heavy dependencies (TensorFlow, Tk, PyAudio, matplotlib) inside ``run`` only, so ``manne --help``
and argument errors answer at once. A :class:`~manne.errors.ManneError` prints one line to stderr
and exits with status 2; ``--debug`` shows the traceback instead. Ctrl-C exits with status 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from manne import __version__
from manne.errors import ManneError

COMMANDS = ("corpus", "train", "evaluate", "synth", "render", "devices", "plot", "mesh", "experiments", "bench")


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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
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
        print(f"manne {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
