"""``manne bench train CORPUS``: training throughput, peak memory and time to the paper's quality.

1. The reference: the paper's schedule (8 neurons, Adam 5e-4, batch 200, constant rate) for
   ``--reference-epochs`` epochs (300 in the paper). Its best validation MSE is the *target*.
   Pass ``--reference DIR`` to reuse a finished reference run instead of training it again.
2. Candidates: faster schedules, each trained until validation MSE reaches the target (or
   ``--budget-minutes`` runs out). Reported: training seconds to the target, epochs, test MSE
   (which must be no worse than the reference's), frames per second and peak memory.

Measured here (2 shared cores, ``corpora/synth1-bench.npz``, 11,140 training frames): the paper's
schedule reached its best validation MSE 3.114e-4 at epoch 281 (test 2.213e-4) in 33.7 min under
load (about 16.5 min at the unloaded 3.3 s an epoch); ``b200-lr2e-3-plateau``, now the default,
reached 3.2e-4 at epoch 84 and its best, 3.161e-4, at epoch 90 (test 2.204e-4): 5.8 min on the
otherwise idle machine, early-stopped at 7.2 min, never reaching 3.114e-4 itself;
``b1000-lr3e-3-plateau`` stalled at 3.69e-4.

Each run is a ``manne train`` subprocess so its peak memory (``ru_maxrss`` from ``os.wait4``)
is its own. Figures go to stdout and, with ``-o``, to a JSON file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from manne.errors import ModelError, ParameterError
from manne.io.files import write_json

# name -> manne train options; "paper" is the reference schedule
CANDIDATES = {
    "paper": ["--batch", "200", "--lr", "5e-4", "--schedule", "constant"],
    "b200-lr2e-3-plateau": ["--batch", "200", "--lr", "2e-3", "--schedule", "plateau", "--patience", "20"],
    "b200-lr1e-3": ["--batch", "200", "--lr", "1e-3", "--schedule", "constant"],
    "b500-lr3e-3-plateau": ["--batch", "500", "--lr", "3e-3", "--schedule", "plateau", "--patience", "20"],
    "b1000-lr3e-3-plateau": ["--batch", "1000", "--lr", "3e-3", "--schedule", "plateau", "--patience", "10"],
}


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("train", help="training speed, memory and time to the paper's validation MSE",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", help="corpus file (the paper used ~18k frames, e.g. the one-octave synth corpus)")
    p.add_argument("--reference", help="a finished reference run (model dir with history.csv) to reuse")
    p.add_argument("--reference-epochs", type=int, default=300, help="epochs of the paper schedule (default 300)")
    p.add_argument("--candidates", nargs="*", default=[c for c in CANDIDATES if c != "paper"],
                   help=f"schedules to try (default all): {', '.join(c for c in CANDIDATES if c != 'paper')}")
    p.add_argument("--budget-minutes", type=float, default=15.0, help="time limit per candidate (default 15)")
    p.add_argument("--latent", type=int, default=8, help="bottleneck neurons (default 8, the paper's model)")
    p.add_argument("--workdir", default="trained/bench", help="where the runs' model directories go")
    p.add_argument("-o", "--output", help="write the figures as JSON here too")
    return p


def _train(corpus: str, out: Path, opts: list[str], *, latent: int) -> dict:
    cmd = [sys.executable, "-m", "manne.cli", "train", corpus, "-o", str(out), "--latent", str(latent), "--force", "-q", *opts]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        last = err.strip().splitlines()[-1] if err.strip() else f"exit status {os.waitstatus_to_exitcode(status)}"
        raise ModelError(f"`{' '.join(cmd)}` failed: {last}")
    res = _read_run(out)
    res.update({"wall_seconds": round(wall, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "options": " ".join(opts)})
    return res


def _read_run(out: Path) -> dict:
    """A finished run's metrics and history; ModelError naming the file if one is missing or damaged."""
    from manne.model.modeldir import read_history, read_metrics

    metrics = read_metrics(out)
    if metrics.get("test_mse") is None:
        raise ModelError(f"{out / 'metrics.json'}: no test MSE (the corpus has no test frames)")
    history = read_history(out / "history.csv")
    if not history:
        raise ModelError(f"{out / 'history.csv'}: no epochs")
    return {"metrics": metrics, "history": history, "dir": str(out)}


