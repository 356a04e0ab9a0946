"""``manne bench train|synth|fidelity``: benchmarks that print figures (speed and memory targets live here, not in tests)."""

from __future__ import annotations

import argparse
import importlib


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("bench", help="benchmarks: training speed, synth latency, timbre fidelity",
                       description="Benchmarks that print figures. See `manne bench train -h`, `manne bench synth -h` and `manne bench fidelity -h`.")
    which = p.add_subparsers(dest="which", metavar="WHICH")
    which.required = True
    for name in ("train", "synth", "fidelity"):
        module = importlib.import_module(f"..benchmarks.{name}", __package__)
        q = module.add_parser(which)
        q.set_defaults(bench=module.run)
    return p


def run(args) -> int:
    return int(args.bench(args) or 0)
