"""``manne experiments --corpus NAME=PATH ... -o results/DIR``: the paper's Tables I-V on your corpora."""

from __future__ import annotations

import argparse
import shlex
import sys

from manne.model.config import TrainConfig
from manne.inspect.experiments import CONFIGS  # light: the configuration table only

_T = TrainConfig()


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("experiments", help="train the paper's configurations on corpora and write a report",
                       description="Train the configurations of the paper's Tables I-IV (8 neurons with each input "
                       "augmentation; 2 neurons, sigmoid and leaky-ReLU bottleneck, with and without the skip "
                       "connection; 3 neurons with and without skip) on each corpus, measure test MSE, training "
                       "time and mesh accuracy, and write OUT/report.md. Complete runs are reused and interrupted "
                       "ones resumed, so the command can be stopped and run again.")
    p.add_argument("--corpus", action="append", required=True, metavar="NAME=PATH",
                   help="a corpus file and its short name (repeat for several corpora)")
    p.add_argument("-o", "--output", required=True, help="results folder (models/, plots/, report.md, results.csv)")
    p.add_argument("--configs", nargs="+", metavar="CONFIG",
                   help=f"run only these configurations or tables (I, II, III, IV); configurations: {', '.join(CONFIGS)}")
    p.add_argument("--epochs", type=int, default=_T.epochs, help=f"epochs per run (default {_T.epochs})")
    p.add_argument("--batch", type=int, default=_T.batch, help=f"batch size (default {_T.batch})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--max-width", type=int, default=1024, help="widest hidden layer (default 1024; small for quick runs)")
    p.add_argument("--points", type=int, default=50, help="mesh grid values per neuron for 2-neuron models (default 50)")
    p.add_argument("--points-3d", type=int, default=20, help="mesh grid values per neuron for 3-neuron models (default 20)")
    p.add_argument("--force", action="store_true", help="retrain runs whose model directory is already complete")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    return p


def command_line(args) -> str:
    """The command as typed when run as ``manne``, else the equivalent with every option spelled out."""
    argv = sys.argv
    if argv and argv[0].endswith("manne") and "experiments" in argv[1:]:
        return shlex.join(["manne"] + argv[1:])
    parts = ["manne", "experiments"]
    for c in args.corpus:
        parts += ["--corpus", c]
    parts += ["-o", args.output]
    if args.configs:
        parts += ["--configs", *args.configs]
    parts += ["--epochs", str(args.epochs), "--batch", str(args.batch), "--seed", str(args.seed),
              "--max-width", str(args.max_width), "--points", str(args.points), "--points-3d", str(args.points_3d)]
    if args.force:
        parts.append("--force")
    return shlex.join(parts)


def run(args) -> int:
    from manne.inspect.experiments import parse_corpus_args, run_experiments, select_configs
    from manne.inspect.plots import use_agg

    corpora = parse_corpus_args(args.corpus)
    configs = select_configs(args.configs)
    use_agg()
    results = run_experiments(corpora, args.output, configs=configs, epochs=args.epochs, batch=args.batch,
                              seed=args.seed, max_width=args.max_width, points=args.points, points_3d=args.points_3d,
                              force=args.force, progress=not args.quiet, command=command_line(args))
    print(f"{len(results)} runs; wrote {args.output}/report.md")
    if len(results) < len(corpora) * len(configs):  # Ctrl-C stopped a run (its best model is kept)
        print("manne experiments: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    return 0