def time_to(history: list[dict], target: float) -> tuple[float | None, int | None]:
    """Cumulative training seconds and epoch at which validation MSE first reached ``target``."""
    total = 0.0
    for h in history:
        total += h["seconds"]
        if h["val_mse"] <= target:
            return total, int(h["epoch"])
    return None, None


def run(args) -> int:
    import math

    from manne.corpus import load_corpus

    unknown = [c for c in args.candidates if c not in CANDIDATES]
    if unknown:
        raise ParameterError(f"unknown candidate {unknown[0]!r}; choose from {', '.join(CANDIDATES)}")
    ref = None
    if args.reference:  # a damaged reference stops the benchmark before anything is loaded
        ref = _read_run(Path(args.reference))
        ref.update({"wall_seconds": None, "peak_rss_mb": None, "options": "(reused)"})
    corpus = load_corpus(args.corpus)
    n_train = len(corpus.indices("train"))
    print(f"corpus {args.corpus}: {corpus.n_frames} frames ({n_train} train), {len(corpus.sources)} files")
    del corpus
    work = Path(args.workdir)
    if ref is None:
        print(f"reference: the paper's schedule for {args.reference_epochs} epochs (this is the slow part)")
        ref = _train(args.corpus, work / "paper", CANDIDATES["paper"] + ["--epochs", str(args.reference_epochs)], latent=args.latent)
    target = min((h["val_mse"] for h in ref["history"] if not math.isnan(h["val_mse"])), default=None)
    if target is None:
        raise ModelError(f"{ref['dir']}/history.csv has no validation MSE (its corpus has no validation frames)")
    ref_t, ref_epoch = time_to(ref["history"], target)
    results = {"paper": {**ref, "to_target_seconds": ref_t, "to_target_epoch": ref_epoch}}
    print(f"target: validation MSE {target:.4e} (paper schedule, epoch {ref_epoch}, {ref_t / 60:.1f} min of training)")
    budget = args.budget_minutes
    for name in args.candidates:
        print(f"candidate {name} (budget {budget:.1f} min) ...", flush=True)
        res = _train(args.corpus, work / name, CANDIDATES[name] + ["--epochs", "1000", "--target-mse", repr(target),
                                                                    "--max-minutes", f"{budget:.2f}"], latent=args.latent)
        t, ep = time_to(res["history"], target)
        results[name] = {**res, "to_target_seconds": t, "to_target_epoch": ep}
        print(f"  {'not reached' if t is None else f'{t / 60:.2f} min, epoch {ep}'}; test MSE {res['metrics']['test_mse']:.4e}", flush=True)
        if t is not None:  # a slower candidate cannot win: stop it at the best time so far
            budget = min(budget, t / 60 + 0.05)
    print(_table(results, ref["metrics"]["test_mse"]))
    if args.output:
        slim = {k: {kk: vv for kk, vv in v.items() if kk != "history"} for k, v in results.items()}
        write_json(args.output, {"target_val_mse": target, "runs": slim})
    return 0


def _table(results: dict, ref_test: float) -> str:
    rows = ["| schedule | to target (min) | epochs | test MSE | vs paper | frames/s | peak RSS (MB) |",
            "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        m = r["metrics"]
        t = r["to_target_seconds"]
        rows.append(
            f"| {name} | {'not reached' if t is None else f'{t / 60:.2f}'} | {r['to_target_epoch'] or m['epochs']} | "
            f"{m['test_mse']:.4e} | {m['test_mse'] / ref_test:.3f}x | {m['frames_per_second'] or 0:.0f} | "
            f"{r['peak_rss_mb'] or '-'} |"
        )
    return "\n".join(rows)
