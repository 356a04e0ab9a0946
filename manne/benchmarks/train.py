"""``manne bench train CORPUS``: the figures of issue 15 (train in minutes, at any size).

1. Throughput: manne's input pipeline against a bare ``model.fit`` of the same network on in-memory
   arrays, alternating epochs in one process (:mod:`manne.benchmarks.throughput`): frames per
   second, CPU seconds per 1,000 frames and system-time share.
2. Time to quality: the reference is 300 epochs of manne 0.2's schedule (Adam 2e-3 halved on
   plateaus, batch 200; ``--reference DIR`` reuses a finished one); the target is its best
   validation MSE plus 10 %. Then ``manne train`` with the defaults: the training seconds until its
   validation MSE first reached the target, its whole wall time, and its best against the reference.
3. Size: ``--sizes AUDIO_A AUDIO_B`` (two folders of audio, say 5 and 45 minutes or one twice the
   other): peak anonymous memory (``RssAnon`` of the command and its workers,
   :mod:`manne.benchmarks.memory`) of ``manne corpus`` and of two epochs of ``manne train`` on each,
   and the growth from one to the other.

Every run is a child process (its own memory, its own TensorFlow). Figures go to stdout and, with
``-o``, to a JSON file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from manne.errors import ModelError
from manne.io.files import write_json

# manne 0.2's default schedule, run for all its epochs: the quality the new default must approach
REFERENCE = ["--schedule", "plateau", "--batch", "200", "--lr", "2e-3", "--patience", "0"]
WITHIN = 0.10  # the target: the reference's best validation MSE plus 10 %


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("train", help="training throughput, time to the 300-epoch quality, memory at two sizes",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", help="corpus file (the issue's: about 4,000 training frames of one instrument)")
    p.add_argument("--reference", help="a finished reference run (model dir with history.csv) to reuse")
    p.add_argument("--reference-epochs", type=int, default=300, help="epochs of the reference (default 300)")
    p.add_argument("--throughput-epochs", type=int, default=3, help="epochs of each feed (default 3)")
    p.add_argument("--sizes", nargs=2, metavar="AUDIO", help="two folders of audio for the memory figures")
    p.add_argument("--skip", nargs="*", default=[], choices=("throughput", "quality"), help="figures to leave out")
    p.add_argument("--workdir", default="trained/bench", help="where the runs' models and corpora go")
    p.add_argument("-o", "--output", help="write the figures as JSON here too")
    return p


def _manne(*argv) -> list[str]:
    return [sys.executable, "-m", "manne.cli", *[str(a) for a in argv]]


def _run(cmd: list[str], env: dict | None = None) -> dict:
    from manne.benchmarks.memory import run_measured

    res = run_measured(cmd, env=env)
    if res["returncode"] != 0:
        err = res["stderr"].strip().splitlines()
        last = err[-1] if err else f"exit status {res['returncode']}"
        raise ModelError(f"`{' '.join(cmd)}` failed: {last}")
    return res


def _train(corpus: str, out: Path, opts: list[str]) -> dict:
    res = _run(_manne("train", corpus, "-o", out, "--force", "-q", *opts))
    return {**_read_run(out), "wall_seconds": round(res["wall_s"], 1), "peak_anon_mb": round(res["peak_anon_mb"], 1),
            "user_s": round(res["user_s"], 1), "system_s": round(res["system_s"], 1), "options": " ".join(opts)}


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
    ref = None
    if args.reference:  # a damaged reference stops the benchmark before anything is loaded
        ref = _read_run(Path(args.reference))
        ref.update({"wall_seconds": None, "peak_anon_mb": None, "options": "(reused)"})
    from manne.corpus import load_corpus

    corpus = load_corpus(args.corpus)
    n_train = len(corpus.indices("train"))
    print(f"corpus {args.corpus}: {corpus.n_frames} frames ({n_train} train), {len(corpus.sources)} files", flush=True)
    del corpus
    work = Path(args.workdir)
    figures: dict = {}
    if "throughput" not in args.skip:
        figures["throughput"] = tp = _throughput(args.corpus, args.throughput_epochs)
        b, m = tp["bare"], tp["manne"]
        print(f"throughput (batch {tp['batch']}, {tp['epochs']} epochs each, alternating):\n"
              f"  bare model.fit on arrays: {b['frames_per_s']:.0f} frames/s, {b['cpu_s_per_1000']:.2f} CPU s per 1000 frames, "
              f"system {100 * b['system_share_cpu']:.1f} % of CPU ({100 * b['system_share_wall']:.1f} % of wall)\n"
              f"  manne (tf.data, mapped):  {m['frames_per_s']:.0f} frames/s, {m['cpu_s_per_1000']:.2f} CPU s per 1000 frames, "
              f"system {100 * m['system_share_cpu']:.1f} % of CPU ({100 * m['system_share_wall']:.1f} % of wall)\n"
              f"  ratio manne / bare: {m['frames_per_s'] / b['frames_per_s']:.2f}x (wall), "
              f"{b['cpu_s_per_1000'] / m['cpu_s_per_1000']:.2f}x (CPU)", flush=True)
    if "quality" not in args.skip:
        figures["quality"] = _quality(args, ref, work)
    if args.sizes:
        figures["sizes"] = _sizes(args.sizes, work)
    if args.output:
        write_json(args.output, figures)
    return 0


def _throughput(corpus: str, epochs: int) -> dict:
    res = _run([sys.executable, "-m", "manne.benchmarks.throughput", corpus, "--epochs", str(epochs)])
    return json.loads(res["stdout"].strip().splitlines()[-1])


def _quality(args, ref: dict | None, work: Path) -> dict:
    if ref is None:
        print(f"reference: manne 0.2's schedule for {args.reference_epochs} epochs (the slow part) ...", flush=True)
        ref = _train(args.corpus, work / "reference", [*REFERENCE, "--epochs", str(args.reference_epochs)])
    best = min((h["val_mse"] for h in ref["history"] if not math.isnan(h["val_mse"])), default=None)
    if best is None:
        raise ModelError(f"{ref['dir']}/history.csv has no validation MSE (its corpus has no validation frames)")
    target = (1 + WITHIN) * best
    ref_t, ref_epoch = time_to(ref["history"], target)
    ref_total = sum(h["seconds"] for h in ref["history"])
    print(f"reference: best validation MSE {best:.4e} in {len(ref['history'])} epochs, {ref_total / 60:.1f} min of training; "
          f"target {target:.4e} (+{100 * WITHIN:.0f} %), which it reached at epoch {ref_epoch} ({(ref_t or 0) / 60:.1f} min)",
          flush=True)
    run = _train(args.corpus, work / "default", [])
    t, ep = time_to(run["history"], target)
    m = run["metrics"]
    mine = min(h["val_mse"] for h in run["history"])
    print(f"default schedule: {len(run['history'])} epochs ({m.get('stopped')}), {run['wall_seconds'] / 60:.2f} min of wall "
          f"time for the whole command; reached the target "
          f"{'never' if t is None else f'after {t / 60:.2f} min of training (epoch {ep})'}; best validation MSE "
          f"{mine:.4e} = {mine / best:.3f}x the reference's; test MSE {m['test_mse']:.4e} "
          f"(reference {ref['metrics']['test_mse']:.4e}); {m['frames_per_second'] or 0:.0f} frames/s; "
          f"system {run['system_s']:.0f} s of {run['user_s'] + run['system_s']:.0f} s CPU", flush=True)
    slim = {k: v for k, v in run.items() if k != "history"}
    return {"reference_best": best, "target": target, "reference_seconds": ref_total, "reference_to_target_s": ref_t,
            "default": slim, "default_to_target_s": t, "default_best": mine}


def _sizes(folders: list[str], work: Path) -> dict:
    out = {}
    for i, folder in enumerate(folders):
        corpus = work / f"size{i}.npz"
        build = _run(_manne("corpus", folder, "-o", corpus, "--force", "-q"))
        # the XLA training step, as a long run of either corpus takes it (two epochs of the smaller one
        # would stay under its threshold): the same path at both sizes, and the larger memory of the two
        train = _run(_manne("train", corpus, "-o", work / f"size{i}", "--force", "-q", "--epochs", "2"),
                     env={**os.environ, "MANNE_XLA": "1"})
        from manne.corpus import load_corpus

        c = load_corpus(corpus)
        out[folder] = {"minutes": c.meta.get("seconds", 0) / 60, "frames": c.n_frames,
                       "file_mb": corpus.stat().st_size / 1e6, "build_s": build["wall_s"],
                       "build_peak_anon_mb": build["peak_anon_mb"], "train_peak_anon_mb": train["peak_anon_mb"]}
        del c
        r = out[folder]
        print(f"{folder}: {r['minutes']:.1f} min of audio, {r['frames']} frames ({r['file_mb']:.0f} MB): "
              f"build {r['build_s']:.0f} s, peak RssAnon {r['build_peak_anon_mb']:.0f} MB; "
              f"training (2 epochs) peak RssAnon {r['train_peak_anon_mb']:.0f} MB", flush=True)
    a, b = out.values()
    grow = {k: b[k] / a[k] - 1 for k in ("build_peak_anon_mb", "train_peak_anon_mb")}
    print(f"growth for {b['minutes'] / a['minutes']:.2f}x the audio: build {100 * grow['build_peak_anon_mb']:+.0f} %, "
          f"training {100 * grow['train_peak_anon_mb']:+.0f} %")
    return {"runs": out, "growth": grow}
